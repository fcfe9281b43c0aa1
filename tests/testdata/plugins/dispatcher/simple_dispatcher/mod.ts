/**
 * simple_dispatcher: dispatches every payload to `workers` with metadata
 * `{test_key: "Useful metadata info"}`, and may set the payload's `should_archive`.
 *
 * @module
 */
import { z } from "zod";
import { definePlugin } from "../../../../../plugin_api.ts";

/** Ids of the payloads `getDispatches()` was called on, in call order. */
export const calls: string[] = [];

/** The simple_dispatcher test plugin. */
export default definePlugin({
  options: z.object({
    workers: z.array(z.string()).default(["dummy_worker"]),
    raise_exception: z.boolean().default(false),
    return_errors: z.boolean().default(false),
    should_archive: z.boolean().optional(),
  }),
  setup({ options }) {
    return {
      getDispatches: function simpleDispatch(payload) {
        calls.push(payload.payloadId);
        if (options.raise_exception) throw new Error("Test exception, please ignore");
        if (options.should_archive !== undefined) {
          payload.payloadMeta.shouldArchive = options.should_archive;
        }
        return {
          pluginNames: [...options.workers],
          meta: { test_key: "Useful metadata info" },
          errors: options.return_errors ? ["Test error please ignore"] : [],
        };
      },
    };
  },
});
