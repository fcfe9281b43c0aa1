/**
 * simple_provider: puts `count` payloads "Important stuff" (or, with `return_payload = False`,
 * `{simple_archiver: {task: "This is a task"}}`), optionally a bare string, then optionally fails.
 *
 * @module
 */
import { z } from "zod";
import { definePlugin, Payload, type ProviderItem } from "../../../../../plugin_api.ts";

/** The simple_provider test plugin. */
export default definePlugin({
  options: z.object({
    raise_exception: z.boolean().default(false),
    return_payload: z.boolean().default(true),
    put_string: z.boolean().default(false),
    count: z.number().int().default(1),
  }),
  setup({ options }) {
    return {
      ingest: async function simpleIngest(queue) {
        if (options.put_string) {
          // The v3 docs allow a str; it is not a ProviderItem, which is the point of the test.
          await queue.put("a string" as unknown as ProviderItem);
        }
        for (let i = 0; i < options.count; i++) {
          await queue.put(
            options.return_payload
              ? new Payload("Important stuff")
              : { simple_archiver: { task: "This is a task" } },
          );
        }
        if (options.raise_exception) throw new Error("Test exception, please ignore");
      },
    };
  },
});
