import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Stoq } from "../../mod.ts";
import { inputs } from "./testdata/inputs.ts";
import recorded from "./testdata/expected.json" with { type: "json" };

const DIR = fileURLToPath(new URL(".", import.meta.url));

Deno.test("hash agrees with coreutils' md5sum, sha1sum, sha256sum and sha512sum", async () => {
  const stoq = await Stoq.create({
    baseDir: DIR,
    pluginDirList: [DIR],
    alwaysDispatch: ["hash"],
    pluginOpts: { hash: { sha512: true } },
    logSinks: [],
  });
  try {
    for (const [name, bytes] of Object.entries(inputs())) {
      const response = (await stoq.scan(bytes)).toJSON();
      assert.deepEqual(response.errors, [], name);
      assert.deepEqual(
        response.results[0].workers.hash,
        (recorded.expected as Record<string, unknown>)[name],
        name,
      );
    }
  } finally {
    await stoq.close();
  }
});

Deno.test("hash leaves sha512 out unless asked", async () => {
  const stoq = await Stoq.create({
    baseDir: DIR,
    pluginDirList: [DIR],
    alwaysDispatch: ["hash"],
    logSinks: [],
  });
  try {
    const response = (await stoq.scan("The quick brown fox")).toJSON();
    const { sha512: _, ...rest } = recorded.expected.fox;
    assert.deepEqual(response.results[0].workers.hash, rest);
  } finally {
    await stoq.close();
  }
});
