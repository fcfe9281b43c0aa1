/**
 * mismatched_kinds: its manifest declares a worker, but it implements a dispatcher.
 *
 * @module
 */
import { definePlugin } from "../../../../../plugin_api.ts";

/** The mismatched_kinds test plugin. */
export default definePlugin({
  setup() {
    return { getDispatches: function dispatchNothing() {} };
  },
});
