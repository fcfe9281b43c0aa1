import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Extraction, LimitExceeded } from "./_extraction.ts";

const LIMITS = {
  maximumSize: 1000,
  maximumTotalSize: 10_000,
  maximumMembers: 10,
  maximumRatio: 100,
  ratioThreshold: 1 << 20,
};

Deno.test("Sink copies a chunk its decoder may write again, and keeps one handed over", () => {
  const extraction = new Extraction("test", LIMITS);
  const reused = new Uint8Array([1, 2, 3]);
  const copied = extraction.sink({ path: "a", packed: 3 });
  copied.push(reused);
  reused.fill(9); // the decoder's next output
  assert.deepEqual([...copied.bytes()], [1, 2, 3]);

  const fresh = new Uint8Array([4, 5]);
  const kept = extraction.sink({ path: "b", packed: 2 });
  kept.push(fresh, true);
  assert.equal(kept.bytes(), fresh);

  const joined = extraction.sink({ path: "c", packed: 5 });
  joined.push(new Uint8Array([1, 2]), true);
  joined.push(new Uint8Array([3, 4, 5]).subarray(1));
  assert.deepEqual([...joined.bytes()], [1, 2, 4, 5]);
});

Deno.test("Sink refuses output past maximum_size, owned or not", () => {
  const extraction = new Extraction("test", LIMITS);
  const sink = extraction.sink({ path: "big", packed: 100 });
  sink.push(new Uint8Array(600), true);
  assert.throws(() => sink.push(new Uint8Array(600), true), LimitExceeded);
  assert.ok(sink.refused);
  assert.throws(() => sink.push(new Uint8Array(1)), LimitExceeded);
  assert.equal(extraction.errors.length, 1);
});

Deno.test("Extraction.add keeps members' bytes in a buffer of their own", () => {
  const extraction = new Extraction("test", LIMITS);
  const whole = new Uint8Array([1, 2, 3]);
  const archive = new Uint8Array([0, 1, 2, 3, 4, 5]);
  // Small outputs of node:zlib are Buffers cut from one shared pool.
  const pooled = Buffer.from([7, 8]);
  // Others are Buffers over a buffer of their own: kept, not copied.
  const large = Buffer.alloc(512, 5);
  extraction.add({ path: "whole", content: whole });
  extraction.add({ path: "part", content: archive.subarray(2, 4) });
  extraction.add({ path: "pooled", content: pooled });
  extraction.add({ path: "large", content: large });
  const [first, second, third, fourth] = extraction.members.map((m) => m.content);
  assert.equal(first, whole);
  assert.equal(fourth.constructor, Uint8Array);
  assert.equal(fourth.buffer, large.buffer, "the same memory, not a copy");
  assert.equal(fourth.byteLength, 512);
  for (const [content, expected] of [[second, [2, 3]], [third, [7, 8]]] as const) {
    assert.equal(content.constructor, Uint8Array);
    assert.equal(content.byteOffset, 0);
    assert.equal(content.buffer.byteLength, content.byteLength);
    assert.deepEqual([...content], expected);
  }
});
