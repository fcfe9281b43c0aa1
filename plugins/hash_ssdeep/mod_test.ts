import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Stoq } from "../../mod.ts";
import { ssdeepCompare, ssdeepHash } from "./mod.ts";
import { compareInputs, goldenInputs } from "./testdata/inputs.ts";

interface Expected {
  hashes: { name: string; size: number; sha256: string; ssdeep: string }[];
  compare: { a: string; b: string; names: string[]; score: number }[];
}

const EXPECTED: Expected = JSON.parse(
  Deno.readTextFileSync(new URL("./testdata/expected.json", import.meta.url)),
);
const PLUGINS = fileURLToPath(new URL("..", import.meta.url));

Deno.test("ssdeepHash() matches ssdeep 2.14 on every golden input", () => {
  const inputs = new Map(goldenInputs().map((input) => [input.name, input.content]));
  assert.equal(inputs.size, EXPECTED.hashes.length);
  for (const expected of EXPECTED.hashes) {
    const content = inputs.get(expected.name);
    assert.ok(content, `input "${expected.name}" is no longer generated`);
    // A changed generator must fail here, not compare against a stale digest.
    assert.equal(
      createHash("sha256").update(content).digest("hex"),
      expected.sha256,
      expected.name,
    );
    assert.equal(ssdeepHash(content), expected.ssdeep, expected.name);
  }
});

Deno.test("ssdeepHash() of the comparison inputs matches the digests ssdeep scored", () => {
  const digests = new Set(EXPECTED.compare.flatMap((pair) => [pair.a, pair.b]));
  const mine = new Set(compareInputs().map((input) => ssdeepHash(input.content)));
  assert.deepEqual([...mine].sort(), [...digests].sort());
});

Deno.test("ssdeepCompare() gives ssdeep's score for every golden pair, in both orders", () => {
  assert.ok(EXPECTED.compare.some((pair) => pair.score > 0 && pair.score < 100));
  for (const pair of EXPECTED.compare) {
    assert.equal(ssdeepCompare(pair.a, pair.b), pair.score, pair.names.join(" vs "));
    assert.equal(ssdeepCompare(pair.b, pair.a), pair.score, pair.names.join(" vs "));
  }
});

Deno.test("ssdeepCompare() returns -1 for malformed digests and 0 for distant block sizes", () => {
  assert.equal(ssdeepCompare("abc", "3::"), -1);
  assert.equal(ssdeepCompare("3:abc", "3::"), -1);
  assert.equal(ssdeepCompare(`3:${"A".repeat(70)}B:`, "3::"), 0); // runs are shortened first
  assert.equal(ssdeepCompare(`3:${"AB".repeat(40)}:`, "3::"), -1);
  assert.equal(ssdeepCompare("3:abcdefgh:abcd", "12:abcdefgh:abcd"), 0);
});

Deno.test("hash_ssdeep worker reports {ssdeep} through stoq", async () => {
  const stoq = await Stoq.create({
    pluginDirList: [PLUGINS],
    alwaysDispatch: ["hash_ssdeep"],
    logSinks: [],
  });
  try {
    const response = await stoq.scan("The quick brown fox");
    const results = response.toJSON().results;
    assert.deepEqual(results[0].workers.hash_ssdeep, { ssdeep: "3:FJKX:Fs" });
  } finally {
    await stoq.close();
  }
});
