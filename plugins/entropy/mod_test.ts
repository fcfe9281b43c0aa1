import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Stoq } from "../../mod.ts";
import { shannonEntropy } from "./mod.ts";

const PLUGINS = fileURLToPath(new URL("..", import.meta.url));

Deno.test("shannonEntropy() is 0 for empty and constant content, 8 for all byte values", () => {
  assert.equal(shannonEntropy(new Uint8Array()), 0);
  assert.equal(shannonEntropy(new Uint8Array(1000).fill(0x41)), 0);
  const all = Uint8Array.from({ length: 256 * 4 }, (_, i) => i & 0xff);
  assert.equal(shannonEntropy(all), 8);
});

Deno.test("shannonEntropy() matches stoQ's value for its test content", () => {
  // stoQ's entropy test: b"The quick brown fox" -> 3.892407118592878 (Python, math.log(p, 2)).
  const value = shannonEntropy(new TextEncoder().encode("The quick brown fox"));
  assert.ok(Math.abs(value - 3.892407118592878) < 1e-12, String(value));
});

Deno.test("entropy worker reports {entropy} through stoq", async () => {
  const stoq = await Stoq.create({
    pluginDirList: [PLUGINS],
    alwaysDispatch: ["entropy"],
    logSinks: [],
  });
  try {
    const response = await stoq.scan(Uint8Array.of(0, 1, 2, 3));
    assert.deepEqual(response.toJSON().results[0].workers.entropy, { entropy: 2 });
  } finally {
    await stoq.close();
  }
});
