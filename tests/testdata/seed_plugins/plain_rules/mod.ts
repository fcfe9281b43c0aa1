/**
 * A test dispatcher with `getDispatches` only: `rules` maps a worker that ran on the payload to
 * the workers to send it to.
 *
 * @module
 */
import { definePlugin, z } from "../../../../plugin_api.ts";

export default definePlugin({
  options: z.object({ rules: z.record(z.string(), z.array(z.string())).default({}) }),
  setup({ options }) {
    return {
      getDispatches(payload) {
        const ran = payload.results.pluginsRun.workers;
        return { pluginNames: ran.flatMap((worker) => options.rules[worker] ?? []) };
      },
    };
  },
});
