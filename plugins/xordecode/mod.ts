/**
 * xordecode: rolling-XOR decode a payload into one extracted payload, as stoQ's public `xordecode`
 * worker does. The key comes from the dispatch metadata (the first `xorkey` found at any depth of
 * `payload.dispatchMeta`, which the yara dispatcher fills from a rule's meta), else from the
 * `xorkey` option. Without a key the plugin does nothing.
 *
 * @module
 */
import { z } from "zod";
import { definePlugin } from "../../plugin_api.ts";

/** Why a key could not be read. */
export class XorKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

function byteValue(text: string, raw: unknown): number {
  const value = /^0x[0-9a-f]+$/i.test(text)
    ? parseInt(text, 16)
    : /^\d+$/.test(text)
    ? Number(text)
    : NaN;
  if (!Number.isInteger(value) || value < 0 || value > 255) {
    throw new XorKeyError(`Invalid XOR key ${JSON.stringify(raw)}: "${text}" is not a byte value`);
  }
  return value;
}

/** Python's `repr(bytes)` (`b'AB'`, `b'\x01\n'`), as stoQ's yara plugin passed multi-byte keys. */
function pythonBytes(body: string, raw: unknown): number[] {
  const out: number[] = [];
  const escapes: Record<string, number> = {
    n: 10,
    r: 13,
    t: 9,
    "\\": 92,
    "'": 39,
    '"': 34,
    "0": 0,
  };
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== "\\") {
      out.push(body.charCodeAt(i));
      continue;
    }
    const next = body[++i];
    if (next === "x") {
      out.push(byteValue(`0x${body.slice(i + 1, i + 3)}`, raw));
      i += 2;
    } else if (next in escapes) out.push(escapes[next]);
    else {throw new XorKeyError(
        `Invalid XOR key ${JSON.stringify(raw)}: unknown escape "\\${next}"`,
      );}
  }
  return out;
}

/**
 * A key as a list of byte values, from what a dispatcher or an operator gives: a number, a list of
 * numbers, a comma list (`"1,2"`, `"0x41, 0x42"`), or Python's `repr(bytes)` (`"b'AB'"`).
 * Returns null for no key (null, empty); throws `XorKeyError` for anything else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseXorKey } from "./mod.ts";
 * assert.deepEqual(parseXorKey("1, 0x02"), [1, 2]);
 * assert.deepEqual(parseXorKey(65), [65]);
 * assert.deepEqual(parseXorKey("b'A\\x01'"), [65, 1]);
 * assert.equal(parseXorKey(""), null);
 * ```
 */
export function parseXorKey(raw: unknown): number[] | null {
  if (raw === null || raw === undefined || raw === "" || raw === false) return null;
  let key: number[];
  if (typeof raw === "number") key = [byteValue(String(raw), raw)];
  else if (Array.isArray(raw)) key = raw.map((item) => byteValue(String(item).trim(), raw));
  else if (raw instanceof Uint8Array) key = [...raw];
  else if (typeof raw === "string") {
    const text = raw.trim();
    const bytes = /^b(['"])(.*)\1$/s.exec(text);
    key = bytes
      ? pythonBytes(bytes[2], raw)
      : text.split(",").map((part) => byteValue(part.trim(), raw));
  } else {
    throw new XorKeyError(`Invalid XOR key ${JSON.stringify(raw)}: not a number, list or string`);
  }
  if (key.length === 0) return null;
  return key;
}

/** The first value under a key named `xorkey`, depth first, as dpath's `**\/xorkey` finds it. */
export function findXorKey(meta: unknown, depth = 0): unknown {
  if (meta === null || typeof meta !== "object" || depth > 32) return undefined;
  if (!Array.isArray(meta) && "xorkey" in meta) return (meta as Record<string, unknown>).xorkey;
  for (const value of Object.values(meta)) {
    const found = findXorKey(value, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** XOR `content` with `key`, repeating the key. */
export function xorDecode(content: Uint8Array, key: readonly number[]): Uint8Array {
  const out = new Uint8Array(content.length);
  for (let i = 0, k = 0; i < content.length; i++) {
    out[i] = content[i] ^ key[k];
    k = k + 1 === key.length ? 0 : k + 1;
  }
  return out;
}

/** The xordecode plugin. */
export default definePlugin({
  options: z.object({ xorkey: z.string().default("") }),
  setup({ options }) {
    // A bad operator key is a configuration error: fail at load, not per payload.
    const fallback = parseXorKey(options.xorkey);
    return {
      scan: function decodeXor(payload) {
        const found = findXorKey(payload.dispatchMeta);
        let key: number[] | null;
        try {
          key = found === undefined ? fallback : parseXorKey(found) ?? fallback;
        } catch (error) {
          if (error instanceof XorKeyError) return { errors: [error.message] };
          throw error;
        }
        if (key === null) return;
        return {
          extracted: [{
            content: xorDecode(payload.content, key),
            payloadMeta: { extraData: { xorkey: key } },
          }],
        };
      },
    };
  },
});
