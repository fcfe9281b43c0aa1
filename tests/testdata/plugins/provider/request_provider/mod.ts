/**
 * request_provider: puts a Request with `extra_data = {dummy: "1"}`, or with default metadata.
 *
 * @module
 */
import { z } from "zod";
import { definePlugin, Payload, Request, RequestMeta } from "../../../../../plugin_api.ts";

/** The request_provider test plugin. */
export default definePlugin({
  options: z.object({ default_meta: z.boolean().default(false) }),
  setup({ options }) {
    return {
      ingest: async function requestIngest(queue) {
        const payloads = [new Payload("Request stuff")];
        await queue.put(
          options.default_meta ? new Request({ payloads }) : new Request({
            payloads,
            requestMeta: new RequestMeta({ extraData: { dummy: "1" } }),
          }),
        );
      },
    };
  },
});
