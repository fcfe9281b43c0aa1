/**
 * Test workers wb, wc, wd and we (one module, four manifests; wa is the same worker in a folder of
 * its own, for its templates): results `{saw}` (the workers whose results it saw on its payload);
 * with `extract = True` it extracts `child:<content>` from a payload that is not a child; `to`
 * names workers for `dispatchTo`.
 *
 * @module
 */
import { definePlugin, z } from "../../../../plugin_api.ts";

export default definePlugin({
  options: z.object({
    extract: z.boolean().default(false),
    to: z.array(z.string()).default([]),
  }),
  setup({ options }) {
    return {
      scan(payload) {
        const text = new TextDecoder().decode(payload.content);
        const extracted = options.extract && !text.startsWith("child:")
          ? [{ content: `child:${text}` }]
          : [];
        return {
          results: { saw: Object.keys(payload.results.workers).sort() },
          extracted,
          dispatchTo: options.to,
        };
      },
    };
  },
});
