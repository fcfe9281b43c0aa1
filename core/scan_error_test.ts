import assert from "node:assert/strict";
import { ScanError } from "./scan_error.ts";

Deno.test('ScanError() defaults to no plugin, no payload and the kind "plugin"', () => {
  const err = new ScanError("Test error please ignore");
  assert.equal(err.error, "Test error please ignore");
  assert.equal(err.pluginName, null);
  assert.equal(err.payloadId, null);
  assert.equal(err.kind, "plugin");
});

Deno.test("ScanError.toJSON() uses stoQ's keys in stoQ's order, then kind", () => {
  const json = new ScanError("worker:failed to scan: boom", {
    pluginName: "simple_worker",
    payloadId: "p-1",
    kind: "worker",
  }).toJSON();
  assert.deepEqual(Object.keys(json), ["error", "plugin_name", "payload_id", "kind"]);
  assert.deepEqual(json, {
    error: "worker:failed to scan: boom",
    plugin_name: "simple_worker",
    payload_id: "p-1",
    kind: "worker",
  });
});

Deno.test("ScanError.toJSON() writes a missing plugin and payload as null", () => {
  const json = new ScanError("decorator: boom", { pluginName: "d", payloadId: undefined }).toJSON();
  assert.equal(json.plugin_name, "d");
  assert.equal(json.payload_id, null);
});

Deno.test("ScanError.fromJSON() rebuilds what toJSON() wrote", () => {
  const err = new ScanError("e", { pluginName: "w", payloadId: "p", kind: "timeout" });
  const copy = ScanError.fromJSON(err.toJSON());
  assert.ok(copy instanceof ScanError);
  assert.deepEqual(copy, err);
});

Deno.test("ScanError.toString() is indented JSON that parses to an object", () => {
  const text = String(new ScanError("e", { pluginName: "w" }));
  assert.ok(text.startsWith('{\n    "error": "e",'));
  assert.deepEqual(JSON.parse(text), {
    error: "e",
    plugin_name: "w",
    payload_id: null,
    kind: "plugin",
  });
});
