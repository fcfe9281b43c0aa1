/**
 * CRC-32 (IEEE), as zip and gzip use it.
 *
 * @module
 */
import zlib from "node:zlib";

/** The CRC-32 lookup table. */
export const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32 of some bytes, continuing from `crc` (the CRC of what came before): zlib's, about 20
 * times faster than a table in JavaScript (5 ms against 100 ms for 50 MiB).
 */
export function crc32(data: Uint8Array, crc = 0): number {
  return zlib.crc32(data, crc);
}
