/**
 * `dumps()`: stoQ's JSON encoding (`helpers.dumps`). Bytes become text, sets become arrays, dates
 * become strings, and the compact form uses Python's `", "` and `": "` separators.
 *
 * @module
 */

const utf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("windows-1252");

/** Options of `dumps()`. */
export interface DumpsOptions {
  /** Spaces per level; 0 means one line (default 4). */
  indent?: number;
  /** One line with `", "` and `": "` separators, whatever `indent` says. */
  compactly?: boolean;
}

/**
 * Encode a value as JSON the way stoQ does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dumps } from "./dumps.ts";
 * assert.equal(dumps({ a: 1, b: 2 }, { compactly: true }), '{"a": 1, "b": 2}');
 * assert.equal(dumps(new TextEncoder().encode("hi猫"), { compactly: true }), '"hi猫"');
 * ```
 */
export function dumps(value: unknown, options: DumpsOptions = {}): string {
  const indent = options.compactly ? 0 : (options.indent ?? 4);
  const plain = toPlain(value, new Set());
  if (indent > 0) return JSON.stringify(plain, null, indent) ?? "null";
  return compact(plain);
}

/**
 * Decode bytes to text: UTF-8 when valid, Windows-1252 otherwise (what UnicodeDammit mostly guesses).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBytes } from "./dumps.ts";
 * assert.equal(decodeBytes(new Uint8Array([0x68, 0x69, 0xe7, 0x8c, 0xab])), "hi猫");
 * assert.equal(decodeBytes(new Uint8Array([0x63, 0x61, 0x66, 0xe9])), "café");
 * ```
 */
export function decodeBytes(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return latin1.decode(bytes);
  }
}

function toPlain(value: unknown, seen: Set<object>): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return value.toString();
  if (typeof value !== "object") {
    return typeof value === "function" || typeof value === "symbol" ? String(value) : value;
  }
  if (value instanceof Uint8Array) return decodeBytes(value);
  if (value instanceof ArrayBuffer) return decodeBytes(new Uint8Array(value));
  if (value instanceof Date) return value.toISOString();
  if (seen.has(value)) throw new TypeError("Cannot encode a circular structure as JSON");
  seen.add(value);
  try {
    const withToJSON = value as { toJSON?: () => unknown };
    if (typeof withToJSON.toJSON === "function") return toPlain(withToJSON.toJSON(), seen);
    if (value instanceof Set || Array.isArray(value)) {
      return [...value].map((item) => toPlain(item, seen));
    }
    if (value instanceof Map) {
      return Object.fromEntries([...value].map(([k, v]) => [String(k), toPlain(v, seen)]));
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) out[key] = toPlain(item, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

function compact(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(compact).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const items = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${compact(v)}`);
    return `{${items.join(", ")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
