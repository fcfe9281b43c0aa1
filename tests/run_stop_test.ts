/**
 * Stopping provider mode: `run({ signal })` takes no more items once the signal aborts, and scans,
 * saves and acknowledges every item it took; `stoq run` does that on SIGINT or SIGTERM.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Stoq } from "../mod.ts";
import { CLI } from "./_cli.ts";
import { saves } from "./testdata/plugins/connector/dummy_connector/mod.ts";
import { ingests } from "./testdata/run_plugins/endless_provider/mod.ts";

const RUN_PLUGINS = fileURLToPath(new URL("./testdata/run_plugins", import.meta.url));
const TEST_PLUGINS = fileURLToPath(new URL("./testdata/plugins", import.meta.url));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or a failure naming `what` if it takes longer than 20 s (instead of a hung test). */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took longer than 20 s`)), 20_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The `n` of every saved response, sorted. */
function savedNumbers(): number[] {
  return saves.map((response) => response.results[0].payload_meta.extra_data.n as number)
    .sort((a, b) => a - b);
}

for (const isolation of ["none", "worker"] as const) {
  Deno.test(`run({ signal }) takes no more items once it aborts, and saves every item it took (provider isolation ${isolation})`, async () => {
    saves.length = 0;
    const errors: string[] = [];
    const stoq = await Stoq.create({
      baseDir: RUN_PLUGINS,
      pluginDirList: [RUN_PLUGINS, TEST_PLUGINS],
      providers: ["endless_provider"],
      connectors: ["dummy_connector"],
      pluginOpts: { endless_provider: { isolation }, dummy_connector: { isolation: "none" } },
      logSinks: [{
        level: "warning",
        write: (line: string) => errors.push(line),
      }],
    });
    try {
      const stop = new AbortController();
      const running = stoq.run({ signal: stop.signal });
      while (saves.length < 5) await sleep(2);
      stop.abort();
      await within(running, "run() after the abort");
      const taken = savedNumbers();
      // Every item the provider got to put before the stop was saved: 0, 1, ... without a gap.
      assert.ok(taken.length >= 5, `${taken.length} saved`);
      assert.deepEqual(taken, Array.from({ length: taken.length }, (_, n) => n));
      await sleep(50);
      assert.equal(saves.length, taken.length, "nothing is saved after run() returned");
      assert.deepEqual(errors, []);
    } finally {
      await within(stoq.close(), "close()");
    }
  });
}

Deno.test("run({ signal }) with a signal aborted already asks no provider for items", async () => {
  saves.length = 0;
  const before = ingests.count;
  const stoq = await Stoq.create({
    baseDir: RUN_PLUGINS,
    pluginDirList: [RUN_PLUGINS, TEST_PLUGINS],
    providers: ["endless_provider"],
    connectors: ["dummy_connector"],
    isolation: "none",
    logSinks: [],
  });
  try {
    await within(stoq.run({ signal: AbortSignal.abort() }), "run()");
    assert.deepEqual(saves, []);
    assert.equal(ingests.count, before);
  } finally {
    await stoq.close();
  }
});

for (const [signal, code] of [["SIGTERM", 0], ["SIGINT", 130]] as const) {
  Deno.test(`stoq run stops gracefully on ${signal}: the responses written are whole, exit ${code}`, async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        ...CLI,
        "run",
        "--plugin-dir",
        RUN_PLUGINS,
        "-P",
        "endless_provider",
        "-C",
        "stdout",
        "--plugin-opts",
        "endless_provider:interval_ms=20",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    const reader = child.stdout.getReader();
    const first = await reader.read();
    assert.ok(first.value, "it printed a response");
    chunks.push(first.value);
    child.kill(signal);
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      chunks.push(next.value);
    }
    const [status, stderr] = await within(
      Promise.all([child.status, new Response(child.stderr).text()]),
      "stoq run after the signal",
    );
    assert.equal(status.code, code, stderr);
    assert.match(stderr, new RegExp(`^stoq run: ${signal}: stopping`));
    // The stdout connector prints each response as indented JSON: all of them whole.
    const text = await new Blob(chunks).text();
    const responses = text.trimEnd().split(/\n(?=\{)/).map((part) => JSON.parse(part));
    assert.ok(responses.length >= 1);
    const numbers = responses.map((r) => r.results[0].payload_meta.extra_data.n).sort((a, b) =>
      a - b
    );
    assert.deepEqual(numbers, Array.from({ length: numbers.length }, (_, n) => n));
  });
}
