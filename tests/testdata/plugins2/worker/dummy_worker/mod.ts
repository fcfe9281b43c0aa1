/**
 * The plugins2 copy of dummy_worker: its results carry a marker, so a test can tell which copy
 * discovery kept.
 *
 * @module
 */
import { definePlugin } from "../../../../../plugin_api.ts";

/** The plugins2 dummy_worker test plugin. */
export default definePlugin({
  setup() {
    return {
      scan: function markedScan() {
        return { results: { plugins2_dup_marker: true } };
      },
    };
  },
});
