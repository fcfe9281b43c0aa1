/**
 * simple_decorator: results `{simple_decoration: 123}`; records the responses it decorates.
 *
 * @module
 */
import { z } from "zod";
import { definePlugin } from "../../../../../plugin_api.ts";

/** One call of `decorate()`: the response's scan id and the payload ids of its results. */
export const calls: { scanId: string; payloadIds: string[] }[] = [];

/** The simple_decorator test plugin. */
export default definePlugin({
  options: z.object({
    raise_exception: z.boolean().default(false),
    return_errors: z.boolean().default(false),
  }),
  setup({ options }) {
    return {
      decorate: function simpleDecorate(response) {
        calls.push({
          scanId: response.scanId,
          payloadIds: response.results.map((r) => r.payloadId),
        });
        if (options.raise_exception) throw new Error("Test exception, please ignore");
        return {
          results: { simple_decoration: 123 },
          errors: options.return_errors ? ["Test error please ignore"] : [],
        };
      },
    };
  },
});
