/**
 * A test worker with a version gate in its manifest; results `{ok: true}`.
 *
 * @module
 */
import { definePlugin } from "../../../../plugin_api.ts";

export default definePlugin({
  setup() {
    return { scan: () => ({ results: { ok: true } }) };
  },
});
