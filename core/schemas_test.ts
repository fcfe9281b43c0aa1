import assert from "node:assert/strict";
import { z } from "zod";
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
import {
  describeZodError,
  DispatcherResponseSchema,
  PayloadInitSchema,
  PayloadMetaJsonSchema,
  PayloadResultsJsonSchema,
  RequestMetaJsonSchema,
  ResultsResponseSchema,
  ScanErrorJsonSchema,
  StoqResponseJsonSchema,
  WorkerResponseSchema,
} from "./schemas.ts";

/** The one-line description of why a value does not match, or fail if it matches. */
function rejection(schema: z.ZodType, value: unknown): string {
  const parsed = schema.safeParse(value);
  assert.equal(parsed.success, false, `expected ${JSON.stringify(value)} to be rejected`);
  return describeZodError(parsed.error as z.ZodError);
}

Deno.test("WorkerResponseSchema accepts a WorkerResponse instance with extracted payloads and errors", () => {
  const response = new WorkerResponse({
    results: { valuable_insight: "wow" },
    extracted: [
      new ExtractedPayload(new TextEncoder().encode("Lorem ipsum"), {
        dispatchTo: ["dummy_worker"],
      }),
      new ExtractedPayload("text", new PayloadMeta({ shouldScan: false })),
    ],
    errors: [new ScanError("Test error please ignore", { pluginName: "simple_worker" })],
    dispatchTo: ["dummy_worker"],
  });
  const parsed = WorkerResponseSchema.parse(response);
  assert.deepEqual(parsed.results, { valuable_insight: "wow" });
  assert.equal(parsed.extracted?.length, 2);
  assert.deepEqual(parsed.extracted?.[0].content, new TextEncoder().encode("Lorem ipsum"));
  assert.deepEqual(parsed.extracted?.[0].payloadMeta?.dispatchTo, ["dummy_worker"]);
  assert.equal(parsed.extracted?.[1].payloadMeta?.shouldScan, false);
  assert.deepEqual(parsed.errors, [{
    error: "Test error please ignore",
    pluginName: "simple_worker",
    payloadId: null,
    kind: "plugin",
  }]);
  assert.deepEqual(parsed.dispatchTo, ["dummy_worker"]);
});

Deno.test("WorkerResponseSchema accepts a plain object, string errors and missing fields", () => {
  const parsed = WorkerResponseSchema.parse({
    results: { a: 1 },
    extracted: [{ content: "child" }],
    errors: ["a bare string error", { error: "an object error" }],
  });
  assert.deepEqual(parsed.extracted, [{ content: "child" }]);
  assert.deepEqual(parsed.errors, ["a bare string error", { error: "an object error" }]);
  assert.deepEqual(WorkerResponseSchema.parse({}), {});
  assert.deepEqual(WorkerResponseSchema.parse({ results: null }), { results: null });
});

Deno.test("WorkerResponseSchema rejects content that is neither bytes nor a string, naming the field", () => {
  const message = rejection(WorkerResponseSchema, { extracted: [{ content: 42 }] });
  assert.equal(message, 'field "extracted.0.content": expected bytes (Uint8Array) or a string');
  const fromInstance = rejection(
    WorkerResponseSchema,
    new WorkerResponse({ extracted: [new ExtractedPayload([1, 2] as unknown as Uint8Array)] }),
  );
  assert.equal(
    fromInstance,
    'field "extracted.0.content": expected bytes (Uint8Array) or a string',
  );
});

Deno.test("WorkerResponseSchema rejects results that are not an object, naming the field", () => {
  assert.match(rejection(WorkerResponseSchema, { results: "wow" }), /^field "results": /);
});

Deno.test("WorkerResponseSchema rejects a non-string worker name in dispatchTo, naming its index", () => {
  assert.match(
    rejection(WorkerResponseSchema, { dispatchTo: ["ok", 7] }),
    /^field "dispatchTo\.1": /,
  );
});

Deno.test("WorkerResponseSchema rejects an error object without its error text", () => {
  assert.match(
    rejection(WorkerResponseSchema, { errors: [{ pluginName: "w" }] }),
    /^field "errors\.0"/,
  );
});

Deno.test("WorkerResponseSchema rejects invalid payload meta of an extracted payload", () => {
  const message = rejection(WorkerResponseSchema, {
    extracted: [{ content: "x", payloadMeta: { shouldScan: "no" } }],
  });
  assert.match(message, /^field "extracted\.0\.payloadMeta\.shouldScan": /);
});

Deno.test("DispatcherResponseSchema accepts a DispatcherResponse instance and rejects a bad plugin list", () => {
  const parsed = DispatcherResponseSchema.parse(
    new DispatcherResponse({
      pluginNames: ["dummy_worker"],
      meta: { test_key: "Useful metadata info" },
    }),
  );
  assert.deepEqual(parsed, {
    pluginNames: ["dummy_worker"],
    meta: { test_key: "Useful metadata info" },
    errors: [],
  });
  assert.match(
    rejection(DispatcherResponseSchema, { pluginNames: "dummy_worker" }),
    /^field "pluginNames": /,
  );
});

Deno.test("ResultsResponseSchema accepts ArchiverResponse and DecoratorResponse instances", () => {
  assert.deepEqual(ResultsResponseSchema.parse(new ArchiverResponse({ file_save_id: 12345 })), {
    results: { file_save_id: 12345 },
    errors: [],
  });
  assert.deepEqual(
    ResultsResponseSchema.parse(new DecoratorResponse(null, [new ScanError("e")])).results,
    null,
  );
  assert.match(rejection(ResultsResponseSchema, { errors: [1] }), /^field "errors\.0": /);
});

Deno.test("PayloadInitSchema accepts a Payload instance, reading its payloadMeta getter", () => {
  const payload = new Payload("Important stuff", {
    payloadMeta: { extraData: { path: "/data/123" } },
  });
  const parsed = PayloadInitSchema.parse(payload);
  assert.deepEqual(parsed.content, new TextEncoder().encode("Important stuff"));
  assert.deepEqual(parsed.payloadMeta?.extraData, { path: "/data/123" });
  assert.match(rejection(PayloadInitSchema, {}), /^field "content": /);
});

Deno.test("StoqResponseJsonSchema accepts what StoqResponse.toJSON() writes", () => {
  const payload = new Payload("x");
  payload.results.workers.hash = { md5: "9dd4e461268c8034f5c8564e155c67a6" };
  const request = new Request({
    payloads: [payload],
    errors: [new ScanError("e", { kind: "worker" })],
  });
  const json = new StoqResponse(request, { decorators: { d: { n: 1 } } }).toJSON();
  assert.deepEqual(StoqResponseJsonSchema.parse(json), json);
});

Deno.test("PayloadMetaJsonSchema, PayloadResultsJsonSchema, RequestMetaJsonSchema and ScanErrorJsonSchema accept toJSON() output", () => {
  assert.ok(PayloadMetaJsonSchema.safeParse(new PayloadMeta().toJSON()).success);
  assert.ok(PayloadResultsJsonSchema.safeParse(new PayloadResults({ size: 1 }).toJSON()).success);
  assert.ok(RequestMetaJsonSchema.safeParse(new RequestMeta().toJSON()).success);
  assert.ok(ScanErrorJsonSchema.safeParse(new ScanError("e").toJSON()).success);
});

Deno.test("PayloadResultsJsonSchema rejects a result missing a key, naming it", () => {
  const json: Record<string, unknown> = { ...new PayloadResults({ size: 1 }).toJSON() };
  delete json.plugins_run;
  assert.match(rejection(PayloadResultsJsonSchema, json), /^field "plugins_run": /);
});

Deno.test("RequestMetaJsonSchema accepts a null source and rejects a numeric one", () => {
  assert.ok(
    RequestMetaJsonSchema.safeParse({ archive_payloads: true, source: null, extra_data: {} })
      .success,
  );
  assert.match(
    rejection(RequestMetaJsonSchema, { archive_payloads: true, source: 1, extra_data: {} }),
    /^field "source": /,
  );
});

Deno.test("describeZodError() joins every issue, and gives a pathless issue's message alone", () => {
  const schema = z.object({ a: z.string(), b: z.object({ c: z.number() }) });
  const parsed = schema.safeParse({ a: 1, b: { c: "x" } });
  assert.equal(parsed.success, false);
  const message = describeZodError(parsed.error as z.ZodError);
  const parts = message.split("; ");
  assert.equal(parts.length, 2);
  assert.match(parts[0], /^field "a": /);
  assert.match(parts[1], /^field "b\.c": /);
  const top = z.string().safeParse(3);
  assert.equal(
    describeZodError(top.error as z.ZodError),
    "Invalid input: expected string, received number",
  );
});
