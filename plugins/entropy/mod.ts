/**
 * entropy: the Shannon entropy of a payload's bytes in bits per byte (0 to 8; 0 for an empty
 * payload), as stoQ's public `entropy` worker reports it (`{entropy}`).
 *
 * @module
 */
import { definePlugin } from "../../plugin_api.ts";

/**
 * The Shannon entropy of `content` in bits per byte.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shannonEntropy } from "./mod.ts";
 * assert.equal(shannonEntropy(new Uint8Array(10)), 0);
 * assert.equal(shannonEntropy(Uint8Array.of(0, 1, 2, 3)), 2);
 * ```
 */
export function shannonEntropy(content: Uint8Array): number {
  if (content.length === 0) return 0;
  const counts = new Float64Array(256);
  for (let i = 0; i < content.length; i++) counts[content[i]]++;
  let entropy = 0;
  // Summed in byte-value order, as Python's Counter of stoQ's plugin does in first-seen order;
  // the two can differ in the last bit of the float, not more.
  for (const count of counts) {
    if (count === 0) continue;
    const p = count / content.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

/** The entropy plugin. */
export default definePlugin({
  setup() {
    return {
      scan: function entropyOf(payload) {
        return { results: { entropy: shannonEntropy(payload.content) } };
      },
    };
  },
});
