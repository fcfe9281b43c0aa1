import assert from "node:assert/strict";
import { ExtractedPayload, Payload, PayloadMeta, PayloadResults } from "./payload.ts";
import { Request, RequestMeta } from "./request.ts";
import {
  ArchiverResponse,
  DecoratorResponse,
  DispatcherResponse,
  StoqResponse,
  WorkerResponse,
} from "./response.ts";
import { ScanError } from "./scan_error.ts";

const ROOT_ID = "b365cef3-775e-41c4-9173-9d4c2453645e";
const CHILD_ID = "67b40e56-2ac9-4398-ba07-d5c923c635fc";
const SCAN_ID = "689f80ca-7833-4ee3-9086-c3a7882e5685";
const TIME = "2026-11-22T06:40:44.527954";
const FOX_HASHES = {
  md5: "a2004f37730b9445670a738fa0fc9ee5",
  sha1: "c519c1a06cdbeb2bc499e22137fb48683858b345",
  sha256: "5cac4f980fedc3d3f1f99b4be3472c9b30d56523e632d151237ec9309048bda9",
};
const LOREM_HASHES = {
  md5: "0956d2fbd5d5c29844a4d21ed2f76e0c",
  sha1: "94912be8b3fb47d4161ea50e5948c6296af6ca05",
  sha256: "a9a66978f378456c818fb8a3e7c6ad3d2c83e62724ccbdea7b36253fb8df5edd",
};

/** The state of the spec's "Full StoqResponse example" at the end of its scan. */
function exampleRequest(): Request {
  const root = new Payload("The quick brown fox", {
    payloadId: ROOT_ID,
    payloadMeta: { extraData: { filename: "fox.txt" } },
  });
  root.results.pluginsRun.workers.push("hash", "simple_worker");
  root.results.pluginsRun.archivers.push("simple_archiver");
  root.results.workers.hash = { ...FOX_HASHES };
  root.results.workers.simple_worker = { valuable_insight: "wow" };
  root.results.archivers.simple_archiver = { file_save_id: 12345 };
  const child = new Payload("Lorem ipsum", {
    payloadId: CHILD_ID,
    payloadMeta: { dispatchTo: ["dummy_worker"] },
    extractedBy: "simple_worker",
    extractedFrom: ROOT_ID,
  });
  child.results.pluginsRun.workers.push("dummy_worker", "hash");
  child.results.pluginsRun.archivers.push("simple_archiver");
  child.results.workers.hash = { ...LOREM_HASHES };
  child.results.archivers.simple_archiver = { file_save_id: 12345 };
  const error = new ScanError("Worker plugin missing_worker failed to load: boom", {
    pluginName: "missing_worker",
    payloadId: ROOT_ID,
    kind: "plugin_load",
  });
  return new Request({
    payloads: [root, child],
    requestMeta: new RequestMeta({ source: "example", extraData: { ticket: 42 } }),
    errors: [error],
  });
}

function exampleResponse(): StoqResponse {
  return new StoqResponse(exampleRequest(), {
    time: TIME,
    decorators: { simple_decorator: { simple_decoration: 123 } },
    scanId: SCAN_ID,
  });
}

Deno.test("StoqResponse.toJSON() matches stoQ's verified example, plus each error's kind", () => {
  assert.deepEqual(exampleResponse().toJSON(), {
    results: [
      {
        size: 19,
        payload_id: ROOT_ID,
        payload_meta: {
          should_archive: true,
          should_scan: true,
          extra_data: { filename: "fox.txt" },
          dispatch_to: [],
        },
        plugins_run: { workers: ["hash", "simple_worker"], archivers: ["simple_archiver"] },
        extracted_from: [],
        extracted_by: [],
        workers: { hash: FOX_HASHES, simple_worker: { valuable_insight: "wow" } },
        archivers: { simple_archiver: { file_save_id: 12345 } },
      },
      {
        size: 11,
        payload_id: CHILD_ID,
        payload_meta: {
          should_archive: true,
          should_scan: true,
          extra_data: {},
          dispatch_to: ["dummy_worker"],
        },
        plugins_run: { workers: ["dummy_worker", "hash"], archivers: ["simple_archiver"] },
        extracted_from: [ROOT_ID],
        extracted_by: ["simple_worker"],
        workers: { hash: LOREM_HASHES },
        archivers: { simple_archiver: { file_save_id: 12345 } },
      },
    ],
    request_meta: { archive_payloads: true, source: "example", extra_data: { ticket: 42 } },
    errors: [
      {
        error: "Worker plugin missing_worker failed to load: boom",
        plugin_name: "missing_worker",
        payload_id: ROOT_ID,
        kind: "plugin_load",
      },
    ],
    time: TIME,
    decorators: { simple_decorator: { simple_decoration: 123 } },
    scan_id: SCAN_ID,
  });
});

Deno.test("StoqResponse.toJSON() writes keys in stoQ's order at every level", () => {
  const json = exampleResponse().toJSON();
  assert.deepEqual(Object.keys(json), [
    "results",
    "request_meta",
    "errors",
    "time",
    "decorators",
    "scan_id",
  ]);
  assert.deepEqual(Object.keys(json.results[0]), [
    "size",
    "payload_id",
    "payload_meta",
    "plugins_run",
    "extracted_from",
    "extracted_by",
    "workers",
    "archivers",
  ]);
  assert.deepEqual(Object.keys(json.results[0].payload_meta), [
    "should_archive",
    "should_scan",
    "extra_data",
    "dispatch_to",
  ]);
  assert.deepEqual(Object.keys(json.request_meta), ["archive_payloads", "source", "extra_data"]);
  assert.deepEqual(Object.keys(json.errors[0]), ["error", "plugin_name", "payload_id", "kind"]);
});

Deno.test("StoqResponse() shares the payloads' results objects and the request's errors list", () => {
  const request = exampleRequest();
  const response = new StoqResponse(request);
  assert.equal(response.results[0], request.payloads[0].results);
  assert.equal(response.results[1], request.payloads[1].results);
  assert.equal(response.requestMeta, request.requestMeta);
  assert.equal(response.errors, request.errors);
  request.errors.push(new ScanError("late"));
  assert.equal(response.toJSON().errors.length, 2);
});

Deno.test("StoqResponse() defaults to a new scan id, no decorators and a local ISO time", () => {
  const response = new StoqResponse(new Request({ payloads: [new Payload("x")] }));
  assert.match(
    response.scanId,
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  assert.notEqual(new StoqResponse(new Request()).scanId, response.scanId);
  assert.deepEqual(response.decorators, {});
  // datetime.now().isoformat(): local time, microseconds, no zone.
  assert.match(response.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
});

Deno.test("StoqResponse.toString() is indent-4 JSON that parses to the toJSON() object", () => {
  const response = exampleResponse();
  const text = response.toString();
  assert.ok(text.startsWith('{\n    "results": [\n        {\n            "size": 19,'));
  assert.deepEqual(JSON.parse(text), response.toJSON());
  assert.equal(String(response), text);
});

Deno.test("StoqResponse.split() gives one response per (payload, worker) pair", () => {
  const split = exampleResponse().split();
  assert.equal(split.length, 3);
  assert.deepEqual(
    split.map((part) => [part.results[0].payload_id, Object.keys(part.results[0].workers)]),
    [[ROOT_ID, ["hash"]], [ROOT_ID, ["simple_worker"]], [CHILD_ID, ["hash"]]],
  );
  assert.deepEqual(split[1].results[0].workers, { simple_worker: { valuable_insight: "wow" } });
  for (const part of split) assert.equal(part.results.length, 1);
});

Deno.test("StoqResponse.split() keeps every other field of the response and of the result", () => {
  const response = exampleResponse();
  const json = response.toJSON();
  const [first] = response.split();
  assert.deepEqual(Object.keys(first), Object.keys(json));
  assert.deepEqual({ ...first, results: [] }, { ...json, results: [] });
  assert.deepEqual({ ...first.results[0], workers: {} }, { ...json.results[0], workers: {} });
});

Deno.test("StoqResponse.split() leaves out results without worker output", () => {
  const request = new Request({ payloads: [new Payload("a"), new Payload("b")] });
  request.payloads[1].results.workers.only = { n: 1 };
  const split = new StoqResponse(request).split();
  assert.equal(split.length, 1);
  assert.equal(split[0].results[0].payload_id, request.payloads[1].payloadId);
  assert.deepEqual(new StoqResponse(new Request({ payloads: [new Payload("a")] })).split(), []);
});

Deno.test("StoqResponse.split() returns deep copies that share nothing with the response", () => {
  const response = exampleResponse();
  const [first, second] = response.split();
  first.request_meta.extra_data.ticket = 0;
  first.errors.length = 0;
  (first.decorators.simple_decorator as Record<string, unknown>).simple_decoration = 0;
  (first.results[0].workers.hash as Record<string, unknown>).md5 = "changed";
  first.results[0].plugins_run.workers.length = 0;
  assert.equal(second.request_meta.extra_data.ticket, 42);
  assert.equal(second.errors.length, 1);
  assert.deepEqual(response.toJSON(), exampleResponse().toJSON());
});

Deno.test("StoqResponse.fromJSON() round-trips a whole response", () => {
  const json = exampleResponse().toJSON();
  const copy = StoqResponse.fromJSON(json);
  assert.ok(copy instanceof StoqResponse);
  assert.ok(copy.results[0] instanceof PayloadResults);
  assert.ok(copy.results[0].payloadMeta instanceof PayloadMeta);
  assert.ok(copy.requestMeta instanceof RequestMeta);
  assert.ok(copy.errors[0] instanceof ScanError);
  assert.equal(copy.scanId, SCAN_ID);
  assert.equal(copy.time, TIME);
  assert.deepEqual(copy.toJSON(), json);
  assert.equal(copy.split().length, 3);
});

Deno.test("WorkerResponse() defaults to no results, extracted payloads, errors or dispatch", () => {
  const response = new WorkerResponse();
  assert.equal(response.results, null);
  assert.deepEqual(response.extracted, []);
  assert.deepEqual(response.errors, []);
  assert.deepEqual(response.dispatchTo, []);
});

Deno.test("WorkerResponse() keeps what it is given", () => {
  const extracted = [new ExtractedPayload("Lorem ipsum")];
  const errors = [new ScanError("Test error please ignore")];
  const response = new WorkerResponse({
    results: { valuable_insight: "wow" },
    extracted,
    errors,
    dispatchTo: ["dummy_worker"],
  });
  assert.deepEqual(response.results, { valuable_insight: "wow" });
  assert.equal(response.extracted, extracted);
  assert.equal(response.errors, errors);
  assert.deepEqual(response.dispatchTo, ["dummy_worker"]);
});

Deno.test("DispatcherResponse() defaults to no plugins, empty meta and no errors", () => {
  const response = new DispatcherResponse();
  assert.deepEqual(response.pluginNames, []);
  assert.deepEqual(response.meta, {});
  assert.deepEqual(response.errors, []);
  const full = new DispatcherResponse({ pluginNames: ["dummy_worker"], meta: { test_key: "x" } });
  assert.deepEqual(full.pluginNames, ["dummy_worker"]);
  assert.deepEqual(full.meta, { test_key: "x" });
});

Deno.test("ArchiverResponse() takes results and errors positionally, defaulting to null and none", () => {
  assert.equal(new ArchiverResponse().results, null);
  assert.deepEqual(new ArchiverResponse().errors, []);
  const errors = [new ScanError("e")];
  const response = new ArchiverResponse({ path: "/data/123" }, errors);
  assert.deepEqual(response.results, { path: "/data/123" });
  assert.equal(response.errors, errors);
});

Deno.test("DecoratorResponse() takes results and errors positionally, defaulting to null and none", () => {
  assert.equal(new DecoratorResponse().results, null);
  assert.deepEqual(new DecoratorResponse().errors, []);
  const response = new DecoratorResponse({ simple_decoration: 123 }, [new ScanError("e")]);
  assert.deepEqual(response.results, { simple_decoration: 123 });
  assert.equal(response.errors.length, 1);
});

Deno.test("plugin response classes' toString() is JSON that parses to an object", () => {
  const values = [
    new WorkerResponse({ results: { a: 1 }, extracted: [new ExtractedPayload("x")] }),
    new ArchiverResponse({ file_save_id: 12345 }),
    new DispatcherResponse({ pluginNames: ["w"], meta: { k: "v" } }),
    new DecoratorResponse({ simple_decoration: 123 }, [new ScanError("e")]),
  ];
  for (const value of values) {
    const parsed = JSON.parse(String(value));
    assert.equal(typeof parsed, "object");
    assert.ok(parsed !== null && !Array.isArray(parsed));
  }
  assert.equal(JSON.parse(String(values[0])).extracted[0].content, "x");
  assert.deepEqual(JSON.parse(String(values[3])).errors[0].error, "e");
});
