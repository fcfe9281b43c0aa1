/**
 * failing_connector: every save fails.
 *
 * @module
 */
import { definePlugin } from "../../../../../plugin_api.ts";

/** The failing_connector test plugin. */
export default definePlugin({
  setup() {
    return {
      save: function failingSave() {
        throw new Error("Connector down, please ignore");
      },
    };
  },
});
