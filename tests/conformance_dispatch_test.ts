/**
 * Conformance with stoQ v3, dispatch: dispatchers, always/start dispatch, dispatch_to, required
 * workers, deduplication of extracted payloads, multiclass plugins, and the quirks stoq fixes there
 * (spec §g 10-23, 45; §i 3, 5-11).
 *
 * @module
 */
import assert from "node:assert/strict";
import { Payload, PayloadMeta, Request } from "../mod.ts";
import { CONTENT, INVALID_PLUGINS, PLUGINS, reset, withStoq } from "./_conformance.ts";
import { calls as simpleWorkerCalls } from "./testdata/plugins/worker/simple_worker/mod.ts";
import { calls as dummyWorkerCalls } from "./testdata/plugins/worker/dummy_worker/mod.ts";
import { calls as multiclassCalls } from "./testdata/plugins/worker/multiclass_plugin/mod.ts";
import { calls as simpleDispatcherCalls } from "./testdata/plugins/dispatcher/simple_dispatcher/mod.ts";
import { calls as dummyDispatcherCalls } from "./testdata/plugins/dispatcher/dummy_dispatcher/mod.ts";

Deno.test("scan() sends a payload to the workers a dispatcher names, with the dispatcher's metadata", async () => {
  reset(dummyWorkerCalls);
  await withStoq({ dispatchers: ["simple_dispatcher"] }, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    assert.deepEqual(response.results[0].pluginsRun.workers, ["dummy_worker"]);
    assert.deepEqual(dummyWorkerCalls, [{
      payloadId: response.results[0].payloadId,
      dispatchMeta: { simple_dispatcher: { test_key: "Useful metadata info" } },
      requestPayloads: 1,
    }]);
    assert.deepEqual(response.errors, []);
  });
});

Deno.test("PluginHandle.getDispatches() rejects with a dispatcher's own exception", async () => {
  await withStoq({ pluginOpts: { simple_dispatcher: { raise_exception: true } } }, async (stoq) => {
    const dispatcher = await stoq.loadPlugin("simple_dispatcher");
    const payload = new Payload(CONTENT);
    await assert.rejects(
      dispatcher.getDispatches(payload, new Request({ payloads: [payload] })),
      { name: "Error", message: "Test exception, please ignore" },
    );
  });
});

Deno.test("scan() turns a dispatcher's exception into an error per call; always_dispatch still applies", async () => {
  reset(simpleDispatcherCalls);
  await withStoq({
    dispatchers: ["simple_dispatcher"],
    alwaysDispatch: ["dummy_worker"],
    pluginOpts: { simple_dispatcher: { raise_exception: true } },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    const rootId = response.results[0].payloadId;
    assert.deepEqual(response.results[0].pluginsRun.workers, ["dummy_worker"]);
    // Dispatchers run every round: round 1, then round 2 finds nothing left to run.
    assert.deepEqual(simpleDispatcherCalls, [rootId, rootId]);
    assert.equal(response.errors.length, 2);
    for (const error of response.errors) {
      assert.match(
        error.error,
        /^dispatcher:failed to dispatch: File ".*simple_dispatcher\/mod\.ts", line \d+, in .* ; Error: Test exception, please ignore$/,
      );
      assert.equal(error.pluginName, "simple_dispatcher");
      assert.equal(error.payloadId, rootId);
      assert.equal(error.kind, "dispatcher");
    }
  });
});

Deno.test("scan() keeps the errors a dispatcher returns, naming the dispatcher and payload", async () => {
  reset(simpleDispatcherCalls);
  await withStoq({
    dispatchers: ["simple_dispatcher"],
    pluginOpts: { simple_dispatcher: { return_errors: true } },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    const rootId = response.results[0].payloadId;
    assert.deepEqual(response.results[0].pluginsRun.workers, ["dummy_worker"]);
    assert.equal(simpleDispatcherCalls.length, 2);
    assert.deepEqual(
      response.errors.map((e) => e.toJSON()),
      simpleDispatcherCalls.map(() => ({
        error: "Test error please ignore",
        plugin_name: "simple_dispatcher",
        payload_id: rootId,
        kind: "plugin",
      })),
    );
  });
});

Deno.test("scan() calls each dispatcher once per payload per round, on the live request", async () => {
  reset(dummyDispatcherCalls);
  await withStoq({
    dispatchers: ["dummy_dispatcher"],
    pluginOpts: { simple_worker: { extracted_dispatch_to: ["extract_payload"] } },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    const [root, lorem, random] = response.results.map((r) => r.payloadId);
    assert.equal(response.results.length, 3);
    // Round 1: the root; round 2: root and Lorem; round 3: all three, then nothing is left.
    assert.deepEqual(dummyDispatcherCalls, [root, root, lorem, root, lorem, random]);
  });
});

Deno.test("scan() re-runs dispatchers each round, so a dispatcher can route on earlier results", async () => {
  await withStoq({ dispatchers: ["conditional_dispatcher"] }, async (stoq) => {
    const without = await stoq.scan(CONTENT);
    assert.deepEqual(without.results[0].pluginsRun.workers, []);
    assert.equal(without.results.length, 1);

    const withDummy = await stoq.scan(CONTENT, { addStartDispatch: ["dummy_worker"] });
    assert.deepEqual(withDummy.results[0].pluginsRun.workers, ["dummy_worker", "simple_worker"]);
    assert.deepEqual(withDummy.results[0].workers, { simple_worker: { valuable_insight: "wow" } });
    assert.equal(withDummy.results.length, 2);
    assert.deepEqual(withDummy.results[1].pluginsRun.workers, ["simple_worker"]);
  });
});

Deno.test("scan() runs a worker a dispatcher names twice only once", async () => {
  reset(dummyWorkerCalls);
  await withStoq({
    dispatchers: ["simple_dispatcher"],
    pluginOpts: { simple_dispatcher: { workers: ["dummy_worker", "dummy_worker"] } },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    assert.deepEqual(response.results[0].pluginsRun.workers, ["dummy_worker"]);
    assert.deepEqual(dummyWorkerCalls.map((c) => c.payloadId), [response.results[0].payloadId]);
  });
});

Deno.test("scan() runs each of several dispatched workers exactly once per payload", async () => {
  for (const content of ["multi-plugin-content", "again-multi-plugin-space-content"]) {
    reset(simpleWorkerCalls, dummyWorkerCalls);
    await withStoq({
      dispatchers: ["simple_dispatcher"],
      pluginOpts: { simple_dispatcher: { workers: ["simple_worker", "dummy_worker"] } },
    }, async (stoq) => {
      const response = await stoq.scan(content);
      const ids = response.results.map((r) => r.payloadId);
      assert.equal(ids.length, 2);
      assert.deepEqual(response.results[0].pluginsRun.workers, ["simple_worker", "dummy_worker"]);
      assert.deepEqual(simpleWorkerCalls.map((c) => c.payloadId), ids);
      assert.deepEqual(dummyWorkerCalls.map((c) => c.payloadId), ids);
    });
  }
});

Deno.test("scan() honours the dispatch_to of an extracted payload in the next round", async () => {
  await withStoq(
    { pluginOpts: { simple_worker: { extracted_dispatch_to: ["extract_payload"] } } },
    async (stoq) => {
      const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
      assert.equal(response.results.length, 3);
      const [root, lorem, grandchild] = response.results;
      assert.deepEqual(root.pluginsRun.workers, ["simple_worker"]);
      assert.deepEqual(lorem.pluginsRun.workers, ["extract_payload"]);
      assert.deepEqual(grandchild.extractedBy, ["extract_payload"]);
      assert.deepEqual(grandchild.extractedFrom, [lorem.payloadId]);
      assert.deepEqual(grandchild.pluginsRun.workers, []);
    },
  );
});

Deno.test("scan() sends the scanned payload to a worker's dispatch_to in the next round", async () => {
  await withStoq(
    { pluginOpts: { simple_worker: { additional_dispatch_to: ["dummy_worker"] } } },
    async (stoq) => {
      const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
      assert.equal(response.results.length, 2);
      assert.deepEqual(response.results[0].pluginsRun.workers, ["simple_worker", "dummy_worker"]);
      assert.deepEqual(response.results[1].pluginsRun.workers, []);
      assert.deepEqual(response.results[1].workers, {});
    },
  );
});

Deno.test("scan() honours dispatch_to on an initial payload's meta in round 1", async () => {
  reset(dummyWorkerCalls);
  await withStoq({ maxRecursion: 1 }, async (stoq) => {
    const response = await stoq.scan(CONTENT, {
      payloadMeta: new PayloadMeta({ dispatchTo: ["dummy_worker"] }),
    });
    assert.deepEqual(response.results[0].pluginsRun.workers, ["dummy_worker"]);
    assert.equal(dummyWorkerCalls.length, 1);
    assert.deepEqual(response.errors, []);
  });
});

Deno.test("scan() neither dispatches nor scans an initial payload with should_scan false", async () => {
  reset(dummyWorkerCalls, dummyDispatcherCalls);
  await withStoq({ dispatchers: ["dummy_dispatcher"] }, async (stoq) => {
    const response = await stoq.scan(CONTENT, {
      payloadMeta: { shouldScan: false, dispatchTo: ["dummy_worker"] },
      addStartDispatch: ["dummy_worker"],
    });
    assert.equal(response.results.length, 1);
    assert.deepEqual(response.results[0].pluginsRun.workers, []);
    assert.deepEqual(dummyWorkerCalls, []);
    assert.deepEqual(dummyDispatcherCalls, []);
  });
});

Deno.test("scan() reports a start-dispatched plugin that does not exist once, and never runs it", async () => {
  await withStoq({}, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["this_plugin_doesnt_exist"] });
    assert.deepEqual(response.results[0].pluginsRun.workers, []);
    assert.equal(response.errors.length, 1);
    assert.match(
      response.errors[0].error,
      /^Worker plugin this_plugin_doesnt_exist failed to load: .*PluginNotFoundError: The plugin "this_plugin_doesnt_exist" is invalid or does not exist in your plugin path$/,
    );
    assert.equal(response.errors[0].pluginName, "this_plugin_doesnt_exist");
    assert.equal(response.errors[0].payloadId, response.results[0].payloadId);
    assert.equal(response.errors[0].kind, "plugin_load");
  });
});

Deno.test("scan() reports a worker that fails to load once per payload, not once per round", async () => {
  reset(simpleDispatcherCalls);
  await withStoq({
    dispatchers: ["simple_dispatcher"],
    pluginOpts: { simple_dispatcher: { workers: ["missing_worker", "simple_worker"] } },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    const ids = response.results.map((r) => r.payloadId);
    assert.equal(ids.length, 2);
    // Three rounds: the dispatcher named missing_worker five times.
    assert.equal(simpleDispatcherCalls.length, 5);
    assert.deepEqual(response.errors.map((e) => [e.pluginName, e.payloadId, e.kind]), [
      ["missing_worker", ids[0], "plugin_load"],
      ["missing_worker", ids[1], "plugin_load"],
    ]);
  });
});

Deno.test("scan() reports a dispatched plugin whose module is not a plugin as a load error", async () => {
  await withStoq({ pluginDirList: [PLUGINS, INVALID_PLUGINS] }, async (stoq) => {
    const response = await stoq.scan(CONTENT, {
      addStartDispatch: ["missing_plugin", "dummy_worker"],
    });
    assert.deepEqual(response.results[0].pluginsRun.workers, ["dummy_worker"]);
    assert.equal(response.errors.length, 1);
    assert.match(
      response.errors[0].error,
      /^Worker plugin missing_plugin failed to load: .*PluginError: Cannot load plugin "missing_plugin": ".*missing_plugin\/mod\.ts" has no default export made with definePlugin\(\)$/,
    );
    assert.equal(response.errors[0].kind, "plugin_load");
  });
});

Deno.test("scan() reports a dispatched plugin that is not a worker as a load error", async () => {
  await withStoq({}, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_dispatcher"] });
    assert.deepEqual(response.results[0].pluginsRun.workers, []);
    assert.equal(response.errors.length, 1);
    assert.match(
      response.errors[0].error,
      /Plugin "simple_dispatcher" is not a worker \(it implements dispatcher\)$/,
    );
    assert.equal(response.errors[0].kind, "plugin_load");
  });
});

Deno.test("scan() runs required workers first, on every payload that needs them", async () => {
  await withStoq({
    pluginOpts: {
      simple_worker: { required_workers: "dummy_worker", extracted_dispatch_to: ["simple_worker"] },
    },
  }, async (stoq) => {
    assert.deepEqual([...(await stoq.loadPlugin("simple_worker")).requiredWorkers], [
      "dummy_worker",
    ]);
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    assert.equal(response.results.length, 2);
    assert.deepEqual(response.results[0].pluginsRun.workers, ["dummy_worker", "simple_worker"]);
    assert.deepEqual(response.results[1].pluginsRun.workers, ["dummy_worker", "simple_worker"]);
    assert.deepEqual(response.errors, []);
  });
});

Deno.test("scan() records a payload re-extracting itself without a self-reference", async () => {
  await withStoq({
    pluginOpts: {
      simple_worker: {
        extracted_dispatch_to: ["extract_payload"],
        extracted_payload: "The quick brown foxmore data",
      },
      extract_payload: { extracted_payload: "The quick brown foxmore data" },
    },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    assert.equal(response.results.length, 2);
    const [root, child] = response.results;
    assert.deepEqual(root.pluginsRun.workers, ["simple_worker"]);
    assert.deepEqual(child.pluginsRun.workers, ["extract_payload"]);
    // stoQ appended extract_payload and the child's own id here (PR #164); stoq records nothing.
    assert.deepEqual(child.extractedBy, ["simple_worker"]);
    assert.deepEqual(child.extractedFrom, [root.payloadId]);
  });
});

Deno.test("scanRequest() keeps one result per distinct extracted content and merges extracted_by", async () => {
  await withStoq({
    pluginOpts: {
      simple_worker: { extracted_payload: "same bytes" },
      extract_payload: { extracted_payload: "same bytes" },
    },
  }, async (stoq) => {
    const request = new Request({ payloads: [new Payload(CONTENT)] });
    const response = await stoq.scanRequest(request, {
      addStartDispatch: ["simple_worker", "extract_payload"],
    });
    assert.equal(response.results.length, 2);
    assert.equal(request.payloads.length, 2);
    const [root, child] = response.results;
    assert.deepEqual(child.extractedBy, ["simple_worker", "extract_payload"]);
    assert.deepEqual(child.extractedFrom, [root.payloadId, root.payloadId]);
    assert.deepEqual(child.payloadMeta.extraData, {});
  });
});

Deno.test("scan() keeps a duplicate's different extra_data in the kept payload's also_known_as", async () => {
  await withStoq({
    pluginOpts: {
      simple_worker: {
        extracted_payload: "same bytes",
        extracted_extra_data: '{"filename": "a.txt"}',
      },
      extract_payload: {
        extracted_payload: "same bytes",
        extracted_extra_data: '{"filename": "b.txt"}',
      },
    },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT, {
      addStartDispatch: ["simple_worker", "extract_payload"],
    });
    assert.equal(response.results.length, 2);
    assert.deepEqual(response.results[1].payloadMeta.extraData, {
      filename: "a.txt",
      also_known_as: [{ filename: "b.txt" }],
    });
  });
});

Deno.test("scan() merges a payload extracted again from a later payload into the initial one", async () => {
  await withStoq({
    pluginOpts: {
      simple_worker: { extracted_dispatch_to: ["extract_payload"] },
      extract_payload: { extracted_payload: "The quick brown fox" },
    },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    assert.equal(response.results.length, 2);
    const [root, lorem] = response.results;
    assert.deepEqual(root.extractedBy, ["extract_payload"]);
    assert.deepEqual(root.extractedFrom, [lorem.payloadId]);
  });
});

Deno.test("scanRequest() keeps and scans identical initial payloads separately", async () => {
  reset(dummyWorkerCalls);
  await withStoq({}, async (stoq) => {
    const request = new Request({ payloads: [new Payload(CONTENT), new Payload(CONTENT)] });
    const response = await stoq.scanRequest(request, { addStartDispatch: ["dummy_worker"] });
    assert.equal(response.results.length, 2);
    assert.deepEqual(
      dummyWorkerCalls.map((c) => c.payloadId),
      request.payloads.map((p) => p.payloadId),
    );
    assert.equal(response.results[0], request.payloads[0].results);
  });
});

Deno.test("scan() runs a chain of required workers in dependency order on each payload", async () => {
  await withStoq({
    pluginOpts: {
      simple_worker: { required_workers: "dummy_worker", extracted_dispatch_to: ["simple_worker"] },
      dummy_worker: { required_workers: "extract_payload" },
    },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    assert.equal(response.results.length, 4);
    const [root, random1, lorem, random2] = response.results;
    const chain = ["extract_payload", "dummy_worker", "simple_worker"];
    assert.deepEqual(root.pluginsRun.workers, chain);
    assert.deepEqual(lorem.pluginsRun.workers, chain);
    assert.deepEqual(random1.extractedBy, ["extract_payload"]);
    assert.deepEqual(random1.extractedFrom, [root.payloadId]);
    assert.deepEqual(lorem.extractedBy, ["simple_worker"]);
    assert.deepEqual(random2.extractedBy, ["extract_payload"]);
    assert.deepEqual(random2.extractedFrom, [lorem.payloadId]);
    assert.deepEqual(response.errors, []);
  });
});

Deno.test("scan() cancels the whole dispatch entry when required workers nest too deep", async () => {
  await withStoq({
    maxRequiredWorkerDepth: 1,
    pluginOpts: {
      simple_worker: { required_workers: "dummy_worker", extracted_dispatch_to: ["simple_worker"] },
      dummy_worker: { required_workers: "extract_payload" },
    },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    assert.equal(response.results.length, 1);
    assert.deepEqual(response.results[0].pluginsRun.workers, []);
    assert.equal(response.errors.length, 1);
    assert.match(
      response.errors[0].error,
      /RecursionError: Max required plugin depth 1 reached, unable to generate additional tasks$/,
    );
    assert.equal(response.errors[0].pluginName, "simple_worker");
    assert.equal(response.errors[0].payloadId, response.results[0].payloadId);
    assert.equal(response.errors[0].kind, "required_workers_depth");
  });
});

Deno.test("scan() reports a circular required-worker chain and runs none of it, but runs other entries", async () => {
  await withStoq({
    maxRequiredWorkerDepth: 2000,
    pluginOpts: {
      simple_worker: { required_workers: "dummy_worker", extracted_dispatch_to: ["simple_worker"] },
      dummy_worker: { required_workers: "simple_worker" },
    },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    assert.equal(response.results.length, 1);
    assert.deepEqual(response.results[0].pluginsRun.workers, []);
    assert.equal(response.errors.length, 1);
    assert.match(
      response.errors[0].error,
      /RecursionError: Circular required plugin dependency found, unable to process plugin simple_worker$/,
    );
    assert.equal(response.errors[0].pluginName, "simple_worker");
    assert.equal(response.errors[0].kind, "required_workers_cycle");

    const mixed = await stoq.scan(CONTENT, {
      addStartDispatch: ["simple_worker", "extract_payload"],
    });
    assert.deepEqual(mixed.results[0].pluginsRun.workers, ["extract_payload"]);
    assert.deepEqual(mixed.errors.map((e) => e.kind), ["required_workers_cycle"]);
  });
});

Deno.test("scan() reports a worker whose required worker cannot load as required_workers_unmet", async () => {
  await withStoq(
    { pluginOpts: { simple_worker: { required_workers: "missing_worker" } } },
    async (stoq) => {
      const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
      const rootId = response.results[0].payloadId;
      assert.deepEqual(response.results[0].pluginsRun.workers, []);
      assert.deepEqual(response.errors.map((e) => [e.pluginName, e.payloadId, e.kind]), [
        ["missing_worker", rootId, "plugin_load"],
        ["simple_worker", rootId, "required_workers_unmet"],
      ]);
      assert.equal(
        response.errors[1].error,
        'Worker "simple_worker" did not run: its required workers did not run before the last round',
      );
    },
  );
});

Deno.test("scan() reports a worker still waiting for its required workers at max_recursion", async () => {
  await withStoq({
    maxRecursion: 1,
    pluginOpts: { simple_worker: { required_workers: "dummy_worker" } },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    assert.deepEqual(response.results[0].pluginsRun.workers, ["dummy_worker"]);
    assert.deepEqual(response.errors.map((e) => e.toJSON()), [{
      error:
        'Worker "simple_worker" did not run: its required workers did not run before the last round',
      plugin_name: "simple_worker",
      payload_id: response.results[0].payloadId,
      kind: "required_workers_unmet",
    }]);
  });
});

Deno.test("scan() reports a worker dispatched for the round after the last as max_recursion, loaded or not", async () => {
  await withStoq({
    maxRecursion: 1,
    pluginOpts: { simple_worker: { additional_dispatch_to: ["dummy_worker"] } },
  }, async (stoq) => {
    // A first scan loads dummy_worker, so being loaded cannot be what decides the kind.
    await stoq.scan(CONTENT, { addStartDispatch: ["dummy_worker"] });
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    const [root, lorem] = response.results;
    assert.deepEqual(root.pluginsRun.workers, ["simple_worker"]);
    assert.deepEqual(response.errors.map((e) => e.toJSON()), [
      {
        error: "Final worker round (1) reached, unable to process payload",
        plugin_name: null,
        payload_id: lorem.payloadId,
        kind: "max_recursion",
      },
      {
        error: 'Worker "dummy_worker" did not run: the last round (1) was reached',
        plugin_name: "dummy_worker",
        payload_id: root.payloadId,
        kind: "max_recursion",
      },
    ]);
  });
});

Deno.test("scan() lists plugins_run.workers in task order: start, always_dispatch, then dispatchers in order", async () => {
  await withStoq({
    alwaysDispatch: ["dummy_worker"],
    dispatchers: ["simple_dispatcher", "multiclass_plugin"],
    pluginOpts: {
      simple_worker: { delay_ms: 40 },
      simple_dispatcher: { workers: ["configurable_worker"] },
    },
  }, async (stoq) => {
    for (let i = 0; i < 3; i++) {
      const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
      // simple_worker finishes last, yet is listed first.
      assert.deepEqual(response.results[0].pluginsRun.workers, [
        "simple_worker",
        "dummy_worker",
        "configurable_worker",
        "multiclass_plugin",
      ]);
      assert.deepEqual(response.results[1].pluginsRun.workers, [
        "dummy_worker",
        "configurable_worker",
        "multiclass_plugin",
      ]);
    }
  });
});

Deno.test("scan() orders payloads extracted in one round by task order, not completion order", async () => {
  await withStoq({
    pluginOpts: {
      simple_worker: { delay_ms: 40 },
      extract_payload: { extracted_payload: "second" },
    },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT, {
      addStartDispatch: ["simple_worker", "extract_payload"],
    });
    assert.deepEqual(response.results.map((r) => r.extractedBy), [[], ["simple_worker"], [
      "extract_payload",
    ]]);
    assert.deepEqual(response.results.map((r) => r.size), [19, 11, 6]);
  });
});

Deno.test("scan() lets one plugin serve as dispatcher and worker, with its dispatch metadata", async () => {
  reset(multiclassCalls);
  await withStoq({ dispatchers: ["multiclass_plugin"] }, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    assert.deepEqual(response.results[0].pluginsRun.workers, ["multiclass_plugin"]);
    assert.equal(multiclassCalls.length, 1);
    const meta = multiclassCalls[0].dispatchMeta as {
      multiclass_plugin: { multiclass_plugin: { rule0: string } };
    };
    assert.equal(meta.multiclass_plugin.multiclass_plugin.rule0, "multiclass_plugin");
    const handle = await stoq.loadPlugin("multiclass_plugin");
    assert.equal(stoq.roles.dispatchers.get("multiclass_plugin"), handle);
    assert.deepEqual(handle.kinds, ["worker", "dispatcher"]);
  });
});
