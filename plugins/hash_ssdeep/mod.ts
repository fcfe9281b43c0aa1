/**
 * hash_ssdeep: the ssdeep fuzzy hash of a payload, as stoQ's public `hash_ssdeep` worker reports
 * it (`{ssdeep: "BLOCKSIZE:PART1:PART2"}`). The digest is computed in TypeScript and is identical to
 * Debian's `ssdeep` 2.14 (libfuzzy); `ssdeepCompare()` scores two digests as `ssdeep -d` does.
 *
 * @module
 */
import { definePlugin } from "../../plugin_api.ts";
import { ssdeepHash } from "./ssdeep_hash.ts";

export { ssdeepHash } from "./ssdeep_hash.ts";
export { ssdeepCompare } from "./ssdeep_compare.ts";

/** The hash_ssdeep plugin. */
export default definePlugin({
  setup() {
    return {
      scan: function ssdeepPayload(payload) {
        return { results: { ssdeep: ssdeepHash(payload.content) } };
      },
    };
  },
});
