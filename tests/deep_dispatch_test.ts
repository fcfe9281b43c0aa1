/**
 * Deep dispatchers (README "Deep dispatchers"): after each pass of workers, deep dispatchers see
 * the results and may send the payload to more workers, up to `max_dispatch_passes` passes per
 * round; how they combine with stoQ v3's rounds.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ConfigError, Payload, PluginError, Request, Stoq, type StoqOptions } from "../mod.ts";
import type { StoqResponseJson } from "../core/schemas.ts";

const PLUGINS = fileURLToPath(new URL("./testdata/seed_plugins", import.meta.url));

async function scan(
  options: StoqOptions,
  scanOptions: Parameters<Stoq["scan"]>[1] = {},
  content = "parent",
): Promise<StoqResponseJson> {
  const stoq = await Stoq.create({
    baseDir: PLUGINS,
    pluginDirList: [PLUGINS],
    logSinks: [],
    isolation: "none",
    ...options,
  });
  try {
    return (await stoq.scan(content, scanOptions)).toJSON();
  } finally {
    await stoq.close();
  }
}

const rules = (map: Record<string, string[]>) => ({ deep_rules: { rules: JSON.stringify(map) } });
const ran = (json: StoqResponseJson) => json.results.map((r) => r.plugins_run.workers);
const saw = (json: StoqResponseJson, payload: number, worker: string) =>
  (json.results[payload].workers[worker] as { saw: string[] }).saw;

Deno.test("a deep dispatcher sees a pass's results and sends the payload to more workers", async () => {
  const json = await scan({
    alwaysDispatch: ["wa"],
    deepDispatchers: ["deep_rules"],
    pluginOpts: rules({ wa: ["wb"] }),
  });
  assert.deepEqual(ran(json), [["wa", "wb"]]);
  assert.deepEqual(saw(json, 0, "wb"), ["wa"]);
  assert.deepEqual(json.errors, []);
});

Deno.test("max_dispatch_passes bounds a chain within one round (default 1)", async () => {
  const chain = rules({ wa: ["wb"], wb: ["wc"], wc: ["wd"] });
  const base = { alwaysDispatch: ["wa"], deepDispatchers: ["deep_rules"], pluginOpts: chain };
  assert.deepEqual(ran(await scan(base)), [["wa", "wb"]]);
  assert.deepEqual(ran(await scan({ ...base, maxDispatchPasses: 2 })), [["wa", "wb", "wc"]]);
  const four = await scan({ ...base, maxDispatchPasses: 10 });
  assert.deepEqual(ran(four), [["wa", "wb", "wc", "wd"]]);
  // Each pass saw what the one before it produced.
  assert.deepEqual(saw(four, 0, "wd"), ["wa", "wb", "wc"]);
});

Deno.test("deep passes follow every round: a deep worker's dispatchTo runs next round, then is deep dispatched", async () => {
  const json = await scan({
    alwaysDispatch: ["wa"],
    deepDispatchers: ["deep_rules"],
    pluginOpts: {
      ...rules({ wa: ["wb"], wc: ["wd"] }),
      wb: { to: "wc" },
    },
  });
  // Round 1: wa, then pass 1: wb (dispatch_to wc). Round 2: wc, then pass 1: wd.
  assert.deepEqual(ran(json), [["wa", "wb", "wc", "wd"]]);
  assert.deepEqual(saw(json, 0, "wc"), ["wa", "wb"]);
});

Deno.test("extracted payloads get their own deep passes in the round they are scanned", async () => {
  const json = await scan({
    alwaysDispatch: ["wa", "we"],
    deepDispatchers: ["deep_rules"],
    pluginOpts: { ...rules({ wa: ["wb"], wb: ["wc"] }), we: { extract: "True" } },
    maxDispatchPasses: 2,
  });
  assert.equal(json.results.length, 2);
  assert.equal(json.results[1].extracted_by[0], "we");
  assert.deepEqual(ran(json), [["wa", "we", "wb", "wc"], ["wa", "we", "wb", "wc"]]);
});

Deno.test("a payload extracted by a deep-dispatched worker is scanned the next round", async () => {
  const json = await scan({
    alwaysDispatch: ["wa"],
    deepDispatchers: ["deep_rules"],
    pluginOpts: { ...rules({ wa: ["we"] }), we: { extract: "True" } },
  });
  assert.deepEqual(ran(json), [["wa", "we"], ["wa", "we"]]);
});

Deno.test("deep passes in the last round: what they extract or forward is reported, not lost", async () => {
  const json = await scan({
    alwaysDispatch: ["wa"],
    deepDispatchers: ["deep_rules"],
    maxRecursion: 1,
    pluginOpts: { ...rules({ wa: ["we", "wb"] }), we: { extract: "True" }, wb: { to: "wc" } },
  });
  assert.deepEqual(ran(json), [["wa", "we", "wb"], []]);
  assert.deepEqual(json.errors.map((e) => e.kind).sort(), ["max_recursion", "max_recursion"]);
});

Deno.test("a worker already run is not run again by a deep dispatcher", async () => {
  const json = await scan({
    alwaysDispatch: ["wa", "wb"],
    deepDispatchers: ["deep_rules"],
    pluginOpts: rules({ wa: ["wb", "wa"], wb: ["wa"] }),
    maxDispatchPasses: 5,
  });
  assert.deepEqual(ran(json), [["wa", "wb"]]);
});

Deno.test("add_start_deep_dispatch: the initial payload's first deep pass only", async () => {
  const json = await scan(
    { alwaysDispatch: ["wa", "we"], pluginOpts: { we: { extract: "True" } } },
    { addStartDeepDispatch: ["wb"] },
  );
  assert.deepEqual(ran(json), [["wa", "we", "wb"], ["wa", "we"]]);
  assert.deepEqual(saw(json, 0, "wb"), ["wa", "we"]);
  // With nothing else to run, the start deep dispatch still runs.
  const alone = await scan({}, { addStartDeepDispatch: ["wb"] });
  assert.deepEqual(ran(alone), [["wb"]]);
  // Together with deep dispatchers: both in the same pass, then the next pass.
  const both = await scan({
    alwaysDispatch: ["wa"],
    deepDispatchers: ["deep_rules"],
    maxDispatchPasses: 2,
    pluginOpts: rules({ wa: ["wc"], wb: ["wd"] }),
  }, { addStartDeepDispatch: ["wb"] });
  assert.deepEqual(ran(both), [["wa", "wb", "wc", "wd"]]);
});

Deno.test("deep dispatchers are called once per pass per payload that ran workers", async () => {
  const stoq = await Stoq.create({
    baseDir: PLUGINS,
    pluginDirList: [PLUGINS],
    logSinks: [],
    isolation: "none",
    alwaysDispatch: ["wa"],
    deepDispatchers: ["deep_rules"],
    maxDispatchPasses: 3,
    pluginOpts: rules({ wa: ["wb"] }),
  });
  try {
    const payload = new Payload("parent");
    await stoq.scanRequest(new Request({ payloads: [payload] }));
    assert.deepEqual(payload.results.pluginsRun.workers, ["wa", "wb"]);
    // Pass 1 ran wb; pass 2 saw wa and wb, named only wb (already run), and the passes stopped.
    assert.deepEqual(payload.dispatchMeta.deep_rules, { deep_calls: 2, ran: ["wa", "wb"] });
  } finally {
    await stoq.close();
  }
});

Deno.test("a plugin with only getDispatches works as a deep dispatcher", async () => {
  const json = await scan({
    alwaysDispatch: ["wa"],
    deepDispatchers: ["plain_rules"],
    pluginOpts: { plain_rules: { rules: JSON.stringify({ wa: ["wb"] }) } },
  });
  assert.deepEqual(ran(json), [["wa", "wb"]]);
});

Deno.test("one plugin as dispatcher and deep dispatcher: getDispatches, then getDeepDispatches", async () => {
  const json = await scan({
    dispatchers: ["deep_rules"],
    deepDispatchers: ["deep_rules"],
    pluginOpts: { deep_rules: { main: "wa", rules: JSON.stringify({ wa: ["wb"] }) } },
  });
  assert.deepEqual(ran(json), [["wa", "wb"]]);
});

Deno.test("a failing deep dispatcher costs an error entry, and the scan goes on", async () => {
  const json = await scan({
    alwaysDispatch: ["wa"],
    deepDispatchers: ["deep_rules"],
    pluginOpts: { deep_rules: { fail: "True" } },
  });
  assert.deepEqual(ran(json), [["wa"]]);
  assert.equal(json.errors.length, 1);
  assert.equal(json.errors[0].kind, "dispatcher");
  assert.equal(json.errors[0].plugin_name, "deep_rules");
  assert.match(json.errors[0].error, /deep_dispatcher:failed to dispatch.*deep rules failed/s);
});

Deno.test("deep_dispatchers and max_dispatch_passes from stoq.cfg, validated", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/stoq.cfg`,
      `[core]\ndeep_dispatchers = deep_rules\nmax_dispatch_passes = 2\nalways_dispatch = wa\n` +
        `[deep_rules]\nrules = {"wa": ["wb"], "wb": ["wc"], "wc": ["wd"]}\n`,
    );
    const stoq = await Stoq.create({
      baseDir: dir,
      pluginDirList: [PLUGINS],
      logSinks: [],
      isolation: "none",
    });
    try {
      assert.equal(stoq.maxDispatchPasses, 2);
      assert.deepEqual([...stoq.deepDispatchers.keys()], ["deep_rules"]);
      const json = (await stoq.scan("x")).toJSON();
      assert.deepEqual(ran(json), [["wa", "wb", "wc"]]);
    } finally {
      await stoq.close();
    }
    await Deno.writeTextFile(`${dir}/stoq.cfg`, `[core]\nmax_dispatch_passes = 0\n`);
    await assert.rejects(
      Stoq.create({ baseDir: dir, pluginDirList: [PLUGINS], logSinks: [] }),
      (err: Error) =>
        err instanceof ConfigError && /max_dispatch_passes.*at least 1/.test(err.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await assert.rejects(
    Stoq.create({
      baseDir: PLUGINS,
      pluginDirList: [PLUGINS],
      logSinks: [],
      isolation: "none",
      deepDispatchers: ["wa"],
    }),
    (err: Error) =>
      err instanceof PluginError && /deep_dispatchers.*not a dispatcher/.test(err.message),
  );
});

Deno.test("deep dispatch through the sandbox (Worker isolation)", async () => {
  const json = await scan({
    isolation: "worker",
    alwaysDispatch: ["wa"],
    deepDispatchers: ["deep_rules"],
    maxDispatchPasses: 2,
    pluginOpts: rules({ wa: ["wb"], wb: ["wc"] }),
  });
  assert.deepEqual(ran(json), [["wa", "wb", "wc"]]);
  assert.deepEqual(saw(json, 0, "wc"), ["wa", "wb"]);
});

Deno.test("scanPayload() takes a Payload, as stoQ's scan_payload", async () => {
  const { PayloadMeta } = await import("../mod.ts");
  const stoq = await Stoq.create({
    baseDir: PLUGINS,
    pluginDirList: [PLUGINS],
    logSinks: [],
    isolation: "none",
  });
  try {
    const payload = new Payload("hi", { payloadMeta: new PayloadMeta({ extraData: { n: 1 } }) });
    const response = await stoq.scanPayload(payload, {
      addStartDispatch: ["wa"],
      addStartDeepDispatch: ["wb"],
    });
    assert.deepEqual(response.results[0].pluginsRun.workers, ["wa", "wb"]);
    assert.equal(response.results[0].payloadMeta.extraData.n, 1);
    assert.equal(response.split().length, 2);
  } finally {
    await stoq.close();
  }
});
