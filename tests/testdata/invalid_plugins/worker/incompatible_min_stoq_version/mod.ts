/**
 * incompatible_min_stoq_version: a valid worker module; what is wrong (if anything) is in its manifest.
 *
 * @module
 */
import { definePlugin } from "../../../../../plugin_api.ts";

/** The incompatible_min_stoq_version test plugin. */
export default definePlugin({
  setup() {
    return { scan: function scan() {} };
  },
});
