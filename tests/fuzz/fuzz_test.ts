import assert from "node:assert/strict";
import { defaultSeeds, fuzz, inputAt, mutate } from "./fuzz.ts";

Deno.test("mutate() is reproducible for a seed and changes its input", () => {
  const seeds = [...defaultSeeds().values()];
  const a = inputAt({ seed: 7, index: 3, seeds: defaultSeeds() });
  const b = inputAt({ seed: 7, index: 3, seeds: defaultSeeds() });
  assert.deepEqual(a, b);
  let changed = 0;
  let state = 1;
  const random = () => (state = (state * 48271) % 2147483647) / 2147483647;
  for (const seed of seeds) if (!equal(mutate(seed, random, seeds), seed)) changed++;
  assert.ok(changed >= seeds.length - 2, `${changed} of ${seeds.length} changed`);
});

Deno.test("fuzz(): 150 mutated archives through the default pipeline break no invariant", async () => {
  const report = await fuzz({ seed: 1, count: 150, seeds: defaultSeeds(), budgetMs: 60_000 });
  assert.ok(report.inputs >= 50, `only ${report.inputs} inputs ran`);
  assert.deepEqual(report.violations, []);
  assert.deepEqual(report.findings, []);
  assert.ok((report.kinds.corrupt ?? 0) > 0, "mutations should damage archives");
});

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
