import assert from "node:assert/strict";
import { decodeBytes, dumps } from "./dumps.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("dumps() writes a compact object with Python's separators", () => {
  assert.equal(dumps({ a: 1, b: 2 }, { compactly: true }), '{"a": 1, "b": 2}');
});

Deno.test("dumps() nests the compact separators inside arrays and objects", () => {
  assert.equal(
    dumps({ a: [1, "x", null], b: { c: true } }, { compactly: true }),
    '{"a": [1, "x", null], "b": {"c": true}}',
  );
});

Deno.test("dumps() treats an indent of 0 as compact", () => {
  assert.equal(dumps({ a: 1, b: [2, 3] }, { indent: 0 }), '{"a": 1, "b": [2, 3]}');
});

Deno.test("dumps() indents by 4 spaces by default", () => {
  assert.equal(dumps({ a: [1] }), '{\n    "a": [\n        1\n    ]\n}');
});

Deno.test("dumps() lets compactly win over an explicit indent", () => {
  assert.equal(dumps({ a: 1 }, { indent: 2, compactly: true }), '{"a": 1}');
});

Deno.test("dumps() decodes UTF-8 bytes to text", () => {
  assert.equal(dumps(bytes(0x68, 0x69, 0xe7, 0x8c, 0xab), { compactly: true }), '"hi猫"');
  assert.equal(
    dumps({ v: new TextEncoder().encode("value") }, { compactly: true }),
    '{"v": "value"}',
  );
});

Deno.test("dumps() keeps non-ASCII text unescaped, as ensure_ascii=False does", () => {
  assert.equal(dumps(["猫", "é"], { compactly: true }), '["猫", "é"]');
});

Deno.test("dumps() decodes bytes that are not UTF-8 as Windows-1252", () => {
  assert.equal(dumps(bytes(0x68, 0x69, 0xe9, 0x80), { compactly: true }), '"hié€"');
});

Deno.test("dumps() decodes an ArrayBuffer like bytes", () => {
  assert.equal(dumps(bytes(0x6f, 0x6b).buffer, { compactly: true }), '"ok"');
});

Deno.test("decodeBytes() returns UTF-8 text when the bytes are valid UTF-8", () => {
  assert.equal(decodeBytes(bytes(0xe7, 0x8c, 0xab)), "猫");
});

Deno.test("decodeBytes() falls back to Windows-1252 on invalid UTF-8", () => {
  // 0xe7 0x8c alone is a truncated UTF-8 sequence: "ç" and "Œ" in Windows-1252.
  assert.equal(decodeBytes(bytes(0xe7, 0x8c)), "çŒ");
});

Deno.test("dumps() writes a set as a list", () => {
  assert.equal(dumps(new Set(["a", "b"]), { compactly: true }), '["a", "b"]');
});

Deno.test("dumps() writes a map as an object with string keys", () => {
  assert.equal(
    dumps(new Map<unknown, number>([[1, 2], ["k", 3]]), { compactly: true }),
    '{"1": 2, "k": 3}',
  );
});

Deno.test("dumps() writes a date as a string", () => {
  assert.equal(
    dumps(new Date(Date.UTC(2026, 10, 22, 6, 40, 44, 527))),
    '"2026-11-22T06:40:44.527Z"',
  );
});

Deno.test("dumps() uses an object's toJSON()", () => {
  const value = { secret: 1, toJSON: () => ({ shown: 2 }) };
  assert.equal(dumps(value, { compactly: true }), '{"shown": 2}');
});

Deno.test("dumps() writes a class instance's own fields", () => {
  class Thing {
    name = "x";
    size = 3;
  }
  assert.equal(dumps(new Thing(), { compactly: true }), '{"name": "x", "size": 3}');
});

Deno.test("dumps() drops undefined fields and writes top-level undefined as null", () => {
  assert.equal(dumps({ a: undefined, b: 1 }, { compactly: true }), '{"b": 1}');
  assert.equal(dumps(undefined), "null");
});

Deno.test("dumps() writes a bigint as its decimal text", () => {
  assert.equal(
    dumps({ n: 12345678901234567890n }, { compactly: true }),
    '{"n": "12345678901234567890"}',
  );
});

Deno.test("dumps() serialises every stoQ helper type to non-empty JSON", () => {
  class Arbitrary {
    field = "value";
  }
  const values = [[1, 2], { a: 1 }, new Set([1]), new Date(0), bytes(0x61), new Arbitrary()];
  for (const value of values) {
    const text = dumps(value);
    assert.ok(text.length > 2, `${text} is empty`);
    JSON.parse(text);
  }
});

Deno.test("dumps() writes an object referenced twice (not a cycle) twice", () => {
  const shared = { x: 1 };
  assert.equal(dumps([shared, shared], { compactly: true }), '[{"x": 1}, {"x": 1}]');
});

Deno.test("dumps() throws TypeError on a circular structure", () => {
  const loop: Record<string, unknown> = { a: 1 };
  loop.self = loop;
  assert.throws(() => dumps(loop), TypeError);
  const list: unknown[] = [];
  list.push({ list });
  assert.throws(() => dumps(list, { compactly: true }), TypeError);
});
