/**
 * A test dispatcher. As a deep dispatcher (`getDeepDispatches`), `rules` maps a worker that ran on
 * the payload to the workers to send it to next; as a dispatcher, `main` names workers. Each deep
 * call is counted in `deep_calls` of its meta.
 *
 * @module
 */
import { definePlugin, z } from "../../../../plugin_api.ts";

export default definePlugin({
  options: z.object({
    rules: z.record(z.string(), z.array(z.string())).default({}),
    main: z.array(z.string()).default([]),
    fail: z.boolean().default(false),
  }),
  setup({ options }) {
    return {
      getDispatches() {
        return { pluginNames: options.main };
      },
      getDeepDispatches(payload) {
        if (options.fail) throw new Error("deep rules failed");
        const ran = payload.results.pluginsRun.workers;
        const previous = payload.dispatchMeta.deep_rules as { deep_calls?: number } | undefined;
        const calls = Number(previous?.deep_calls ?? 0) + 1;
        return {
          pluginNames: ran.flatMap((worker) => options.rules[worker] ?? []),
          meta: { deep_calls: calls, ran: [...ran] },
        };
      },
    };
  },
});
