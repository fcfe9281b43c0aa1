/**
 * XOR key recovery for the dispatcher: YARA's `xor` modifier finds XOR-ed text but does not say
 * with which key, so the key is recovered from the plaintext a rule gives in its meta.
 *
 * @module
 */

/** `[offset, string identifier, key bytes]` for each string match whose key could be recovered. */
export type XorInfo = [number, string, number[]];

/**
 * Recover the repeating XOR key of each matched string that has a known plaintext: the shortest
 * key that, repeated, turns the plaintext into the matched bytes. As in stoQ, a key as long as the
 * plaintext (no repetition) is not a key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { xorInfo } from "./_xor.ts";
 * const plain = new TextEncoder().encode("This program");
 * const matched = plain.map((b) => b ^ 0x15);
 * assert.deepEqual(xorInfo([[7, "$p", matched]], new Map([["$p", plain]])), [[7, "$p", [0x15]]]);
 * ```
 */
export function xorInfo(
  strings: [number, string, Uint8Array][],
  plaintexts: Map<string, Uint8Array>,
): XorInfo[] {
  const out: XorInfo[] = [];
  for (const [offset, identifier, bytes] of strings) {
    const plain = plaintexts.get(identifier);
    if (!plain || plain.length !== bytes.length) continue;
    const key = repeatingKey(plain.map((b, i) => b ^ bytes[i]));
    if (key) out.push([offset, identifier, key]);
  }
  return out;
}

function repeatingKey(stream: Uint8Array): number[] | null {
  for (let size = 1; size < stream.length; size++) {
    if (stream.every((b, i) => b === stream[i % size])) return [...stream.subarray(0, size)];
  }
  return null;
}
