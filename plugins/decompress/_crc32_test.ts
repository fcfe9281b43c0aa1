import assert from "node:assert/strict";
import { crc32, CRC_TABLE } from "./_crc32.ts";

/** The bitwise definition, to check zlib's against. */
function reference(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

Deno.test("crc32: the standard check value of '123456789'", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

Deno.test("crc32: agrees with the table, continues a running CRC, reads views and shared memory", () => {
  const data = new Uint8Array(70_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  assert.equal(crc32(data), reference(data));
  assert.equal(crc32(data.subarray(1000), crc32(data.subarray(0, 1000))), crc32(data));
  assert.equal(crc32(data.subarray(5, 77)), reference(data.subarray(5, 77)));
  const shared = new Uint8Array(new SharedArrayBuffer(300));
  shared.set(data.subarray(0, 300));
  assert.equal(crc32(shared), reference(data.subarray(0, 300)));
});
