/**
 * `dispatch_once`: a dispatcher whose answer depends on the payload's bytes alone is asked once
 * per payload; the later rounds get the same answer, so the response is the one asking again gives.
 *
 * @module
 */
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { zipSync } from "fflate";
import { Stoq, type StoqResponse } from "../mod.ts";
import { CONTENT, reset, withStoq, writePlugin } from "./_conformance.ts";
import { calls as dummyDispatcherCalls } from "./testdata/plugins/dispatcher/dummy_dispatcher/mod.ts";
import { calls as simpleDispatcherCalls } from "./testdata/plugins/dispatcher/simple_dispatcher/mod.ts";

/** The response without what differs from scan to scan (ids, times). */
function shape(response: StoqResponse) {
  const json = response.toJSON();
  const ids = new Map(json.results.map((r, i) => [r.payload_id, `#${i}`]));
  const text = JSON.stringify({ results: json.results, errors: json.errors });
  return JSON.parse(text.replace(/"[0-9a-f-]{36}"/g, (id) => `"${ids.get(JSON.parse(id)) ?? id}"`));
}

/**
 * Scan `CONTENT` with `dispatcher` asked every round, then once per payload: the response's shape,
 * the payload ids the dispatcher was called on (its `calls` recorder), and the response.
 */
async function scanBothWays(
  dispatcher: string,
  calls: string[],
  pluginOpts: Record<string, Record<string, unknown>>,
  addStartDispatch: string[] = [],
) {
  const scan = async (dispatchOnce: boolean) => {
    reset(calls);
    return await withStoq({
      dispatchers: [dispatcher],
      pluginOpts: {
        ...pluginOpts,
        [dispatcher]: { ...pluginOpts[dispatcher], dispatch_once: dispatchOnce ? "True" : "False" },
      },
    }, async (stoq) => {
      const response = await stoq.scan(CONTENT, { addStartDispatch });
      return { shape: shape(response), calls: [...calls], response };
    });
  };
  return { every: await scan(false), once: await scan(true) };
}

Deno.test("dispatch_once: one call per payload over three rounds, and the same response", async () => {
  const { every, once } = await scanBothWays("dummy_dispatcher", dummyDispatcherCalls, {
    simple_worker: { extracted_dispatch_to: ["extract_payload"] },
  }, ["simple_worker"]);
  const [root, lorem, random] = once.response.results.map((r) => r.payloadId);
  assert.equal(once.response.results.length, 3);
  // Asked in rounds 1, 2 and 3 without it; once per payload with it.
  assert.equal(every.calls.length, 6);
  assert.deepEqual(once.calls, [root, lorem, random]);
  assert.deepEqual(once.shape, every.shape);
});

Deno.test("dispatch_once: later rounds get the names, meta, errors and payload meta of the first", async () => {
  const { every, once } = await scanBothWays("simple_dispatcher", simpleDispatcherCalls, {
    simple_dispatcher: { return_errors: true, should_archive: false },
  });
  assert.equal(every.calls.length, 2);
  assert.equal(once.calls.length, 1);
  // Its error comes once per round, as it would when asked again.
  assert.equal(once.response.errors.length, 2);
  assert.equal(once.response.results[0].payloadMeta.shouldArchive, false);
  assert.deepEqual(once.shape, every.shape);
});

Deno.test("dispatch_once: a later round sets again only the payload meta the dispatcher set", async () => {
  // A dispatcher that keeps the payload out of the archive, and a worker it sends the payload to
  // that writes into the payload's extra data: round 2 must keep what the worker wrote.
  const dir = await Deno.makeTempDir({ prefix: "dispatch_once_" });
  await writePlugin(
    dir,
    "keep_out",
    "dispatcher",
    `{ getDispatches(payload) { payload.payloadMeta.shouldArchive = false; return { pluginNames: ["tagger"] }; } }`,
  );
  await writePlugin(
    dir,
    "tagger",
    "worker",
    `{ scan(payload) { payload.payloadMeta.extraData.tagged = true; payload.payloadMeta.shouldArchive = true; return { results: { ok: true } }; } }`,
  );
  try {
    for (const dispatchOnce of [false, true]) {
      await withStoq({
        pluginDirList: [dir],
        dispatchers: ["keep_out"],
        pluginOpts: { keep_out: { dispatch_once: dispatchOnce } },
      }, async (stoq) => {
        const response = await stoq.scan(CONTENT);
        assert.deepEqual(response.errors, []);
        const meta = response.results[0].payloadMeta;
        // The worker's extra data stays; round 2's dispatch sets should_archive back to false.
        assert.equal(meta.extraData.tagged, true, `dispatch_once = ${dispatchOnce}`);
        assert.equal(meta.shouldArchive, false, `dispatch_once = ${dispatchOnce}`);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dispatch_once: a value other than True or False is a configuration error", async () => {
  await assert.rejects(
    withStoq({
      dispatchers: ["dummy_dispatcher"],
      pluginOpts: { dummy_dispatcher: { dispatch_once: "sometimes" } },
    }, (stoq) => stoq.loadPlugin("dummy_dispatcher")),
    /Invalid option "dispatch_once" for plugin "dummy_dispatcher" \(.*\): use True or False, got "sometimes"/,
  );
});

Deno.test("dispatch_once: the yara plugin in its Worker gives the response it gives asked every round", async () => {
  const plugins = new URL("../plugins", import.meta.url).pathname;
  const zip = zipSync({
    "a.txt": new TextEncoder().encode("alpha"),
    "inner.gz": gzipSync(new TextEncoder().encode("This program cannot be run in DOS mode")),
  });
  const xored = new TextEncoder().encode("MZ....This program cannot be run").map((b, i) =>
    i < 6 ? b : b ^ 0x2a
  );
  const shapes: unknown[] = [];
  for (const dispatchOnce of [false, true]) {
    const stoq = await Stoq.create({
      pluginDirList: [plugins],
      logSinks: [],
      isolation: "worker",
      alwaysDispatch: ["hash", "yara"],
      dispatchers: ["yara"],
      pluginOpts: {
        yara: {
          allow_ffi: "${node_modules}/@litko/yara-x-linux-x64-gnu",
          dispatch_once: dispatchOnce,
        },
      },
    });
    try {
      const responses = [];
      for (const content of [zip, xored]) responses.push(shape(await stoq.scan(content)));
      shapes.push(responses);
    } finally {
      await stoq.close();
    }
  }
  const [every, once] = shapes as { results: { plugins_run: { workers: string[] } }[] }[][];
  // The zip, its two members and the gunzipped text; the XOR-ed stub went to xordecode.
  assert.equal(every[0].results.length, 4);
  assert.ok(every[1].results[0].plugins_run.workers.includes("xordecode"));
  assert.deepEqual(once, every);
});
