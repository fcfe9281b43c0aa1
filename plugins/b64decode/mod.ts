/**
 * b64decode: base64-decode a payload into one extracted payload, as stoQ's public `b64decode`
 * worker does. Bytes outside the base64 alphabet (line breaks, spaces, quotes) are skipped; the
 * data ends at the first `=`; a missing final padding is tolerated.
 *
 * @module
 */
import { definePlugin } from "../../plugin_api.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const VALUES = (() => {
  const values = new Int16Array(256).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) values[ALPHABET.charCodeAt(i)] = i;
  return values;
})();
const PAD = 0x3d;

/** Why `b64decode()` could not decode. */
export class Base64Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/**
 * Decode base64 the way stoQ's plugin does: drop every byte outside `A-Za-z0-9+/=`, stop at the
 * first `=` (what follows padding is not decoded, as stoQ stops at the block holding it), and
 * decode a final group of 2 or 3 characters as if padded. Throws `Base64Error` when the data
 * leaves a single dangling character, which no padding can make valid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { b64decode } from "./mod.ts";
 * const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
 * assert.equal(text(b64decode(new TextEncoder().encode("VGhlIHF1aWNr\nIGJyb3du"))), "The quick brown");
 * assert.equal(text(b64decode(new TextEncoder().encode("Zm94"))), "fox");
 * ```
 */
export function b64decode(content: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor((content.length * 3) / 4) + 3);
  let length = 0;
  let buffer = 0;
  let bits = 0;
  let chars = 0;
  for (let i = 0; i < content.length; i++) {
    const byte = content[i];
    if (byte === PAD) break;
    const value = VALUES[byte];
    if (value < 0) continue;
    buffer = (buffer << 6) | value;
    bits += 6;
    chars++;
    if (bits >= 8) {
      bits -= 8;
      out[length++] = (buffer >> bits) & 0xff;
      buffer &= (1 << bits) - 1;
    }
  }
  if (chars % 4 === 1) {
    throw new Base64Error(
      `Cannot decode base64: ${chars} characters leave 1 dangling character`,
    );
  }
  return out.slice(0, length);
}

/** The b64decode plugin. */
export default definePlugin({
  setup() {
    return {
      scan: function decodeBase64(payload) {
        try {
          return { extracted: [{ content: b64decode(payload.content) }] };
        } catch (error) {
          if (error instanceof Base64Error) return { errors: [error.message] };
          throw error;
        }
      },
    };
  },
});
