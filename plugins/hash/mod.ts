/**
 * hash: MD5, SHA-1 and SHA-256 of a payload (and SHA-512 with `sha512 = True`), in hex, as stoQ's
 * public `hash` worker reports them.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { definePlugin } from "../../plugin_api.ts";

/** The hash plugin. */
export default definePlugin({
  options: z.object({ sha512: z.boolean().default(false) }),
  setup({ options }) {
    const algorithms = ["md5", "sha1", "sha256", ...(options.sha512 ? ["sha512"] : [])];
    return {
      scan: function hashPayload(payload) {
        const results: Record<string, string> = {};
        for (const algorithm of algorithms) {
          results[algorithm] = createHash(algorithm).update(payload.content).digest("hex");
        }
        return { results };
      },
    };
  },
});
