import assert from "node:assert/strict";
import {
  batchCalls,
  type CallBatch,
  COPY_ALONE,
  inspectValue,
  packCall,
  type PackedCall,
  unbatchCalls,
  unpackCall,
} from "./protocol.ts";
import type { RequestWire } from "./protocol.ts";

function wire(overrides: Partial<RequestWire> = {}): RequestWire {
  return {
    payloads: [{
      content: new Uint8Array([1, 2, 3]),
      dispatch_meta: {},
      results: {
        size: 3,
        payload_id: "p1",
        payload_meta: { should_archive: true, should_scan: true, extra_data: {}, dispatch_to: [] },
        plugins_run: { workers: [], archivers: [] },
        extracted_from: [],
        extracted_by: [],
        workers: {},
        archivers: {},
      },
    }],
    request_meta: { archive_payloads: true, source: null, extra_data: {} },
    errors: [],
    index: 0,
    ...overrides,
  };
}

Deno.test("a call about one payload packs without its default fields and unpacks to the same call", () => {
  const message = {
    type: "call" as const,
    id: 7,
    call: { method: "scan" as const, request: wire() },
  };
  const packed = packCall(message);
  assert.deepEqual(packed, {
    type: "packed",
    id: 7,
    method: "scan",
    size: 3,
    payloadId: "p1",
    content: new Uint8Array([1, 2, 3]),
  });
  assert.deepEqual(unpackCall(packed!), message);
});

Deno.test("every field that differs from its default survives packing", () => {
  const request = wire({
    request_meta: { archive_payloads: false, source: "dirmon", extra_data: { tlp: "amber" } },
  });
  const payload = request.payloads[0];
  payload.dispatch_meta = { yara: { rule: "x" } };
  payload.results.payload_meta = {
    should_archive: false,
    should_scan: true,
    extra_data: { filename: "a.zip" },
    dispatch_to: ["decompress"],
  };
  payload.results.plugins_run = { workers: ["hash"], archivers: ["filedir"] };
  payload.results.extracted_from = ["p0"];
  payload.results.extracted_by = ["decompress"];
  payload.results.workers = { hash: { md5: "…" } };
  payload.results.archivers = { filedir: { path: "/x" } };
  for (const method of ["scan", "getDispatches", "getDeepDispatches", "archive"] as const) {
    const message = { type: "call" as const, id: 1, call: { method, request } };
    assert.deepEqual(unpackCall(packCall(message)!), message);
  }
  // One field at a time away from its default is kept too.
  const scanOnly = wire();
  scanOnly.payloads[0].results.payload_meta.should_scan = false;
  const message = {
    type: "call" as const,
    id: 2,
    call: { method: "scan" as const, request: scanOnly },
  };
  assert.deepEqual(unpackCall(packCall(message)!), message);
});

Deno.test("calls that are not about one payload alone are sent as they are", () => {
  const two = wire();
  two.payloads.push({ ...two.payloads[0], content: undefined });
  const cases = [
    { method: "scan" as const, request: two },
    { method: "scan" as const, request: wire({ index: 1 }) },
    {
      method: "scan" as const,
      request: wire({ errors: [{ error: "e", plugin_name: null, payload_id: null, kind: "x" }] }),
    },
    { method: "heartbeat" as const },
    { method: "ingest" as const },
  ];
  for (const call of cases) assert.equal(packCall({ type: "call", id: 1, call }), undefined);
});

/** A packed call about payload `p<id>`, with three bytes of its own unless `fields` says. */
function call(id: number, fields: Partial<PackedCall> = {}): PackedCall {
  const made: PackedCall = {
    type: "packed",
    id,
    method: "scan",
    size: 3,
    payloadId: `p${id}`,
    content: new Uint8Array([id, id + 1, id + 2]),
    ...fields,
  };
  if (made.content === undefined) delete made.content;
  return made;
}

Deno.test("runs of packed calls go as one batch of JSON and bytes, in order, and come back the same", () => {
  const meta = (extra: Record<string, unknown>) => ({
    should_archive: true,
    should_scan: false,
    extra_data: extra,
    dispatch_to: ["x"],
  });
  // Plugins' data that JSON carries unchanged goes in the batch with the call.
  const withMeta = call(3, {
    payloadMeta: meta({ filename: "a.zip", nested: [1, "two", null, { three: true }] }),
    workers: { hash: { md5: "x" }, yara: { matches: [{ rule: "r", strings: [] }] } },
    archivers: { filedir: { path: "/x" } },
    dispatchMeta: { yara: { rule: "r" } },
    requestMeta: { archive_payloads: false, source: "s", extra_data: { tlp: "red" } },
  });
  // A value JSON would change (bytes, undefined, -0) keeps its call out of the batch.
  const withBytes = call(7, { payloadMeta: meta({ key: new Uint8Array([1]) }) });
  const withUndefined = call(8, { dispatchMeta: { yara: undefined } });
  const withMinusZero = call(9, { workers: { entropy: { entropy: -0 } } });
  const shared = new Uint8Array(new SharedArrayBuffer(3));
  const messages = [
    call(1),
    call(2, {
      content: undefined,
      method: "getDispatches",
      pluginsRun: { workers: ["hash"], archivers: [] },
      extractedFrom: ["p0"],
      extractedBy: ["decompress"],
    }),
    withMeta,
    { type: "put-ack" as const, id: 9 },
    call(4, { content: new Uint8Array(0) }),
    call(5, { content: shared }),
    call(6, { content: new Uint8Array([7, 8, 9, 10]).subarray(1, 3) }),
    withBytes,
    withUndefined,
    withMinusZero,
  ];
  const { messages: sent, transfer } = batchCalls(messages, { shareContent: true });
  assert.deepEqual(sent.map((m) => m.type), [
    "calls",
    "put-ack",
    "calls",
    "packed",
    "calls",
    "packed",
    "packed",
    "packed",
  ]);
  assert.equal(sent[3], messages[5]); // a call whose bytes are in shared memory goes as it is
  assert.deepEqual(sent.slice(5), [withBytes, withUndefined, withMinusZero]);
  assert.equal(transfer.length, 3);
  const batches = sent.filter((m): m is CallBatch => m.type === "calls");
  assert.deepEqual(batches.map((b) => b.bytes), transfer);
  const back = batches.flatMap(unbatchCalls);
  assert.deepEqual(back, [
    messages[0],
    messages[1],
    withMeta,
    messages[4],
    call(6, { content: new Uint8Array([8, 9]) }),
  ]);
  // Each call's bytes are a view into its batch's buffer, not a copy.
  const buffers = new Set<ArrayBufferLike>(batches.map((b) => b.bytes));
  for (const c of back) {
    if (c.content && c.content.byteLength > 0) assert.ok(buffers.has(c.content.buffer));
  }
});

Deno.test("batchCalls() copies shared bytes for a plugin that does not share them, and large bytes once", () => {
  const small = new Uint8Array(new SharedArrayBuffer(3));
  small.set([1, 2, 3]);
  const big = new Uint8Array(new SharedArrayBuffer(COPY_ALONE));
  big.fill(7);
  const private_ = new Uint8Array(COPY_ALONE + 10).fill(9).subarray(10);
  const withBytes = { yara: { strings: [[0, "$a", new Uint8Array([80, 75])]] } };
  const messages = [
    call(1, { content: small }),
    call(2, { content: big }),
    call(3, { content: private_ }),
    call(4, { content: new Uint8Array([4]), dispatchMeta: withBytes }),
  ];
  const before = structuredClone(messages);

  // Not shared: small shared bytes are copied into the batch, large ones go alone as a copy of
  // their own, transferred; small private bytes with a value JSON would change go as they are.
  const copied = batchCalls(messages);
  assert.deepEqual(copied.messages.map((m) => m.type), ["calls", "packed", "packed", "packed"]);
  const [batch, two, three, four] = copied.messages as [
    CallBatch,
    PackedCall,
    PackedCall,
    PackedCall,
  ];
  assert.deepEqual(unbatchCalls(batch), [call(1)]);
  for (const [sent, original] of [[two, big], [three, private_]] as const) {
    assert.ok(sent.content!.buffer instanceof ArrayBuffer);
    assert.notEqual(sent.content!.buffer, original.buffer);
    assert.equal(sent.content!.byteLength, sent.content!.buffer.byteLength);
    assert.deepEqual([...sent.content!], [...original]);
  }
  assert.equal(four, messages[3]);
  assert.deepEqual(copied.transfer, [batch.bytes, two.content!.buffer, three.content!.buffer]);
  // The calls given are unchanged: one sent again (to another instance) still has its bytes.
  assert.deepEqual(messages, before);
  assert.equal(messages[1].content, big);

  // Shared: shared bytes go as they are, whatever their size; large private bytes are still copied.
  const shared = batchCalls(messages, { shareContent: true });
  assert.deepEqual(shared.messages.map((m) => m.type), ["packed", "packed", "packed", "packed"]);
  assert.equal(shared.messages[0], messages[0]);
  assert.equal(shared.messages[1], messages[1]);
  assert.notEqual((shared.messages[2] as PackedCall).content!.buffer, private_.buffer);
  assert.equal(shared.transfer.length, 1);
});

Deno.test("inspectValue() finds the buffers to transfer and tells what JSON would carry unchanged", () => {
  const whole = new Uint8Array([1, 2]);
  const part = new Uint8Array(8).subarray(2, 4);
  assert.deepEqual(inspectValue({ a: [whole, { b: part }], c: whole }), {
    buffers: [whole.buffer],
    json: false,
  });
  const plain = [
    undefined,
    null,
    "x",
    { a: 1, b: [true, null, "s", 2.5], c: { d: {} } },
    Object.assign(Object.create(null), { a: 1 }),
  ];
  for (const value of plain) assert.equal(inspectValue(value).json, true, JSON.stringify(value));
  const shared = { x: 1 };
  const deep: Record<string, unknown> = {};
  let at = deep;
  for (let i = 0; i < 70; i++) at = (at.next = {}) as Record<string, unknown>;
  const withProperty = Object.assign([1, 2], { note: "kept by a clone, dropped by JSON" });
  const notPlain = [
    withProperty,
    Array.from({ length: 1025 }, () => 1),
    { a: undefined },
    [1, undefined],
    // deno-lint-ignore no-sparse-arrays
    [1, , 2],
    { n: -0 },
    { n: NaN },
    { n: Infinity },
    { n: 1n },
    { d: new Date(0) },
    { m: new Map() },
    { f: () => 1 },
    { a: shared, b: shared },
    deep,
  ];
  for (const value of notPlain) assert.equal(inspectValue(value).json, false);
});
