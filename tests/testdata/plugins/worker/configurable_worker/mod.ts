/**
 * configurable_worker: reports its own validated options as its results.
 *
 * @module
 */
import { z } from "zod";
import { definePlugin } from "../../../../../plugin_api.ts";

/** The configurable_worker test plugin. */
export default definePlugin({
  options: z.object({
    important_option: z.string().default(""),
    crazy_runtime_option: z.number().default(0),
    json_list: z.array(z.string()).default([]),
    json_dict: z.record(z.string(), z.unknown()).default({}),
    missing_json: z.record(z.string(), z.unknown()).default({}),
    worker_test_option_bool: z.boolean().default(false),
    worker_test_option_str: z.string().default(""),
    worker_test_option_int: z.number().int().default(0),
  }),
  setup({ options }) {
    return {
      scan: function reportOptions() {
        return { results: { options: structuredClone(options) } };
      },
    };
  },
});
