/**
 * dummy_worker2: returns nothing.
 *
 * @module
 */
import { definePlugin } from "../../../../../plugin_api.ts";

/** The dummy_worker2 test plugin. */
export default definePlugin({
  setup() {
    return { scan: function dummyScan2() {} };
  },
});
