/**
 * simple_archiver: `archive()` returns `{file_save_id: 12345}`; `get(task)` returns `payload` with
 * the task as its extra data.
 *
 * @module
 */
import { z } from "zod";
import { definePlugin, Payload } from "../../../../../plugin_api.ts";

/** Ids of the payloads `archive()` was called on, in call order. */
export const calls: string[] = [];

/** The simple_archiver test plugin. */
export default definePlugin({
  options: z.object({
    raise_exception: z.boolean().default(false),
    return_errors: z.boolean().default(false),
    payload: z.string().default("This is a payload"),
  }),
  setup({ options }) {
    return {
      archive: function simpleArchive(payload) {
        calls.push(payload.payloadId);
        if (options.raise_exception) throw new Error("Test exception, please ignore");
        return {
          results: { file_save_id: 12345 },
          errors: options.return_errors ? ["Test error please ignore"] : [],
        };
      },
      get: function simpleGet(task) {
        if (options.raise_exception) throw new Error("Test exception, please ignore");
        return new Payload(options.payload, { payloadMeta: { extraData: { ...task.results } } });
      },
    };
  },
});
