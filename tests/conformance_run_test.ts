/**
 * Conformance with stoQ v3, provider mode: `run()` with providers, source archivers and connectors,
 * and the quirks stoq fixes there (spec §g 46-52; §i 12, 13).
 *
 * @module
 */
import assert from "node:assert/strict";
import { RequestMeta, StoqError } from "../mod.ts";
import { reset, withStoq } from "./_conformance.ts";
import { saves } from "./testdata/plugins/connector/dummy_connector/mod.ts";
import { calls as dummyWorkerCalls } from "./testdata/plugins/worker/dummy_worker/mod.ts";

Deno.test("run() scans what a provider puts and saves it with the connectors", async () => {
  reset(saves);
  await withStoq(
    { providers: ["simple_provider"], connectors: ["dummy_connector"] },
    async (stoq) => {
      await stoq.run();
      assert.equal(saves.length, 1);
      assert.equal(saves[0].results.length, 1);
      assert.equal(saves[0].results[0].size, "Important stuff".length);
      assert.deepEqual(saves[0].request_meta, {
        archive_payloads: true,
        source: null,
        extra_data: {},
      });
    },
  );
});

Deno.test("run() without providers rejects", async () => {
  await withStoq({}, async (stoq) => {
    await assert.rejects(stoq.run(), (err: Error) => {
      assert.ok(err instanceof StoqError);
      assert.equal(err.message, "No activated provider plugins");
      return true;
    });
  });
});

Deno.test("run() scans the items of every provider, each with run()'s request meta", async () => {
  reset(saves);
  await withStoq({
    providers: ["simple_provider", "simple_provider2"],
    connectors: ["dummy_connector"],
  }, async (stoq) => {
    await stoq.run({
      requestMeta: new RequestMeta({ source: "run", extraData: { test: "test" } }),
    });
    assert.equal(saves.length, 2);
    assert.deepEqual(
      saves.map((s) => s.results[0].size).sort(),
      ["Important stuff".length, "More important stuff".length].sort(),
    );
    for (const save of saves) {
      assert.deepEqual(save.request_meta, {
        archive_payloads: true,
        source: "run",
        extra_data: { test: "test" },
      });
    }
    assert.notEqual(saves[0].scan_id, saves[1].scan_id);
  });
});

Deno.test("run() logs a failing provider, returns, and still scans what it queued before failing", async () => {
  reset(saves);
  await withStoq({
    providers: ["simple_provider"],
    connectors: ["dummy_connector"],
    pluginOpts: { simple_provider: { raise_exception: true } },
  }, async (stoq, { lines }) => {
    await stoq.run();
    const errors = lines.filter((line) => line.startsWith("ERROR:"));
    assert.equal(errors.length, 1);
    assert.ok(
      errors[0].startsWith(
        'ERROR:stoq:Provider "simple_provider" failed: Test exception, please ignore\n',
      ),
      errors[0],
    );
    assert.equal(saves.length, 1);
  });
});

Deno.test("run() turns a provider's archiver task into a payload with the source archiver, and scans it", async () => {
  reset(saves);
  await withStoq({
    providers: ["simple_provider"],
    sourceArchivers: ["simple_archiver"],
    connectors: ["dummy_connector"],
    pluginOpts: { simple_provider: { return_payload: false } },
  }, async (stoq) => {
    await stoq.run();
    assert.equal(saves.length, 1);
    assert.equal(saves[0].results[0].size, "This is a payload".length);
    assert.deepEqual(saves[0].results[0].payload_meta.extra_data, { task: "This is a task" });
  });
});

Deno.test("run() warns about a task for an archiver that is not a source archiver, and skips it", async () => {
  reset(saves);
  await withStoq({
    providers: ["simple_provider"],
    connectors: ["dummy_connector"],
    pluginOpts: { simple_provider: { return_payload: false } },
  }, async (stoq, { lines }) => {
    await stoq.run();
    assert.deepEqual(saves, []);
    assert.deepEqual(lines.filter((line) => line.startsWith("WARNING:")), [
      'WARNING:stoq:"{"task":"This is a task"}" failed with archiver "simple_archiver": it is not one of the source_archivers',
    ]);
  });
});

Deno.test("run() warns when a source archiver fails on a task, and goes on", async () => {
  reset(saves);
  await withStoq({
    providers: ["simple_provider"],
    sourceArchivers: ["simple_archiver"],
    connectors: ["dummy_connector"],
    pluginOpts: {
      simple_provider: { return_payload: false, count: 2 },
      simple_archiver: { raise_exception: true },
    },
  }, async (stoq, { lines }) => {
    await stoq.run();
    assert.deepEqual(saves, []);
    const warnings = lines.filter((line) => line.startsWith("WARNING:"));
    assert.deepEqual(warnings, [
      'WARNING:stoq:"{"task":"This is a task"}" failed with archiver "simple_archiver": Test exception, please ignore',
      'WARNING:stoq:"{"task":"This is a task"}" failed with archiver "simple_archiver": Test exception, please ignore',
    ]);
  });
});

Deno.test("run() sends provider payloads to add_start_dispatch workers", async () => {
  reset(saves, dummyWorkerCalls);
  await withStoq(
    { providers: ["simple_provider"], connectors: ["dummy_connector"] },
    async (stoq) => {
      await stoq.run({ addStartDispatch: ["dummy_worker"] });
      assert.equal(dummyWorkerCalls.length, 1);
      assert.equal(saves.length, 1);
      assert.deepEqual(saves[0].results[0].plugins_run.workers, ["dummy_worker"]);
      assert.equal(dummyWorkerCalls[0].payloadId, saves[0].results[0].payload_id);
    },
  );
});

Deno.test("run() keeps the meta of a provider's Request, and logs it", async () => {
  reset(saves);
  await withStoq(
    { providers: ["request_provider"], connectors: ["dummy_connector"] },
    async (stoq, { lines }) => {
      await stoq.run({ requestMeta: new RequestMeta({ extraData: { test: "test" } }) });
      assert.equal(saves.length, 1);
      assert.deepEqual(saves[0].request_meta.extra_data, { dummy: "1" });
      assert.equal(saves[0].results[0].size, "Request stuff".length);
      assert.ok(
        lines.includes(
          'DEBUG:stoq:Request received: RequestMeta: {"archive_payloads":true,"source":null,"extra_data":{"dummy":"1"}}',
        ),
        lines.join("\n"),
      );
    },
  );
});

Deno.test("run() gives a provider's Request with default meta run()'s request meta", async () => {
  reset(saves);
  await withStoq({
    providers: ["request_provider"],
    connectors: ["dummy_connector"],
    pluginOpts: { request_provider: { default_meta: true } },
  }, async (stoq) => {
    await stoq.run({ requestMeta: new RequestMeta({ extraData: { test: "test" } }) });
    assert.equal(saves.length, 1);
    assert.deepEqual(saves[0].request_meta.extra_data, { test: "test" });
  });
});

Deno.test("run() without request meta gives a default-meta Request a fresh RequestMeta instead of hanging", async () => {
  reset(saves);
  await withStoq({
    providers: ["request_provider"],
    connectors: ["dummy_connector"],
    destArchivers: ["simple_archiver"],
    pluginOpts: { request_provider: { default_meta: true } },
  }, async (stoq) => {
    await stoq.run();
    assert.equal(saves.length, 1);
    assert.deepEqual(saves[0].request_meta, {
      archive_payloads: true,
      source: null,
      extra_data: {},
    });
    assert.deepEqual(saves[0].results[0].archivers, { simple_archiver: { file_save_id: 12345 } });
  });
});

Deno.test("run() logs a string a provider puts on the queue as an error and goes on", async () => {
  reset(saves);
  await withStoq({
    providers: ["simple_provider"],
    connectors: ["dummy_connector"],
    pluginOpts: { simple_provider: { put_string: true } },
  }, async (stoq, { lines }) => {
    await stoq.run();
    assert.deepEqual(lines.filter((line) => line.startsWith("ERROR:")), [
      'ERROR:stoq:Provider "simple_provider" put a string ("a string") on the queue: expected a Payload, a Request or {archiver_name: task}',
    ]);
    assert.equal(saves.length, 1);
  });
});

Deno.test("run() with a queue of one and one consumer scans every item a provider puts", async () => {
  reset(saves);
  await withStoq({
    providers: ["simple_provider"],
    connectors: ["dummy_connector"],
    maxQueue: 1,
    providerConsumers: 1,
    pluginOpts: { simple_provider: { count: 5 } },
  }, async (stoq) => {
    await stoq.run();
    assert.equal(saves.length, 5);
    assert.equal(new Set(saves.map((s) => s.scan_id)).size, 5);
    assert.deepEqual(saves.map((s) => s.results[0].size), [15, 15, 15, 15, 15]);
  });
});
