/**
 * A worker for the redis plugin's tests: waits `sleep_ms` per payload (so a consumer can be killed
 * mid-scan), and exits its sandbox instance on a payload starting with "POISON" (a crash, every
 * time).
 *
 * @module
 */
import { z } from "zod";
import { definePlugin } from "../../../../../plugin_api.ts";

export default definePlugin({
  options: z.object({ sleep_ms: z.number().int().min(0).default(0) }),
  setup({ options }) {
    return {
      scan: async function redisTestworker(payload) {
        const head = new TextDecoder().decode(payload.content.subarray(0, 6));
        if (head === "POISON") Deno.exit(3);
        if (options.sleep_ms > 0) await new Promise((r) => setTimeout(r, options.sleep_ms));
        return { results: { size: payload.content.length } };
      },
    };
  },
});
