import assert from "node:assert/strict";
import { ExtractedPayload, Payload, PayloadMeta, PayloadResults } from "./payload.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("PayloadMeta() defaults to archive, scan, no extra data and no dispatch", () => {
  const meta = new PayloadMeta();
  assert.equal(meta.shouldArchive, true);
  assert.equal(meta.shouldScan, true);
  assert.deepEqual(meta.extraData, {});
  assert.deepEqual(meta.dispatchTo, []);
});

Deno.test("PayloadMeta() gives each instance its own default extra data and dispatch list", () => {
  const a = new PayloadMeta();
  const b = new PayloadMeta();
  a.extraData.filename = "a.txt";
  a.dispatchTo.push("hash");
  assert.deepEqual(b.extraData, {});
  assert.deepEqual(b.dispatchTo, []);
});

Deno.test("PayloadMeta.toJSON() uses stoQ's keys in stoQ's order", () => {
  const meta = new PayloadMeta({
    shouldArchive: false,
    shouldScan: false,
    extraData: { filename: "fox.txt" },
    dispatchTo: ["dummy_worker"],
  });
  const json = meta.toJSON();
  assert.deepEqual(Object.keys(json), [
    "should_archive",
    "should_scan",
    "extra_data",
    "dispatch_to",
  ]);
  assert.deepEqual(json, {
    should_archive: false,
    should_scan: false,
    extra_data: { filename: "fox.txt" },
    dispatch_to: ["dummy_worker"],
  });
});

Deno.test("PayloadMeta.fromJSON() rebuilds what toJSON() wrote", () => {
  const meta = new PayloadMeta({ shouldScan: false, extraData: { a: 1 }, dispatchTo: ["x"] });
  const copy = PayloadMeta.fromJSON(meta.toJSON());
  assert.ok(copy instanceof PayloadMeta);
  assert.deepEqual(copy, meta);
});

Deno.test("PayloadMeta.toString() is indented JSON that parses to an object", () => {
  const text = String(new PayloadMeta({ extraData: { filename: "fox.txt" } }));
  assert.ok(text.includes('\n    "should_archive": true'));
  assert.deepEqual(JSON.parse(text).extra_data, { filename: "fox.txt" });
});

Deno.test("PayloadResults() defaults to a new UUID, empty plugins_run, workers and archivers", () => {
  const results = new PayloadResults({ size: 19 });
  assert.match(results.payloadId, UUID);
  assert.notEqual(new PayloadResults({ size: 19 }).payloadId, results.payloadId);
  assert.deepEqual(results.pluginsRun, { workers: [], archivers: [] });
  assert.deepEqual(results.extractedFrom, []);
  assert.deepEqual(results.extractedBy, []);
  assert.deepEqual(results.workers, {});
  assert.deepEqual(results.archivers, {});
  assert.ok(results.payloadMeta instanceof PayloadMeta);
});

Deno.test("PayloadResults() wraps a single extracted_from and extracted_by into lists", () => {
  const results = new PayloadResults({
    size: 1,
    extractedFrom: "parent-id",
    extractedBy: "simple_worker",
  });
  assert.deepEqual(results.extractedFrom, ["parent-id"]);
  assert.deepEqual(results.extractedBy, ["simple_worker"]);
});

Deno.test("PayloadResults() copies the given lists instead of sharing them", () => {
  const by = ["a"];
  const results = new PayloadResults({ size: 1, extractedBy: by });
  by.push("b");
  assert.deepEqual(results.extractedBy, ["a"]);
});

Deno.test("PayloadResults.toJSON() uses stoQ's keys in stoQ's order", () => {
  const results = new PayloadResults({
    size: 11,
    payloadId: "child",
    payloadMeta: new PayloadMeta({ dispatchTo: ["dummy_worker"] }),
    extractedFrom: "root",
    extractedBy: "simple_worker",
  });
  results.pluginsRun.workers.push("hash");
  results.pluginsRun.archivers.push("simple_archiver");
  results.workers.hash = { md5: "0956d2fbd5d5c29844a4d21ed2f76e0c" };
  results.archivers.simple_archiver = { file_save_id: 12345 };
  const json = results.toJSON();
  assert.deepEqual(Object.keys(json), [
    "size",
    "payload_id",
    "payload_meta",
    "plugins_run",
    "extracted_from",
    "extracted_by",
    "workers",
    "archivers",
  ]);
  assert.deepEqual(Object.keys(json.plugins_run), ["workers", "archivers"]);
  assert.deepEqual(Object.keys(json.payload_meta), [
    "should_archive",
    "should_scan",
    "extra_data",
    "dispatch_to",
  ]);
  assert.deepEqual(json, {
    size: 11,
    payload_id: "child",
    payload_meta: {
      should_archive: true,
      should_scan: true,
      extra_data: {},
      dispatch_to: ["dummy_worker"],
    },
    plugins_run: { workers: ["hash"], archivers: ["simple_archiver"] },
    extracted_from: ["root"],
    extracted_by: ["simple_worker"],
    workers: { hash: { md5: "0956d2fbd5d5c29844a4d21ed2f76e0c" } },
    archivers: { simple_archiver: { file_save_id: 12345 } },
  });
});

Deno.test("PayloadResults.toJSON() returns lists that do not alias the live results", () => {
  const results = new PayloadResults({ size: 1 });
  const json = results.toJSON();
  json.plugins_run.workers.push("late");
  json.extracted_by.push("late");
  json.workers.late = 1;
  assert.deepEqual(results.pluginsRun.workers, []);
  assert.deepEqual(results.extractedBy, []);
  assert.deepEqual(results.workers, {});
});

Deno.test("PayloadResults.fromJSON() round-trips every field", () => {
  const results = new PayloadResults({
    size: 4,
    extractedFrom: ["p1", "p2"],
    extractedBy: ["w1", "w2"],
  });
  results.pluginsRun.workers.push("w3");
  results.pluginsRun.archivers.push("a1");
  results.workers.w3 = { ok: true };
  results.archivers.a1 = { id: 1 };
  const copy = PayloadResults.fromJSON(results.toJSON());
  assert.ok(copy instanceof PayloadResults);
  assert.ok(copy.payloadMeta instanceof PayloadMeta);
  assert.equal(copy.payloadId, results.payloadId);
  assert.deepEqual(copy.toJSON(), results.toJSON());
});

Deno.test("PayloadResults.toString() is indented JSON that parses to an object", () => {
  const results = new PayloadResults({ size: 3, payloadId: "id-1" });
  const text = results.toString();
  assert.ok(text.startsWith('{\n    "size": 3,'));
  assert.equal(JSON.parse(text).payload_id, "id-1");
});

Deno.test("Payload() encodes string content as UTF-8 and counts bytes, not characters", () => {
  const payload = new Payload("猫");
  assert.deepEqual(payload.content, new Uint8Array([0xe7, 0x8c, 0xab]));
  assert.equal(payload.results.size, 3);
});

Deno.test("Payload() keeps byte content and its length as the size", () => {
  const content = new TextEncoder().encode("The quick brown fox");
  const payload = new Payload(content);
  assert.equal(payload.content, content);
  assert.equal(payload.results.size, 19);
});

Deno.test("Payload() uses a given PayloadMeta object as is", () => {
  const meta = new PayloadMeta({ shouldScan: false });
  const payload = new Payload("x", { payloadMeta: meta });
  assert.equal(payload.payloadMeta, meta);
  assert.equal(payload.results.payloadMeta, meta);
});

Deno.test("Payload() builds a PayloadMeta from plain options", () => {
  const payload = new Payload("x", { payloadMeta: { extraData: { filename: "cat.txt" } } });
  assert.ok(payload.payloadMeta instanceof PayloadMeta);
  assert.deepEqual(payload.payloadMeta.extraData, { filename: "cat.txt" });
  assert.equal(payload.payloadMeta.shouldArchive, true);
});

Deno.test("Payload() passes id and extraction lineage to its results", () => {
  const payload = new Payload("x", { payloadId: "p-1", extractedBy: "w", extractedFrom: "root" });
  assert.equal(payload.payloadId, "p-1");
  assert.equal(payload.results.payloadId, "p-1");
  assert.deepEqual(payload.results.extractedBy, ["w"]);
  assert.deepEqual(payload.results.extractedFrom, ["root"]);
});

Deno.test("Payload() starts with empty dispatch meta that is not in the results JSON", () => {
  const payload = new Payload("x");
  payload.dispatchMeta.simple_dispatcher = { test_key: "Useful metadata info" };
  assert.deepEqual(payload.dispatchMeta, {
    simple_dispatcher: { test_key: "Useful metadata info" },
  });
  assert.ok(!JSON.stringify(payload.results).includes("test_key"));
});

Deno.test("Payload.fromParts() keeps the given results and dispatch meta objects", () => {
  const results = new PayloadResults({ size: 99, payloadId: "kept" });
  results.workers.hash = { md5: "x" };
  const dispatchMeta = { d: { k: 1 } };
  const payload = Payload.fromParts(new Uint8Array([1, 2]), results, dispatchMeta);
  assert.equal(payload.results, results);
  assert.equal(payload.dispatchMeta, dispatchMeta);
  assert.equal(payload.results.size, 99);
  assert.equal(payload.payloadId, "kept");
  assert.deepEqual(payload.content, new Uint8Array([1, 2]));
});

Deno.test("ExtractedPayload() defaults its meta and builds one from plain options", () => {
  const plain = new ExtractedPayload(new Uint8Array([1]));
  assert.ok(plain.payloadMeta instanceof PayloadMeta);
  assert.deepEqual(plain.payloadMeta.dispatchTo, []);
  const child = new ExtractedPayload("Lorem ipsum", {
    shouldScan: false,
    dispatchTo: ["dummy_worker"],
  });
  assert.ok(child.payloadMeta instanceof PayloadMeta);
  assert.equal(child.payloadMeta.shouldScan, false);
  assert.deepEqual(child.payloadMeta.dispatchTo, ["dummy_worker"]);
  assert.equal(child.content, "Lorem ipsum");
});

Deno.test("ExtractedPayload() uses a given PayloadMeta object as is", () => {
  const meta = new PayloadMeta();
  assert.equal(new ExtractedPayload("x", meta).payloadMeta, meta);
});
