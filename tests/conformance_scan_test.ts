/**
 * Conformance with stoQ v3, core scan: construction, `scan()`, worker results and errors, rounds,
 * deduplication, the data classes' JSON, and the quirks stoq fixes there (spec §g 1-9, 29-30,
 * 33-34, 38-39, 53-64; §i 1, 2, 14, 15).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  ArchiverResponse,
  ConfigError,
  DecoratorResponse,
  DispatcherResponse,
  dumps,
  ExtractedPayload,
  Payload,
  PayloadMeta,
  PayloadResults,
  Request,
  RequestMeta,
  ScanError,
  Stoq,
  StoqError,
  StoqResponse,
  WorkerResponse,
} from "../mod.ts";
import {
  captureSink,
  CONTENT,
  HASH_PLUGIN,
  PLUGINS,
  reset,
  TESTDATA,
  withStoq,
} from "./_conformance.ts";
import { calls as simpleWorkerCalls } from "./testdata/plugins/worker/simple_worker/mod.ts";
import { calls as dummyWorkerCalls } from "./testdata/plugins/worker/dummy_worker/mod.ts";
import { calls as extractCalls } from "./testdata/plugins/worker/extract_payload/mod.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

Deno.test("Stoq.create() without a config file or plugins directory lists no plugins and creates no log dir", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const stoq = await Stoq.create({ baseDir: dir, logSinks: [] });
    try {
      assert.deepEqual(stoq.listPlugins(), {});
      assert.equal(stoq.config, undefined);
      assert.equal(stoq.maxRecursion, 10);
      assert.equal(stoq.maxQueue, 100);
      assert.equal(stoq.providerConsumers, 2);
      assert.equal(stoq.maxRequiredWorkerDepth, 10);
    } finally {
      await stoq.close();
    }
    // stoQ made <base_dir>/logs on every default construction; stoq only logs to a file when asked.
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Stoq.create() reads stoq.cfg from the base dir", async () => {
  await withStoq({}, (stoq) => {
    assert.equal(stoq.maxQueue, 919);
    assert.equal(stoq.maxRecursion, 10);
    assert.equal(stoq.providerConsumers, 50);
    assert.deepEqual(stoq.pluginDirList, [PLUGINS]);
  });
});

Deno.test("Stoq.create() with logDir writes stoq.log there", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const stoq = await Stoq.create({
      baseDir: dir,
      logDir: `${dir}/logs`,
      logSinks: [],
      pluginDirList: ["/no/way/this/exists"],
    });
    await stoq.close();
    const log = await Deno.readTextFile(`${dir}/logs/stoq.log`);
    assert.match(
      log,
      /^WARNING:stoq:Plugin directory "\/no\/way\/this\/exists" is not a directory, skipping it\n$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Stoq.create() does not add its file sink to the caller's logSinks array", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sinks = [captureSink([])];
    const stoq = await Stoq.create({ baseDir: dir, logDir: dir, logSinks: sinks });
    await stoq.close();
    assert.equal(sinks.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Stoq.create() gives each instance its own log sinks: lines are never duplicated", async () => {
  const first: string[] = [];
  const second: string[] = [];
  const a = await Stoq.create({ baseDir: TESTDATA, logSinks: [captureSink(first)] });
  const b = await Stoq.create({ baseDir: TESTDATA, logSinks: [captureSink(second)] });
  try {
    a.log.warning("only once");
    assert.deepEqual(first, ["WARNING:stoq:only once"]);
    assert.deepEqual(second, []);
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("Stoq.create() loads exactly one plugin into each role it is given", async () => {
  await withStoq({
    providers: ["dummy_provider"],
    sourceArchivers: ["simple_archiver"],
    destArchivers: ["dummy_archiver"],
    connectors: ["dummy_connector"],
    decorators: ["dummy_decorator"],
    dispatchers: ["dummy_dispatcher"],
  }, async (stoq) => {
    const roles = Object.fromEntries(
      Object.entries(stoq.roles).map(([role, map]) => [role, [...map.keys()]]),
    );
    assert.deepEqual(roles, {
      providers: ["dummy_provider"],
      sourceArchivers: ["simple_archiver"],
      destArchivers: ["dummy_archiver"],
      connectors: ["dummy_connector"],
      decorators: ["dummy_decorator"],
      dispatchers: ["dummy_dispatcher"],
    });
    assert.equal(
      stoq.roles.connectors.get("dummy_connector"),
      await stoq.loadPlugin("dummy_connector"),
    );
  });
});

Deno.test("Stoq.create() strips role names and skips empty ones", async () => {
  await withStoq({ connectors: [" dummy_connector ", "", "  "] }, (stoq) => {
    assert.deepEqual([...stoq.roles.connectors.keys()], ["dummy_connector"]);
  });
});

Deno.test("Stoq.create() rejects a plugin whose kind does not fit its role", async () => {
  await assert.rejects(
    Stoq.create({ baseDir: TESTDATA, logSinks: [], dispatchers: ["dummy_worker"] }),
    (err: Error) => {
      assert.equal(err.name, "PluginError");
      assert.match(
        err.message,
        /^Plugin "dummy_worker" cannot be used as one of the dispatchers: it is not a dispatcher/,
      );
      return true;
    },
  );
});

Deno.test("Stoq.create() honours explicit numbers instead of falling through to stoq.cfg", async () => {
  await withStoq(
    { maxRecursion: 1, maxQueue: 1, providerConsumers: 1, maxRequiredWorkerDepth: 0 },
    (stoq) => {
      assert.equal(stoq.maxRecursion, 1);
      assert.equal(stoq.maxQueue, 1);
      assert.equal(stoq.providerConsumers, 1);
      assert.equal(stoq.maxRequiredWorkerDepth, 0);
    },
  );
});

Deno.test("Stoq.create() rejects maxRecursion 0 instead of silently using 10", async () => {
  await assert.rejects(
    Stoq.create({ baseDir: TESTDATA, logSinks: [], maxRecursion: 0 }),
    (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(
        err.message,
        'Invalid option "maxRecursion": expected an integer of at least 1, got 0',
      );
      return true;
    },
  );
});

Deno.test("Stoq.create() with maxRequiredWorkerDepth 0 refuses any required worker", async () => {
  await withStoq({
    maxRequiredWorkerDepth: 0,
    pluginOpts: { simple_worker: { required_workers: "dummy_worker" } },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    assert.deepEqual(response.results[0].pluginsRun.workers, []);
    assert.equal(response.errors.length, 1);
    assert.equal(response.errors[0].kind, "required_workers_depth");
    assert.match(response.errors[0].error, /Max required plugin depth 0 reached/);
  });
});

Deno.test("scan() of plain content gives one result whose size is the content length", async () => {
  await withStoq({}, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    assert.equal(response.results.length, 1);
    const [result] = response.results;
    assert.equal(result.size, 19);
    assert.match(result.payloadId, UUID);
    assert.deepEqual(result.pluginsRun, { workers: [], archivers: [] });
    assert.deepEqual(result.extractedFrom, []);
    assert.deepEqual(result.extractedBy, []);
    assert.deepEqual(result.workers, {});
    assert.deepEqual(response.errors, []);
    assert.match(response.scanId, UUID);
    assert.match(response.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  });
});

Deno.test("scan() counts the size of string content in UTF-8 bytes, not characters", async () => {
  await withStoq({}, async (stoq) => {
    const response = await stoq.scan("猫 cat");
    assert.equal(response.results[0].size, 7);
    assert.equal(new Payload("猫").results.size, 3);
  });
});

Deno.test("StoqResponse.split() gives one response per (payload, worker) with only that worker", async () => {
  await withStoq({}, async (stoq) => {
    const response = await stoq.scan(CONTENT, {
      addStartDispatch: ["multiclass_plugin", "simple_worker"],
    });
    const split = response.split();
    assert.equal(split.length, 2);
    assert.deepEqual(split.map((s) => Object.keys(s.results[0].workers)), [["multiclass_plugin"], [
      "simple_worker",
    ]]);
    for (const part of split) {
      assert.equal(part.results.length, 1);
      assert.equal(part.results[0].payload_id, response.results[0].payloadId);
      assert.equal(part.scan_id, response.scanId);
    }
    // The extracted payload has no worker output, so it contributes nothing.
    assert.equal(response.results.length, 2);
  });
});

Deno.test("scan() never scans an extracted payload with should_scan false, even when it names workers", async () => {
  reset(dummyWorkerCalls);
  await withStoq({
    pluginOpts: { simple_worker: { should_scan: false, extracted_dispatch_to: ["dummy_worker"] } },
  }, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    assert.equal(response.results.length, 2);
    assert.deepEqual(response.results[1].pluginsRun.workers, []);
    assert.equal(response.results[1].payloadMeta.shouldScan, false);
    assert.deepEqual(response.results[1].payloadMeta.dispatchTo, ["dummy_worker"]);
    assert.deepEqual(dummyWorkerCalls, []);
  });
});

Deno.test("scan() sends every payload, initial and extracted, to always_dispatch workers", async () => {
  reset(simpleWorkerCalls);
  await withStoq({ alwaysDispatch: ["simple_worker"] }, async (stoq) => {
    // Loaded at construction, before any scan.
    assert.deepEqual(stoq.alwaysDispatch, ["simple_worker"]);
    const response = await stoq.scan(CONTENT);
    assert.equal(response.results.length, 2);
    assert.deepEqual(response.results[0].pluginsRun.workers, ["simple_worker"]);
    assert.deepEqual(response.results[1].pluginsRun.workers, ["simple_worker"]);
    assert.deepEqual(
      simpleWorkerCalls.map((c) => c.payloadId),
      response.results.map((r) => r.payloadId),
    );
  });
});

Deno.test("Stoq.create() rejects an always_dispatch worker that does not exist", async () => {
  await assert.rejects(
    Stoq.create({ baseDir: TESTDATA, logSinks: [], alwaysDispatch: ["this_plugin_doesnt_exist"] }),
    { name: "PluginNotFoundError" },
  );
});

Deno.test("scan() sends only the initial payload to add_start_dispatch workers", async () => {
  reset(extractCalls);
  await withStoq({}, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["extract_payload"] });
    assert.equal(response.results.length, 2);
    assert.deepEqual(response.results[0].pluginsRun.workers, ["extract_payload"]);
    assert.deepEqual(response.results[1].pluginsRun.workers, []);
    assert.equal(response.results[1].size, 50);
    assert.deepEqual(extractCalls, [response.results[0].payloadId]);
  });
});

Deno.test("scan() stores a worker's results under its name and records no error", async () => {
  await withStoq({}, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    assert.deepEqual(response.results[0].workers, { simple_worker: { valuable_insight: "wow" } });
    assert.deepEqual(response.errors, []);
  });
});

Deno.test("scan() stores nothing for a worker that returns nothing, but lists it in plugins_run", async () => {
  await withStoq({}, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["dummy_worker"] });
    assert.deepEqual(response.results[0].workers, {});
    assert.deepEqual(response.results[0].pluginsRun.workers, ["dummy_worker"]);
  });
});

Deno.test("scan() turns a worker's exception into one error and still lists the worker as run", async () => {
  await withStoq({ pluginOpts: { simple_worker: { raise_exception: true } } }, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    assert.deepEqual(response.results[0].pluginsRun.workers, ["simple_worker"]);
    assert.deepEqual(response.results[0].workers, {});
    assert.equal(response.results.length, 1);
    assert.equal(response.errors.length, 1);
    const [error] = response.errors;
    assert.match(
      error.error,
      /^worker:failed to scan: File ".*simple_worker\/mod\.ts", line \d+, in \S*simpleScan.* ; Error: Test exception, please ignore$/,
    );
    assert.equal(error.pluginName, "simple_worker");
    assert.equal(error.payloadId, response.results[0].payloadId);
    assert.equal(error.kind, "worker");
  });
});

Deno.test("scan() turns a worker's string errors into ScanErrors naming the worker and payload, and keeps its results", async () => {
  await withStoq({ pluginOpts: { simple_worker: { return_errors: true } } }, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    assert.deepEqual(response.results[0].pluginsRun.workers, ["simple_worker"]);
    assert.deepEqual(response.results[0].workers, { simple_worker: { valuable_insight: "wow" } });
    assert.equal(response.errors.length, 1);
    assert.ok(response.errors[0] instanceof ScanError);
    assert.deepEqual(response.errors[0].toJSON(), {
      error: "Test error please ignore",
      plugin_name: "simple_worker",
      payload_id: response.results[0].payloadId,
      kind: "plugin",
    });
  });
});

Deno.test("ScanError JSON has kind after error, plugin_name and payload_id", async () => {
  await withStoq({ pluginOpts: { simple_worker: { return_errors: true } } }, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    const json = JSON.parse(response.toString());
    assert.deepEqual(Object.keys(json.errors[0]), ["error", "plugin_name", "payload_id", "kind"]);
  });
});

Deno.test("scan() stops after max_recursion rounds and reports the payload extracted in the last one", async () => {
  await withStoq({ alwaysDispatch: ["extract_payload"] }, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    assert.equal(stoq.maxRecursion, 10);
    assert.equal(response.results.length, stoq.maxRecursion + 1);
    assert.equal(response.errors.length, 1);
    const last = response.results[response.results.length - 1];
    assert.deepEqual(response.errors[0].toJSON(), {
      error: "Final worker round (10) reached, unable to process payload",
      plugin_name: null,
      payload_id: last.payloadId,
      kind: "max_recursion",
    });
    // Every payload but the last was scanned, and each one was extracted from the one before.
    assert.deepEqual(last.pluginsRun.workers, []);
    for (let i = 1; i < response.results.length; i++) {
      assert.deepEqual(response.results[i].extractedFrom, [response.results[i - 1].payloadId]);
      assert.deepEqual(response.results[i - 1].pluginsRun.workers, ["extract_payload"]);
    }
  });
});

Deno.test("scan() with max_recursion 3 gives 4 results", async () => {
  await withStoq({ alwaysDispatch: ["extract_payload"], maxRecursion: 3 }, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    assert.equal(response.results.length, 4);
    assert.equal(
      response.errors[0].error,
      "Final worker round (3) reached, unable to process payload",
    );
  });
});

Deno.test("scan() keeps one payload when a worker keeps extracting the same bytes, without a self-reference", async () => {
  await withStoq({ alwaysDispatch: ["simple_worker"] }, async (stoq) => {
    const response = await stoq.scan(CONTENT);
    assert.equal(response.results.length, 2);
    const [root, lorem] = response.results;
    assert.equal(lorem.size, 11);
    assert.deepEqual(lorem.extractedBy, ["simple_worker"]);
    assert.deepEqual(lorem.extractedFrom, [root.payloadId]);
    assert.deepEqual(response.errors, []);
  });
});

Deno.test("scan() ratelimit waits without blocking the event loop, per instance", async () => {
  const a = await Stoq.create({ baseDir: TESTDATA, logSinks: [] });
  const b = await Stoq.create({ baseDir: TESTDATA, logSinks: [] });
  try {
    await a.scan(CONTENT, { ratelimit: "1/0.3" });
    const finished: string[] = [];
    let timerFired = false;
    const timer = new Promise<void>((resolve) =>
      setTimeout(() => {
        timerFired = true;
        resolve();
      }, 1)
    );
    const secondOfA = a.scan(CONTENT, { ratelimit: "1/0.3" }).then(() => finished.push("a"));
    const firstOfB = b.scan(CONTENT, { ratelimit: "1/0.3" }).then(() => finished.push("b"));
    await Promise.all([secondOfA, firstOfB, timer]);
    // b has its own limiter, so its first scan does not wait behind a's second one.
    assert.deepEqual(finished, ["b", "a"]);
    assert.equal(timerFired, true);
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("scan() rejects a malformed ratelimit", async () => {
  await withStoq({}, async (stoq) => {
    await assert.rejects(stoq.scan(CONTENT, { ratelimit: "fast" }), (err: Error) => {
      assert.ok(err instanceof StoqError);
      assert.equal(err.message, 'Invalid ratelimit "fast": expected "COUNT/SECONDS", e.g. "1/3"');
      return true;
    });
  });
});

Deno.test("scan() takes requestMeta as a plain object, as it takes payloadMeta", async () => {
  await withStoq({ pluginDirList: [HASH_PLUGIN], alwaysDispatch: ["hash"] }, async (stoq) => {
    const init = { source: "plain", extraData: { ticket: 7 }, archivePayloads: false };
    const plain = await stoq.scan("fox", { requestMeta: init });
    const made = await stoq.scan("fox", { requestMeta: new RequestMeta(init) });
    assert.deepEqual(plain.errors, []);
    assert.ok(plain.results[0].workers.hash);
    assert.deepEqual(plain.toJSON().request_meta, made.toJSON().request_meta);
    assert.deepEqual(plain.toJSON().request_meta, {
      archive_payloads: false,
      source: "plain",
      extra_data: { ticket: 7 },
    });
  });
});

Deno.test("scan() reproduces stoQ's full response example, in task order", async () => {
  await withStoq({
    pluginDirList: [PLUGINS, HASH_PLUGIN],
    destArchivers: ["simple_archiver"],
    decorators: ["simple_decorator"],
    alwaysDispatch: ["hash"],
    pluginOpts: { simple_worker: { extracted_dispatch_to: ["dummy_worker"] } },
  }, async (stoq) => {
    const response = await stoq.scan("The quick brown fox", {
      payloadMeta: new PayloadMeta({ extraData: { filename: "fox.txt" } }),
      requestMeta: new RequestMeta({ source: "example", extraData: { ticket: 42 } }),
      addStartDispatch: ["simple_worker", "missing_worker"],
    });
    const json = JSON.parse(response.toString());
    const rootId = json.results[0].payload_id;
    assert.deepEqual(Object.keys(json), [
      "results",
      "request_meta",
      "errors",
      "time",
      "decorators",
      "scan_id",
    ]);
    assert.deepEqual(json.results, [
      {
        size: 19,
        payload_id: rootId,
        payload_meta: {
          should_archive: true,
          should_scan: true,
          extra_data: { filename: "fox.txt" },
          dispatch_to: [],
        },
        plugins_run: { workers: ["simple_worker", "hash"], archivers: ["simple_archiver"] },
        extracted_from: [],
        extracted_by: [],
        workers: {
          simple_worker: { valuable_insight: "wow" },
          hash: {
            md5: "a2004f37730b9445670a738fa0fc9ee5",
            sha1: "c519c1a06cdbeb2bc499e22137fb48683858b345",
            sha256: "5cac4f980fedc3d3f1f99b4be3472c9b30d56523e632d151237ec9309048bda9",
          },
        },
        archivers: { simple_archiver: { file_save_id: 12345 } },
      },
      {
        size: 11,
        payload_id: json.results[1].payload_id,
        payload_meta: {
          should_archive: true,
          should_scan: true,
          extra_data: {},
          dispatch_to: ["dummy_worker"],
        },
        plugins_run: { workers: ["dummy_worker", "hash"], archivers: ["simple_archiver"] },
        extracted_from: [rootId],
        extracted_by: ["simple_worker"],
        workers: {
          hash: {
            md5: "0956d2fbd5d5c29844a4d21ed2f76e0c",
            sha1: "94912be8b3fb47d4161ea50e5948c6296af6ca05",
            sha256: "a9a66978f378456c818fb8a3e7c6ad3d2c83e62724ccbdea7b36253fb8df5edd",
          },
        },
        archivers: { simple_archiver: { file_save_id: 12345 } },
      },
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
    assert.deepEqual(json.request_meta, {
      archive_payloads: true,
      source: "example",
      extra_data: { ticket: 42 },
    });
    assert.equal(json.errors.length, 1);
    assert.match(
      json.errors[0].error,
      /^Worker plugin missing_worker failed to load: .*PluginNotFoundError: The plugin "missing_worker" is invalid or does not exist in your plugin path$/,
    );
    assert.deepEqual(
      { ...json.errors[0], error: undefined },
      { error: undefined, plugin_name: "missing_worker", payload_id: rootId, kind: "plugin_load" },
    );
    assert.deepEqual(json.decorators, { simple_decorator: { simple_decoration: 123 } });
    assert.match(json.scan_id, UUID);
  });
});

Deno.test("hash worker gives the known sha512 of the test content when asked", async () => {
  await withStoq(
    { pluginDirList: [HASH_PLUGIN], pluginOpts: { hash: { sha512: true } } },
    async (stoq) => {
      const response = await stoq.scan(CONTENT, { addStartDispatch: ["hash"] });
      const hash = response.results[0].workers.hash as Record<string, string>;
      assert.equal(
        hash.sha512,
        "015e6d23e760f612cca616c54f110cb12dd54213f1e046c7607081372402eff4936b379296ed549236020afb37bd3e728a044a4243754f095498c98bc24f77e0",
      );
    },
  );
});

Deno.test("str() of every data class is JSON that parses to an object", async () => {
  await withStoq({}, async (stoq) => {
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["simple_worker"] });
    const objects: [string, { toString(): string }][] = [
      ["StoqResponse", response],
      ["PayloadMeta", new PayloadMeta()],
      ["RequestMeta", new RequestMeta()],
      ["PayloadResults", response.results[0]],
      [
        "WorkerResponse",
        new WorkerResponse({ results: { a: 1 }, extracted: [new ExtractedPayload("x")] }),
      ],
      ["ArchiverResponse", new ArchiverResponse({ path: "/tmp/123" })],
      ["DispatcherResponse", new DispatcherResponse({ pluginNames: ["dummy_worker"] })],
      ["DecoratorResponse", new DecoratorResponse({ simple_decoration: 123 })],
    ];
    for (const [name, object] of objects) {
      const parsed = JSON.parse(String(object));
      assert.equal(typeof parsed, "object", name);
      assert.ok(parsed !== null && !Array.isArray(parsed) && Object.keys(parsed).length > 0, name);
    }
    assert.deepEqual(JSON.parse(String(new PayloadMeta())), {
      should_archive: true,
      should_scan: true,
      extra_data: {},
      dispatch_to: [],
    });
    assert.deepEqual(JSON.parse(String(new RequestMeta())), {
      archive_payloads: true,
      source: null,
      extra_data: {},
    });
    assert.match(String(response), /^\{\n {4}"results": \[/);
  });
});

Deno.test("dumps() serialises lists, dicts, sets, dates, bytes and objects", () => {
  const values: unknown[] = [
    [1, "a"],
    { a: 1 },
    new Set([1, 2]),
    new Date(0),
    new TextEncoder().encode("value"),
    new PayloadResults({ size: 1 }),
  ];
  for (const value of values) assert.notEqual(dumps(value), "");
  assert.equal(dumps(new Set([1, 2]), { compactly: true }), "[1, 2]");
  assert.equal(dumps(new TextEncoder().encode("value"), { compactly: true }), '"value"');
  assert.equal(
    dumps(new Uint8Array([0x68, 0x69, 0xe7, 0x8c, 0xab]), { compactly: true }),
    '"hi猫"',
  );
  assert.equal(dumps({ a: 1, b: 2 }, { compactly: true }), '{"a": 1, "b": 2}');
});

Deno.test("StoqResponse built from a Request shares its result and error objects", () => {
  const payload = new Payload(CONTENT);
  const request = new Request({ payloads: [payload] });
  const response = new StoqResponse(request);
  assert.equal(response.results[0], payload.results);
  assert.equal(response.errors, request.errors);
});
