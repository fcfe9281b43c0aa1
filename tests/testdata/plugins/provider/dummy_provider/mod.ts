/**
 * dummy_provider: puts nothing.
 *
 * @module
 */
import { definePlugin } from "../../../../../plugin_api.ts";

/** The dummy_provider test plugin. */
export default definePlugin({
  setup() {
    return {
      ingest: async function dummyIngest() {},
    };
  },
});
