/**
 * conditional_dispatcher: dispatches to simple_worker once any payload of the request has been
 * scanned by dummy_worker.
 *
 * @module
 */
import { definePlugin } from "../../../../../plugin_api.ts";

/** The conditional_dispatcher test plugin. */
export default definePlugin({
  setup() {
    return {
      getDispatches: function dispatchAfterDummy(_payload, request) {
        const dummyRan = request.payloads.some((p) =>
          p.results.pluginsRun.workers.includes("dummy_worker")
        );
        return { pluginNames: dummyRan ? ["simple_worker"] : [] };
      },
    };
  },
});
