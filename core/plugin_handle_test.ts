import assert from "node:assert/strict";
import { packPayload } from "./plugin_handle.ts";
import { Payload } from "./payload.ts";
import { Request, RequestMeta } from "./request.ts";
import { packedFields, payloadCall } from "./sandbox/protocol.ts";

function payloads(): Payload[] {
  const plain = new Payload("plain");
  const busy = new Payload("busy", {
    payloadMeta: { shouldArchive: false, extraData: { filename: "a.zip" }, dispatchTo: ["x"] },
    extractedBy: "decompress",
    extractedFrom: "p0",
  });
  busy.results.pluginsRun.workers.push("hash");
  busy.results.pluginsRun.archivers.push("filedir");
  busy.results.workers.hash = { md5: "…" };
  busy.results.archivers.filedir = { path: "/x" };
  busy.dispatchMeta = { yara: { rule: "r" } };
  return [plain, busy];
}

Deno.test("a packed payload call stands for the request the plugin sees of the payload alone", () => {
  const metas = [
    new RequestMeta(),
    new RequestMeta({ archivePayloads: false, source: "dirmon", extraData: { tlp: "amber" } }),
  ];
  for (const requestMeta of metas) {
    for (const payload of payloads()) {
      const request = new Request({ payloads: [payload], requestMeta });
      for (const method of ["scan", "getDispatches", "getDeepDispatches", "archive"] as const) {
        const call = payloadCall(packPayload(method, payload, request, payload.content));
        assert.equal(call.method, method);
        assert.ok(packedFields(call));
        assert.deepEqual((call as { request: unknown }).request, {
          payloads: [{
            content: payload.content,
            dispatch_meta: payload.dispatchMeta,
            results: payload.results.toJSON(),
          }],
          request_meta: requestMeta.toJSON(),
          errors: [],
          index: 0,
        });
      }
    }
  }
  assert.equal(packedFields({ method: "heartbeat" }), undefined);
});

Deno.test("a packed payload call holds copies of the lists and records a plugin could change", () => {
  const [, payload] = payloads();
  const packed = packPayload(
    "scan",
    payload,
    new Request({ payloads: [payload] }),
    payload.content,
  );
  packed.pluginsRun!.workers.push("evil");
  packed.extractedBy!.push("evil");
  packed.extractedFrom!.push("evil");
  packed.workers!.evil = 1;
  packed.archivers!.evil = 1;
  assert.deepEqual(payload.results.pluginsRun.workers, ["hash"]);
  assert.deepEqual(payload.results.extractedBy, ["decompress"]);
  assert.deepEqual(payload.results.extractedFrom, ["p0"]);
  assert.deepEqual(Object.keys(payload.results.workers), ["hash"]);
  assert.deepEqual(Object.keys(payload.results.archivers), ["filedir"]);
});
