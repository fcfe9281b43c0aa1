/**
 * `max_in_flight`: the core scans at most that many requests at once; the others wait their turn,
 * in the order they came, and every response is the same as without the limit.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ConfigError, Stoq, StoqError } from "../mod.ts";
import { parseIni } from "../core/config.ts";
import { held } from "./testdata/in_flight/held_worker/mod.ts";

const PLUGINS = fileURLToPath(new URL("./testdata/in_flight", import.meta.url));

/** Let every pending promise job and timer of this moment run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

async function withHeld(maxInFlight: number | undefined, body: (stoq: Stoq) => Promise<void>) {
  held.length = 0;
  const stoq = await Stoq.create({
    baseDir: PLUGINS,
    pluginDirList: [PLUGINS],
    alwaysDispatch: ["held_worker"],
    isolation: "none",
    maxInFlight,
    logSinks: [],
  });
  try {
    await body(stoq);
  } finally {
    // close() waits for the scans asked for: let go of any a failed assertion left held.
    const releasing = setInterval(() => {
      for (const h of held.splice(0)) h.release();
    }, 1);
    await stoq.close();
    clearInterval(releasing);
  }
}

Deno.test("max_in_flight: at most that many requests are scanned at once, the rest in the order they came", async () => {
  await withHeld(2, async (stoq) => {
    const texts = ["a", "b", "c", "d", "e"];
    const scans = texts.map((text) => stoq.scan(text));
    await settle();
    assert.deepEqual(held.map((h) => h.text), ["a", "b"]);
    held.find((h) => h.text === "b")!.release();
    await settle();
    assert.deepEqual(held.map((h) => h.text), ["a", "c"]);
    held.find((h) => h.text === "a")!.release();
    await settle();
    assert.deepEqual(held.map((h) => h.text), ["c", "d"]);
    while (held.length > 0) {
      assert.ok(held.length <= 2);
      held[0].release();
      await settle();
    }
    const responses = await Promise.all(scans);
    assert.deepEqual(
      responses.map((r) => r.results[0].workers.held_worker),
      texts.map((text) => ({ text })),
    );
    for (const response of responses) assert.deepEqual(response.errors, []);
  });
});

Deno.test("max_in_flight: 128 by default, and 0 lifts the limit", async () => {
  await withHeld(undefined, async (stoq) => {
    assert.equal(stoq.maxInFlight, 128);
    const scans = Array.from({ length: 130 }, (_, i) => stoq.scan(`p${i}`));
    await settle();
    assert.equal(held.length, 128);
    while (held.length > 0) {
      held[0].release();
      await settle();
    }
    assert.equal((await Promise.all(scans)).length, 130);
  });
  await withHeld(0, async (stoq) => {
    const scans = Array.from({ length: 300 }, (_, i) => stoq.scan(`p${i}`));
    await settle();
    assert.equal(held.length, 300);
    for (const h of [...held]) h.release();
    assert.equal((await Promise.all(scans)).length, 300);
  });
});

Deno.test("max_in_flight: read from stoq.cfg's [core], and a bad value names the option", async () => {
  const config = (line: string) => parseIni(`[core]\n${line}\n`, { file: "/etc/stoq/stoq.cfg" });
  const stoq = await Stoq.create({ config: config("max_in_flight = 3"), logSinks: [] });
  try {
    assert.equal(stoq.maxInFlight, 3);
  } finally {
    await stoq.close();
  }
  await assert.rejects(
    Stoq.create({ config: config("max_in_flight = many"), logSinks: [] }),
    (err: Error) => err instanceof ConfigError && /max_in_flight/.test(err.message),
  );
  await assert.rejects(
    Stoq.create({ maxInFlight: -1, logSinks: [] }),
    (err: Error) => err instanceof ConfigError && /maxInFlight/.test(err.message),
  );
});

Deno.test("close(): the scans already asked for finish, new ones and plugin loads are refused", async () => {
  await withHeld(1, async (stoq) => {
    const scans = ["a", "b", "c"].map((text) => stoq.scan(text));
    await settle();
    let closed = false;
    const closing = stoq.close().then(() => closed = true);
    assert.equal(stoq.close(), stoq.close(), "close() twice gives the same promise");
    await assert.rejects(
      stoq.scan("d"),
      (err: Error) =>
        err instanceof StoqError && /Cannot scan: this stoq instance is closed/.test(err.message),
    );
    for (const text of ["a", "b", "c"]) {
      assert.deepEqual(held.map((h) => h.text), [text]);
      assert.equal(closed, false);
      held[0].release();
      await settle();
    }
    await closing;
    const responses = await Promise.all(scans);
    assert.deepEqual(
      responses.map((r) => [r.results[0].workers.held_worker, r.errors.length]),
      [[{ text: "a" }, 0], [{ text: "b" }, 0], [{ text: "c" }, 0]],
    );
    await assert.rejects(stoq.loadPlugin("held_worker"), StoqError);
  });
});
