/**
 * The hash plugin's golden inputs, generated deterministically (xorshift32), so that the recorded
 * outputs of md5sum, sha1sum, sha256sum and sha512sum can be checked without committing the bytes.
 *
 * @module
 */

/** Bytes from a xorshift32 generator. */
export function pseudoRandom(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** The inputs by name. */
export function inputs(): Record<string, Uint8Array> {
  const text = new TextEncoder();
  return {
    empty: new Uint8Array(0),
    fox: text.encode("The quick brown fox"),
    one_byte: new Uint8Array([0]),
    block_55: pseudoRandom(55, 1),
    block_56: pseudoRandom(56, 2),
    block_64: pseudoRandom(64, 3),
    block_127: pseudoRandom(127, 4),
    kib_4: pseudoRandom(4096, 5),
    mib_1_plus_1: pseudoRandom((1 << 20) + 1, 6),
    zeros_1_mib: new Uint8Array(1 << 20),
  };
}
