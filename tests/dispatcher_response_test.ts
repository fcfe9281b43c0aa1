/**
 * What a dispatcher may return: the common shape is taken as it is, anything else goes through
 * `DispatcherResponseSchema`, and a response that does not fit it is an error of that dispatcher.
 *
 * @module
 */
import assert from "node:assert/strict";
import { PLUGINS, reset, withStoq, writePlugin } from "./_conformance.ts";
import { calls as dummyWorkerCalls } from "./testdata/plugins/worker/dummy_worker/mod.ts";

/** Responses by name; the dispatcher returns the one named by the payload's text. */
const RESPONSES = `{
  plain: { pluginNames: ["dummy_worker"], meta: { rule: "r", strings: [[0, "$a", "x"]] } },
  no_meta: { pluginNames: ["dummy_worker"] },
  null_meta: { pluginNames: ["dummy_worker"], meta: null },
  stray_key: { pluginNames: ["dummy_worker"], unexpected: 1 },
  with_errors: { pluginNames: ["dummy_worker"], errors: ["its own error"] },
  number_name: { pluginNames: [1] },
  hole: { pluginNames: [, "dummy_worker"] },
  name_string: { pluginNames: "dummy_worker" },
  meta_list: { pluginNames: [], meta: [1, 2] },
  not_object: "dummy_worker",
}`;

/** Scan each named payload with that dispatcher: the workers run, what they saw, the errors. */
async function dispatchEach(names: string[]) {
  const dir = await Deno.makeTempDir({ prefix: "dispatcher_response_" });
  try {
    await writePlugin(
      dir,
      "answers",
      "dispatcher",
      `{ getDispatches(payload) { return (${RESPONSES})[new TextDecoder().decode(payload.content)]; } }`,
    );
    return await withStoq(
      { pluginDirList: [PLUGINS, dir], dispatchers: ["answers"] },
      (stoq) =>
        Promise.all(names.map(async (name) => {
          reset(dummyWorkerCalls);
          const response = await stoq.scan(new TextEncoder().encode(name));
          return {
            name,
            workers: response.results[0].pluginsRun.workers,
            dispatchMeta: dummyWorkerCalls[0]?.dispatchMeta,
            errors: response.errors.map((e) => e.error),
          };
        })),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a dispatcher's plain response routes the payload and gives the worker its meta", async () => {
  for (const name of ["plain", "no_meta", "null_meta", "stray_key", "with_errors"]) {
    const [outcome] = await dispatchEach([name]);
    assert.deepEqual(outcome.workers, ["dummy_worker"], name);
    const meta = name === "plain" ? { answers: { rule: "r", strings: [[0, "$a", "x"]] } } : {};
    assert.deepEqual(outcome.dispatchMeta, meta, name);
    // A stray key is dropped, as the schema drops it; the dispatcher's own errors are kept, once
    // per round (round 2 asks again, and finds nothing left to run).
    assert.deepEqual(
      outcome.errors,
      name === "with_errors" ? ["its own error", "its own error"] : [],
      name,
    );
  }
});

Deno.test("a dispatcher's response that does not fit the schema is that dispatcher's error", async () => {
  for (const name of ["number_name", "hole", "name_string", "meta_list", "not_object"]) {
    const [outcome] = await dispatchEach([name]);
    assert.deepEqual(outcome.workers, [], name);
    // Nothing ran, so there is no second round.
    assert.equal(outcome.errors.length, 1, name);
    assert.match(
      outcome.errors[0],
      /^dispatcher:failed to dispatch: .*Plugin "answers" returned an invalid response from getDispatches\(\)/,
      name,
    );
  }
});
