import assert from "node:assert/strict";
import { Payload } from "./payload.ts";
import { Request, RequestMeta } from "./request.ts";
import { ScanError } from "./scan_error.ts";

Deno.test("RequestMeta() defaults to archiving, no source and no extra data", () => {
  const meta = new RequestMeta();
  assert.equal(meta.archivePayloads, true);
  assert.equal(meta.source, null);
  assert.deepEqual(meta.extraData, {});
});

Deno.test("RequestMeta() gives each instance its own default extra data", () => {
  const a = new RequestMeta();
  a.extraData.ticket = 42;
  assert.deepEqual(new RequestMeta().extraData, {});
});

Deno.test("RequestMeta.isDefault() is true only when every field has its default", () => {
  assert.equal(new RequestMeta().isDefault(), true);
  assert.equal(
    new RequestMeta({ archivePayloads: true, source: null, extraData: {} }).isDefault(),
    true,
  );
  assert.equal(new RequestMeta({ archivePayloads: false }).isDefault(), false);
  assert.equal(new RequestMeta({ source: "example" }).isDefault(), false);
  assert.equal(new RequestMeta({ extraData: { dummy: "1" } }).isDefault(), false);
});

Deno.test("RequestMeta.toJSON() uses stoQ's keys in stoQ's order", () => {
  const json = new RequestMeta({ source: "example", extraData: { ticket: 42 } }).toJSON();
  assert.deepEqual(Object.keys(json), ["archive_payloads", "source", "extra_data"]);
  assert.deepEqual(json, { archive_payloads: true, source: "example", extra_data: { ticket: 42 } });
});

Deno.test("RequestMeta.toJSON() writes a missing source as null", () => {
  assert.equal(new RequestMeta().toJSON().source, null);
});

Deno.test("RequestMeta.fromJSON() rebuilds what toJSON() wrote", () => {
  const meta = new RequestMeta({ archivePayloads: false, source: "s", extraData: { a: [1] } });
  const copy = RequestMeta.fromJSON(meta.toJSON());
  assert.ok(copy instanceof RequestMeta);
  assert.deepEqual(copy, meta);
});

Deno.test("RequestMeta.toString() is indented JSON that parses to an object", () => {
  const text = new RequestMeta({ source: "example" }).toString();
  assert.ok(text.startsWith('{\n    "archive_payloads": true,'));
  assert.equal(JSON.parse(text).source, "example");
});

Deno.test("Request() defaults to no payloads, default meta and no errors", () => {
  const request = new Request();
  assert.deepEqual(request.payloads, []);
  assert.ok(request.requestMeta instanceof RequestMeta);
  assert.equal(request.requestMeta.isDefault(), true);
  assert.deepEqual(request.errors, []);
});

Deno.test("Request() gives each instance its own default lists", () => {
  const a = new Request();
  a.payloads.push(new Payload("x"));
  a.errors.push(new ScanError("e"));
  const b = new Request();
  assert.equal(b.payloads.length, 0);
  assert.equal(b.errors.length, 0);
});

Deno.test("Request() keeps the given payloads, meta and errors objects", () => {
  const payloads = [new Payload("a"), new Payload("b")];
  const requestMeta = new RequestMeta({ source: "example" });
  const errors = [new ScanError("boom")];
  const request = new Request({ payloads, requestMeta, errors });
  assert.equal(request.payloads, payloads);
  assert.equal(request.requestMeta, requestMeta);
  assert.equal(request.errors, errors);
});
