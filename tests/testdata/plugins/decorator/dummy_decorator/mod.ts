/**
 * dummy_decorator: returns nothing.
 *
 * @module
 */
import { definePlugin } from "../../../../../plugin_api.ts";

/** Scan ids of the responses `decorate()` was called on. */
export const calls: string[] = [];

/** The dummy_decorator test plugin. */
export default definePlugin({
  setup() {
    return {
      decorate: function dummyDecorate(response) {
        calls.push(response.scanId);
      },
    };
  },
});
