/**
 * simple_provider2: puts one payload.
 *
 * @module
 */
import { definePlugin, Payload } from "../../../../../plugin_api.ts";

/** The simple_provider2 test plugin. */
export default definePlugin({
  setup() {
    return {
      ingest: async function simpleIngest2(queue) {
        await queue.put(new Payload("More important stuff"));
      },
    };
  },
});
