/**
 * invalid_config: a valid worker module; what is wrong (if anything) is in its manifest.
 *
 * @module
 */
import { definePlugin } from "../../../../../plugin_api.ts";

/** The invalid_config test plugin. */
export default definePlugin({
  setup() {
    return { scan: function scan() {} };
  },
});
