/**
 * Features of the seed documents beyond stoQ v3's core: TLP (`max_tlp`), heartbeats and version
 * gates (`min_stoq_version`/`max_stoq_version`).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  ConfigError,
  PayloadMeta,
  RequestMeta,
  Stoq,
  type StoqOptions,
  type StoqResponse,
} from "../mod.ts";
import type { StoqResponseJson } from "../core/schemas.ts";
import type { LogSink } from "../core/log.ts";

const PLUGINS = fileURLToPath(new URL("./testdata/seed_plugins", import.meta.url));

async function withStoq<T>(options: StoqOptions, body: (stoq: Stoq) => Promise<T>): Promise<T> {
  const stoq = await Stoq.create({
    baseDir: PLUGINS,
    pluginDirList: [PLUGINS],
    logSinks: [],
    isolation: "none",
    ...options,
  });
  try {
    return await body(stoq);
  } finally {
    await stoq.close();
  }
}

const ran = (json: StoqResponseJson) => json.results.map((r) => r.plugins_run.workers);
const tlpErrors = (json: StoqResponseJson) => json.errors.filter((e) => e.kind === "tlp");

// --- TLP ---

Deno.test("TLP: a plugin never sees a payload above its max_tlp; the skip is an error of kind tlp", async () => {
  await withStoq({
    alwaysDispatch: ["wa", "wb"],
    pluginOpts: { wa: { max_tlp: "amber" } },
  }, async (stoq) => {
    const json = (await stoq.scan("secret", {
      requestMeta: new RequestMeta({ extraData: { tlp: "red" } }),
    })).toJSON();
    assert.deepEqual(ran(json), [["wb"]]);
    assert.equal(json.results[0].workers.wa, undefined);
    const [error] = tlpErrors(json);
    assert.equal(error.plugin_name, "wa");
    assert.equal(error.payload_id, json.results[0].payload_id);
    assert.match(error.error, /TLP is RED, above the plugin's max_tlp \(AMBER\)/);
    // At or below the level, it runs.
    const green = (await stoq.scan("ok", {
      requestMeta: new RequestMeta({ extraData: { tlp: "GREEN" } }),
    })).toJSON();
    assert.deepEqual(ran(green), [["wa", "wb"]]);
    assert.deepEqual(green.errors, []);
  });
});

Deno.test("TLP: 1.0 and 2.0 labels, payload or request, the higher wins; unknown is red", async () => {
  const cases: [unknown, string, boolean][] = [
    ["white", "green", true],
    ["clear", "white", true],
    ["TLP:CLEAR", "clear", true],
    ["amber", "green", false],
    ["amber+strict", "amber", false],
    ["TLP:AMBER+STRICT", "amber+strict", true],
    ["amber strict", "amber+strict", true],
    ["red", "amber+strict", false],
    ["purple", "amber+strict", false],
    [undefined, "clear", true],
  ];
  for (const [label, max, sees] of cases) {
    await withStoq(
      { alwaysDispatch: ["wa"], pluginOpts: { wa: { max_tlp: max } } },
      async (stoq) => {
        const json = (await stoq.scan("x", {
          payloadMeta: new PayloadMeta({ extraData: label === undefined ? {} : { tlp: label } }),
        })).toJSON();
        assert.equal(ran(json)[0].includes("wa"), sees, `${label} vs max_tlp ${max}`);
      },
    );
  }
  // The request's level applies when the payload's own is lower.
  await withStoq(
    { alwaysDispatch: ["wa"], pluginOpts: { wa: { max_tlp: "green" } } },
    async (stoq) => {
      const json = (await stoq.scan("x", {
        payloadMeta: { extraData: { tlp: "clear" } },
        requestMeta: new RequestMeta({ extraData: { tlp: "amber" } }),
      })).toJSON();
      assert.deepEqual(ran(json), [[]]);
    },
  );
});

Deno.test("TLP: extracted payloads inherit their parent's level", async () => {
  await withStoq({
    alwaysDispatch: ["we", "wa"],
    pluginOpts: { we: { extract: "True" }, wa: { max_tlp: "green" } },
  }, async (stoq) => {
    const json = (await stoq.scan("parent", { payloadMeta: { extraData: { tlp: "amber" } } }))
      .toJSON();
    assert.equal(json.results.length, 2);
    assert.equal(json.results[1].payload_meta.extra_data.tlp, "amber");
    assert.deepEqual(ran(json), [["we"], ["we"]]);
    assert.deepEqual(
      tlpErrors(json).map((e) => e.payload_id),
      json.results.map((r) => r.payload_id),
    );
  });
});

Deno.test("TLP: reported once per payload and plugin, however many rounds ask", async () => {
  await withStoq({
    alwaysDispatch: ["wa", "wb"],
    pluginOpts: { wa: { max_tlp: "green" }, wb: { to: "wc" } },
  }, async (stoq) => {
    const json = (await stoq.scan("x", { payloadMeta: { extraData: { tlp: "red" } } })).toJSON();
    assert.deepEqual(ran(json), [["wb", "wc"]]);
    assert.equal(tlpErrors(json).length, 1);
  });
});

Deno.test("TLP: dispatchers, deep dispatchers and connectors are held to max_tlp too", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withStoq({
      deepDispatchers: ["deep_rules"],
      connectors: ["buffered"],
      alwaysDispatch: ["wa"],
      pluginOpts: {
        deep_rules: { rules: JSON.stringify({ wa: ["wb"] }), max_tlp: "green" },
        buffered: { out_dir: dir, max_tlp: "amber" },
      },
    }, async (stoq) => {
      const red = (await stoq.scan("x", { payloadMeta: { extraData: { tlp: "red" } } })).toJSON();
      assert.deepEqual(ran(red), [["wa"]]);
      assert.deepEqual(
        tlpErrors(red).map((e) => [e.plugin_name, e.payload_id === null]),
        [["deep_rules", false], ["buffered", true]],
      );
      const green = (await stoq.scan("y", { payloadMeta: { extraData: { tlp: "green" } } }))
        .toJSON();
      assert.deepEqual(ran(green), [["wa", "wb"]]);
      await stoq.flush();
      assert.equal(await Deno.readTextFile(`${dir}/saved.txt`), `${green.scan_id}\n`);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TLP: an invalid max_tlp stops the load with a message naming the option", async () => {
  await assert.rejects(
    withStoq({ alwaysDispatch: ["wa"], pluginOpts: { wa: { max_tlp: "blue" } } }, async () => {}),
    (err: Error) =>
      err instanceof ConfigError && /"max_tlp" for plugin "wa".*"blue"/.test(err.message),
  );
});

// --- Heartbeats ---

async function savedIds(dir: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(`${dir}/saved.txt`)).split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

for (const isolation of ["none", "worker"] as const) {
  Deno.test(`heartbeat: runs on its interval, and a final time on close (isolation ${isolation})`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const responses: StoqResponse[] = [];
      await withStoq({
        isolation,
        connectors: ["buffered"],
        pluginOpts: { buffered: { out_dir: dir, heartbeat_interval: "0.1" } },
      }, async (stoq) => {
        for (let i = 0; i < 3; i++) responses.push(await stoq.scan(`x${i}`));
        const deadline = Date.now() + 5000;
        while ((await savedIds(dir)).length < 3 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.deepEqual(await savedIds(dir), responses.map((r) => r.scanId));
        responses.push(await stoq.scan("last"));
      });
      // The last save was still buffered at close: the final heartbeat wrote it.
      assert.deepEqual(await savedIds(dir), responses.map((r) => r.scanId));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("heartbeat: every buffered result is written before run() returns", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withStoq({
      isolation: "worker",
      providers: ["counter"],
      connectors: ["buffered"],
      alwaysDispatch: ["wa"],
      pluginOpts: { buffered: { out_dir: dir }, counter: { count: 7 } },
    }, async (stoq) => {
      await stoq.run();
      assert.equal((await savedIds(dir)).length, 7);
    });
    assert.equal((await savedIds(dir)).length, 7);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("heartbeat: a failing heartbeat is logged, not thrown", async () => {
  const dir = await Deno.makeTempDir();
  const lines: string[] = [];
  const sink: LogSink = { level: "debug", write: (line) => lines.push(line) };
  try {
    const stoq = await Stoq.create({
      baseDir: PLUGINS,
      pluginDirList: [PLUGINS],
      logSinks: [sink],
      isolation: "none",
      connectors: ["buffered"],
      alwaysDispatch: ["wa"],
      pluginOpts: { buffered: { out_dir: dir, fail_heartbeat: "True" } },
    });
    await stoq.scan("x");
    await stoq.flush();
    await stoq.close();
    assert.equal(
      lines.filter((l) => /Heartbeat of plugin "buffered" failed: cannot flush/.test(l)).length,
      2,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- Version gates ---

Deno.test("version gates: outside min/max_stoq_version, a warning naming the plugin and both versions; it still loads", async () => {
  const lines: string[] = [];
  const stoq = await Stoq.create({
    baseDir: PLUGINS,
    pluginDirList: [PLUGINS],
    logSinks: [{ level: "debug", write: (line) => lines.push(line) }],
    isolation: "none",
    alwaysDispatch: ["gated"],
  });
  try {
    const json = (await stoq.scan("x")).toJSON();
    assert.deepEqual(json.results[0].workers.gated, { ok: true });
    const warnings = lines.filter((l) => l.startsWith("WARNING") && l.includes('"gated"'));
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /stoq 99\.0 or later \(min_stoq_version\), this is stoq 0\.1\.0/);
    assert.match(warnings[1], /up to 0\.0\.1 \(max_stoq_version\), this is stoq 0\.1\.0/);
  } finally {
    await stoq.close();
  }
  // Inside the range: no warning.
  lines.length = 0;
  const ok = await Stoq.create({
    baseDir: PLUGINS,
    pluginDirList: [PLUGINS],
    logSinks: [{ level: "debug", write: (line) => lines.push(line) }],
    isolation: "none",
    alwaysDispatch: ["gated"],
    pluginOpts: { gated: { min_stoq_version: "0.1", max_stoq_version: "0.1.0" } },
  });
  await ok.close();
  assert.deepEqual(lines.filter((l) => l.startsWith("WARNING")), []);
});
