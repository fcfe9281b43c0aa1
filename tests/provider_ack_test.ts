/**
 * A provider's optional `ack`/`nack` handlers: `ack` once every connector saved an item's
 * response, `nack` (with why) when one failed, never both; the provider runs in a Worker pool of
 * two, and each call reaches the instance whose `ingest` put the item.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Stoq } from "../mod.ts";

const PLUGINS = fileURLToPath(new URL("./testdata/ack_plugins", import.meta.url));

for (const isolation of ["worker", "none"] as const) {
  Deno.test(`provider ack/nack after connectors (provider isolation ${isolation})`, async () => {
    const g = globalThis as { __flakySaved?: Record<string, unknown>[] };
    g.__flakySaved = [];
    const stoq = await Stoq.create({
      baseDir: PLUGINS,
      pluginDirList: [PLUGINS],
      providers: ["ack_provider"],
      connectors: ["flaky_connector"],
      pluginOpts: {
        ack_provider: { count: 4, isolation, concurrency: 2 },
        flaky_connector: { isolation: "none" },
      },
      logSinks: [],
    });
    try {
      await stoq.run();
    } finally {
      await stoq.close();
    }
    const summary = g.__flakySaved.find((extra) => extra.summary)?.summary as {
      acked: number[];
      nacked: { n: number; error: string }[];
    };
    assert.ok(summary, "the provider put its summary");
    assert.deepEqual([...summary.acked].sort(), [0, 2, 3]);
    assert.equal(summary.nacked.length, 1);
    assert.equal(summary.nacked[0].n, 1);
    assert.match(summary.nacked[0].error, /connector failed to save.*disk full/);
  });
}
