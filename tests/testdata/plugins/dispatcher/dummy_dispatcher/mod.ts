/**
 * dummy_dispatcher: returns nothing; records each call.
 *
 * @module
 */
import { definePlugin } from "../../../../../plugin_api.ts";

/** Ids of the payloads `getDispatches()` was called on, in call order. */
export const calls: string[] = [];

/** The dummy_dispatcher test plugin. */
export default definePlugin({
  setup() {
    return {
      getDispatches: function dummyDispatch(payload) {
        calls.push(payload.payloadId);
      },
    };
  },
});
