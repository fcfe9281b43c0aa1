/**
 * A harmless worker whose folder holds `secret.txt`, which the hostile plugins try to read.
 *
 * @module
 */
import { definePlugin } from "../../../../plugin_api.ts";

/** The secret plugin. */
export default definePlugin({
  setup: ({ dir }) => ({
    scan: async () => ({ results: { secret: await Deno.readTextFile(`${dir}/secret.txt`) } }),
  }),
});
