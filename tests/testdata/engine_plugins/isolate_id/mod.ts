/**
 * isolate_id: reports an id drawn once per isolate, so a test can tell which engine (or Worker)
 * scanned a payload, and whether it may read every file (in-process) or not (sandboxed).
 *
 * @module
 */
import { definePlugin } from "../../../../plugin_api.ts";

const ISOLATE = crypto.randomUUID();

/** The isolate_id test plugin. */
export default definePlugin({
  setup() {
    return {
      scan: function reportIsolate() {
        // Granted in-process (the engine has the host's rights), not in the sandbox.
        const readAll = Deno.permissions.querySync({ name: "read", path: "/" }).state === "granted";
        return { results: { isolate: ISOLATE, read_all: readAll } };
      },
    };
  },
});
