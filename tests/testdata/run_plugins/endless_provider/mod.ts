/**
 * endless_provider: puts payloads "item <n>" (extra_data `n`), one every `interval_ms`, until a put
 * is refused; then its ingest ends with that error.
 *
 * @module
 */
import { z } from "zod";
import { definePlugin, Payload } from "../../../../plugin_api.ts";

/** How many times `ingest` started (in-process only: a Worker has its own copy). */
export const ingests = { count: 0 };

/** The endless_provider test plugin. */
export default definePlugin({
  options: z.object({ interval_ms: z.number().int().nonnegative().default(2) }),
  setup({ options }) {
    return {
      ingest: async function endlessIngest(queue) {
        ingests.count++;
        for (let n = 0;; n++) {
          await queue.put(new Payload(`item ${n}`, { payloadMeta: { extraData: { n } } }));
          await new Promise((resolve) => setTimeout(resolve, options.interval_ms));
        }
      },
    };
  },
});
