import assert from "node:assert/strict";
import { packCall, unpackCall } from "./protocol.ts";
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
