/**
 * Conformance with stoQ v3, after the worker rounds: dest and source archivers, decorators,
 * connectors and `reconstructAllSubresponses()`, and the quirks stoq fixes there (spec §g 24-28,
 * 31-32, 35-37, 40-44, 61; §i 4, 11).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  ArchiverResponse,
  Payload,
  Request,
  RequestMeta,
  ScanError,
  StoqResponse,
} from "../mod.ts";
import { CONTENT, reset, withStoq } from "./_conformance.ts";
import { calls as simpleArchiverCalls } from "./testdata/plugins/archiver/simple_archiver/mod.ts";
import { calls as dummyArchiverCalls } from "./testdata/plugins/archiver/dummy_archiver/mod.ts";
import { calls as simpleDecoratorCalls } from "./testdata/plugins/decorator/simple_decorator/mod.ts";
import { calls as dummyDecoratorCalls } from "./testdata/plugins/decorator/dummy_decorator/mod.ts";
import { saves } from "./testdata/plugins/connector/dummy_connector/mod.ts";

Deno.test("PluginHandle.get() of a source archiver returns the payload a task describes", async () => {
  await withStoq({ sourceArchivers: ["simple_archiver"] }, async (stoq) => {
    const archiver = stoq.roles.sourceArchivers.get("simple_archiver");
    assert.ok(archiver);
    const payload = await archiver.get(new ArchiverResponse({ path: "/tmp/123" }));
    assert.ok(payload instanceof Payload);
    assert.equal(new TextDecoder().decode(payload.content), "This is a payload");
    assert.deepEqual(payload.payloadMeta.extraData, { path: "/tmp/123" });
    assert.equal(payload.results.size, 17);
  });
});

Deno.test("PluginHandle.get() rejects with a source archiver's own exception", async () => {
  await withStoq({
    sourceArchivers: ["simple_archiver"],
    pluginOpts: { simple_archiver: { raise_exception: true } },
  }, async (stoq) => {
    const archiver = await stoq.loadPlugin("simple_archiver");
    await assert.rejects(archiver.get(new ArchiverResponse({ task: "This will fail" })), {
      name: "Error",
      message: "Test exception, please ignore",
    });
  });
});

Deno.test("scan() calls each dest archiver once per payload and lists it in plugins_run", async () => {
  reset(dummyArchiverCalls);
  await withStoq({ destArchivers: ["dummy_archiver"] }, async (stoq) => {
    const response = await stoq.scan(CONTENT, {
      requestMeta: new RequestMeta({ archivePayloads: true }),
    });
    assert.deepEqual(dummyArchiverCalls, [response.results[0].payloadId]);
    assert.deepEqual(response.results[0].pluginsRun.archivers, ["dummy_archiver"]);
    // It returned nothing, so there is no entry for it.
    assert.deepEqual(response.results[0].archivers, {});
  });
});

Deno.test("scan() archives nothing when the request says archive_payloads false", async () => {
  reset(dummyArchiverCalls);
  await withStoq({ destArchivers: ["dummy_archiver"] }, async (stoq) => {
    const response = await stoq.scan(CONTENT, {
      addStartDispatch: ["extract_payload"],
      requestMeta: new RequestMeta({ archivePayloads: false }),
    });
    assert.equal(response.results.length, 2);
    assert.deepEqual(dummyArchiverCalls, []);
    assert.deepEqual(response.results.map((r) => r.pluginsRun.archivers), [[], []]);
  });
});

Deno.test("scan() skips archiving a payload with should_archive false but archives its extracted payload", async () => {
  reset(dummyArchiverCalls);
  await withStoq({ destArchivers: ["dummy_archiver"] }, async (stoq) => {
    const response = await stoq.scan(CONTENT, {
      payloadMeta: { shouldArchive: false },
      addStartDispatch: ["extract_payload"],
      requestMeta: new RequestMeta({ archivePayloads: true }),
    });
    const [root, child] = response.results;
    assert.deepEqual(dummyArchiverCalls, [child.payloadId]);
    assert.deepEqual(root.pluginsRun.archivers, []);
    assert.deepEqual(child.pluginsRun.archivers, ["dummy_archiver"]);
  });
});

Deno.test("scan() lets a dispatcher turn off archiving of a payload by changing its meta", async () => {
  reset(simpleArchiverCalls);
  await withStoq({
    dispatchers: ["simple_dispatcher"],
    destArchivers: ["simple_archiver"],
    pluginOpts: { simple_dispatcher: { should_archive: false } },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    assert.equal(response.results[0].payloadMeta.shouldArchive, false);
    assert.deepEqual(response.results[0].archivers, {});
    assert.deepEqual(response.results[0].pluginsRun.archivers, []);
    assert.deepEqual(simpleArchiverCalls, []);
  });
});

Deno.test("scan() archives a payload with should_scan false", async () => {
  await withStoq({
    destArchivers: ["simple_archiver"],
    pluginOpts: { simple_worker: { should_scan: false } },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    assert.equal(response.results.length, 2);
    assert.deepEqual(response.results[1].archivers, { simple_archiver: { file_save_id: 12345 } });
  });
});

Deno.test("scan() stores a dest archiver's results under its name and records no error", async () => {
  await withStoq({ destArchivers: ["simple_archiver"] }, async (stoq) => {
    const response = await stoq.scan(CONTENT, {
      requestMeta: new RequestMeta({ archivePayloads: true }),
    });
    assert.deepEqual(response.results[0].archivers, { simple_archiver: { file_save_id: 12345 } });
    assert.deepEqual(response.errors, []);
  });
});

Deno.test("scan() turns a dest archiver's exception into one error and still lists it as run", async () => {
  await withStoq({
    destArchivers: ["simple_archiver"],
    pluginOpts: { simple_archiver: { raise_exception: true } },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    assert.deepEqual(response.results[0].pluginsRun.archivers, ["simple_archiver"]);
    assert.deepEqual(response.results[0].archivers, {});
    assert.equal(response.errors.length, 1);
    assert.match(
      response.errors[0].error,
      /^archiver:failed to archive: File .* ; Error: Test exception, please ignore$/,
    );
    assert.equal(response.errors[0].pluginName, "simple_archiver");
    assert.equal(response.errors[0].payloadId, response.results[0].payloadId);
    assert.equal(response.errors[0].kind, "archiver");
  });
});

Deno.test("scan() keeps a dest archiver's returned errors and its results", async () => {
  await withStoq({
    destArchivers: ["simple_archiver"],
    pluginOpts: { simple_archiver: { return_errors: true } },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    assert.deepEqual(response.results[0].pluginsRun.archivers, ["simple_archiver"]);
    assert.deepEqual(response.results[0].archivers, { simple_archiver: { file_save_id: 12345 } });
    assert.deepEqual(response.errors.map((e) => e.toJSON()), [{
      error: "Test error please ignore",
      plugin_name: "simple_archiver",
      payload_id: response.results[0].payloadId,
      kind: "plugin",
    }]);
  });
});

Deno.test("scan() saves each response once with every connector, after the decorators ran", async () => {
  reset(saves);
  await withStoq(
    { connectors: ["dummy_connector"], decorators: ["simple_decorator"] },
    async (stoq) => {
      const first = await stoq.scan(CONTENT);
      assert.equal(saves.length, 1);
      assert.deepEqual(saves[0], first.toJSON());
      assert.deepEqual(saves[0].decorators, { simple_decorator: { simple_decoration: 123 } });
      const second = await stoq.scan(CONTENT);
      assert.deepEqual(saves.map((s) => s.scan_id), [first.scanId, second.scanId]);
    },
  );
});

Deno.test("scan() logs a connector's failure and adds it to the response's errors", async () => {
  reset(saves);
  await withStoq({
    connectors: ["dummy_connector"],
    pluginOpts: { dummy_connector: { raise_exception: true } },
  }, async (stoq, { lines }) => {
    const response = await stoq.scan(CONTENT);
    const errors = lines.filter((line) => line.startsWith("ERROR:"));
    assert.equal(errors.length, 1);
    assert.ok(
      errors[0].startsWith("ERROR:stoq:Failed to save results using dummy_connector\n"),
      errors[0],
    );
    assert.match(errors[0], /Error: Unexpected exception/);
    assert.equal(response.errors.length, 1);
    assert.match(
      response.errors[0].error,
      /^connector:failed to save: File .* ; Error: Unexpected exception$/,
    );
    assert.equal(response.errors[0].pluginName, "dummy_connector");
    assert.equal(response.errors[0].payloadId, null);
    assert.equal(response.errors[0].kind, "connector");
    assert.deepEqual(saves, []);
  });
});

Deno.test("scan() still saves with the other connectors when one fails", async () => {
  reset(saves);
  await withStoq({ connectors: ["failing_connector", "dummy_connector"] }, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    assert.equal(saves.length, 1);
    assert.equal(saves[0].scan_id, response.scanId);
    assert.deepEqual(response.errors.map((e) => [e.pluginName, e.kind]), [[
      "failing_connector",
      "connector",
    ]]);
  });
});

Deno.test("scan() stores a decorator's results under its name and records no error", async () => {
  reset(simpleDecoratorCalls);
  await withStoq({ decorators: ["simple_decorator"] }, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["extract_payload"] });
    assert.deepEqual(response.decorators, { simple_decorator: { simple_decoration: 123 } });
    assert.deepEqual(response.errors, []);
    // Once per response, seeing every payload.
    assert.deepEqual(simpleDecoratorCalls, [{
      scanId: response.scanId,
      payloadIds: response.results.map((r) => r.payloadId),
    }]);
  });
});

Deno.test("scan() stores nothing for a decorator that returns nothing", async () => {
  reset(dummyDecoratorCalls);
  await withStoq({ decorators: ["dummy_decorator"] }, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    assert.deepEqual(response.decorators, {});
    assert.deepEqual(dummyDecoratorCalls, [response.scanId]);
  });
});

Deno.test("scan() keeps a decorator's returned errors, without a payload id, and its results", async () => {
  await withStoq({
    decorators: ["simple_decorator"],
    pluginOpts: { simple_decorator: { return_errors: true } },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    assert.deepEqual(response.decorators, { simple_decorator: { simple_decoration: 123 } });
    assert.deepEqual(response.errors.map((e) => e.toJSON()), [{
      error: "Test error please ignore",
      plugin_name: "simple_decorator",
      payload_id: null,
      kind: "plugin",
    }]);
  });
});

Deno.test("scan() turns a decorator's exception into one error without a payload id", async () => {
  await withStoq({
    decorators: ["simple_decorator"],
    pluginOpts: { simple_decorator: { raise_exception: true } },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    assert.deepEqual(response.decorators, {});
    assert.equal(response.errors.length, 1);
    assert.match(
      response.errors[0].error,
      /^decorator: File .* ; Error: Test exception, please ignore$/,
    );
    assert.equal(response.errors[0].pluginName, "simple_decorator");
    assert.equal(response.errors[0].payloadId, null);
    assert.equal(response.errors[0].kind, "decorator");
  });
});

/** A.zip holding B.txt and C.zip, which holds D.txt. */
function zipTree(): { response: StoqResponse; ids: string[] } {
  const a = new Payload("A.zip", { payloadMeta: { extraData: { filename: "A.zip" } } });
  const b = new Payload("B.txt", { extractedBy: "unzip", extractedFrom: a.payloadId });
  const c = new Payload("C.zip", { extractedBy: "unzip", extractedFrom: a.payloadId });
  const d = new Payload("D.txt", { extractedBy: "unzip", extractedFrom: c.payloadId });
  const request = new Request({
    payloads: [a, b, c, d],
    requestMeta: new RequestMeta({ source: "tree" }),
    errors: [new ScanError("an error of the whole scan")],
  });
  return { response: new StoqResponse(request), ids: [a, b, c, d].map((p) => p.payloadId) };
}

Deno.test("reconstructAllSubresponses() yields each payload with everything extracted from it, decorated", async () => {
  reset(simpleDecoratorCalls);
  await withStoq({ decorators: ["simple_decorator"] }, async (stoq) => {
    const { response, ids } = zipTree();
    const subs: StoqResponse[] = [];
    for await (const sub of stoq.reconstructAllSubresponses(response)) subs.push(sub);
    assert.deepEqual(subs.map((s) => s.results.map((r) => r.payloadId)), [
      ids,
      [ids[1]],
      [ids[2], ids[3]],
      [ids[3]],
    ]);
    for (const sub of subs) {
      assert.equal(sub.scanId, response.scanId);
      assert.equal(sub.time, response.time);
      assert.deepEqual(sub.requestMeta.toJSON(), response.requestMeta.toJSON());
      assert.deepEqual(sub.errors, []);
      assert.deepEqual(sub.decorators, { simple_decorator: { simple_decoration: 123 } });
    }
    assert.deepEqual(simpleDecoratorCalls.map((c) => c.payloadIds.length), [4, 1, 2, 1]);
    // The original response is left as it was.
    assert.equal(response.errors.length, 1);
    assert.deepEqual(response.decorators, {});
  });
});

Deno.test("reconstructAllSubresponses() never repeats a payload with several matching parents", async () => {
  await withStoq({}, async (stoq) => {
    const root = new Payload("root");
    const twice = new Payload("twice", { extractedFrom: [root.payloadId, root.payloadId] });
    const self = new Payload("self");
    self.results.extractedFrom.push(root.payloadId, self.payloadId);
    const response = new StoqResponse(new Request({ payloads: [root, twice, self] }));
    const sizes: number[] = [];
    for await (const sub of stoq.reconstructAllSubresponses(response)) {
      sizes.push(sub.results.length);
    }
    assert.deepEqual(sizes, [3, 1, 1]);
  });
});

Deno.test("reconstructAllSubresponses() of a real scan follows extracted_from through every round", async () => {
  await withStoq(
    { pluginOpts: { simple_worker: { extracted_dispatch_to: ["extract_payload"] } } },
    async (stoq) => {
      const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
      const sizes: number[] = [];
      for await (const sub of stoq.reconstructAllSubresponses(response)) {
        sizes.push(
          sub.results.length,
        );
      }
      assert.deepEqual(sizes, [3, 2, 1]);
    },
  );
});
