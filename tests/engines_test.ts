/**
 * Engines (core/engines.ts): whole pipelines in Workers of their own, files spread over them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Engines } from "../core/engines.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PLUGIN_DIRS = [
  join(ROOT, "plugins"),
  fileURLToPath(new URL("./testdata/engine_plugins", import.meta.url)),
];

/** Files named 00.txt, 01.txt, ... holding "file 0", "file 1", ...; removed after `body`. */
async function withFiles(count: number, body: (paths: string[]) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "stoq-engines-" });
  try {
    const paths: string[] = [];
    for (let i = 0; i < count; i++) {
      const path = join(dir, `${String(i).padStart(2, "0")}.txt`);
      await Deno.writeTextFile(path, `file ${i}`);
      paths.push(path);
    }
    await body(paths);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The process's Worker threads (Deno names them worker-N), once those ending have ended. */
async function workerThreads(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 200));
  let count = 0;
  for (const task of Deno.readDirSync("/proc/self/task")) {
    const name = Deno.readTextFileSync(`/proc/self/task/${task.name}/comm`);
    if (name.startsWith("worker-")) count++;
  }
  return count;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

Deno.test("Engines spread files over their pipelines, each answering with the file's response", async () => {
  const before = await workerThreads();
  const engines = await Engines.create({
    count: 2,
    stoq: {
      pluginDirList: PLUGIN_DIRS,
      alwaysDispatch: ["hash", "isolate_id"],
      isolation: "none",
      logLevel: "critical",
    },
  });
  try {
    assert.equal(engines.count, 2);
    assert.equal(engines.info.connectors, 0);
    assert.ok("hash" in engines.info.plugins);
    await withFiles(8, async (paths) => {
      const results = await Promise.all(
        paths.map((path, i) =>
          engines.scanFile(path, {
            filename: `name ${i}`,
            requestMeta: { source: "engines test", extraData: { n: i } },
          })
        ),
      );
      const isolates = new Set<string>();
      results.forEach((result, i) => {
        assert.equal(result.payloads, 1);
        assert.equal(result.errors, 0);
        const response = JSON.parse(result.line);
        assert.equal(response.results[0].workers.hash.sha256, sha256(`file ${i}`));
        assert.equal(response.results[0].payload_meta.extra_data.filename, `name ${i}`);
        assert.deepEqual(response.request_meta.extra_data, { n: i });
        assert.equal(response.request_meta.source, "engines test");
        isolates.add(response.results[0].workers.isolate_id.isolate);
        assert.equal(response.results[0].workers.isolate_id.read_all, true);
      });
      // Eight files at once over two engines: each engine scanned some (one isolate each, as
      // the plugin runs in-process in its engine's Worker).
      assert.equal(isolates.size, 2);
    });
  } finally {
    await engines.close();
  }
  assert.equal(await workerThreads(), before);
});

Deno.test("Engines report a file that cannot be read by its error, and go on with the others", async () => {
  const engines = await Engines.create({
    count: 2,
    stoq: { pluginDirList: PLUGIN_DIRS, alwaysDispatch: ["hash"], isolation: "none" },
  });
  try {
    await withFiles(1, async ([path]) => {
      const missing = path + ".gone";
      await assert.rejects(
        engines.scanFile(missing),
        (err: Error) => err.message.includes("No such file") && err.message.includes(missing),
      );
      const result = await engines.scanFile(path);
      assert.equal(JSON.parse(result.line).results[0].workers.hash.sha256, sha256("file 0"));
      // Without its JSON line (connectors save the response): the counts only.
      assert.deepEqual(await engines.scanFile(path, { line: false }), {
        line: "",
        payloads: 1,
        errors: 0,
      });
    });
  } finally {
    await engines.close();
  }
});

Deno.test("Engines.create() rejects with the error Stoq.create() or a plugin's load threw, and leaves no Worker running", async () => {
  const before = await workerThreads();
  await assert.rejects(
    Engines.create({
      count: 2,
      stoq: { pluginDirList: PLUGIN_DIRS, isolation: "none", maxRecursion: 0 },
    }),
    (err: Error) => err.name === "ConfigError" && /maxRecursion/.test(err.message),
  );
  await assert.rejects(
    Engines.create({
      count: 2,
      stoq: { pluginDirList: PLUGIN_DIRS, isolation: "none" },
      preload: ["no_such_plugin"],
    }),
    (err: Error) => /no_such_plugin/.test(err.message),
  );
  assert.equal(await workerThreads(), before);
});

Deno.test("Engines run the sandbox inside them: plugins in Workers of their own", async () => {
  const engines = await Engines.create({
    count: 1,
    stoq: { pluginDirList: PLUGIN_DIRS, alwaysDispatch: ["hash", "isolate_id"] },
    preload: ["hash", "isolate_id"],
  });
  try {
    await withFiles(2, async (paths) => {
      const responses = await Promise.all(paths.map((path) => engines.scanFile(path)));
      const plugins = responses.map((r) => JSON.parse(r.line).results[0].workers);
      assert.equal(plugins[1].hash.sha256, sha256("file 1"));
      // The plugin ran in its sandbox Worker inside the engine, without the engine's rights.
      assert.equal(plugins[0].isolate_id.read_all, false);
      assert.equal(engines.info.plugins.hash.isolation, "worker");
    });
  } finally {
    await engines.close();
  }
});
