/**
 * A test provider: puts `count` payloads (`payload 0`, `payload 1`, ...).
 *
 * @module
 */
import { definePlugin, z } from "../../../../plugin_api.ts";

export default definePlugin({
  options: z.object({ count: z.number().int().default(5) }),
  setup({ options }) {
    return {
      async ingest(queue) {
        for (let i = 0; i < options.count; i++) await queue.put({ content: `payload ${i}` });
      },
    };
  },
});
