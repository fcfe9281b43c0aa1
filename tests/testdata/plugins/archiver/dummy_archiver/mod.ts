/**
 * dummy_archiver: `archive()` and `get()` return nothing; `archive()` calls are recorded.
 *
 * @module
 */
import { definePlugin } from "../../../../../plugin_api.ts";

/** Ids of the payloads `archive()` was called on, in call order. */
export const calls: string[] = [];

/** The dummy_archiver test plugin. */
export default definePlugin({
  setup() {
    return {
      archive: function dummyArchive(payload) {
        calls.push(payload.payloadId);
      },
      get: function dummyGet() {},
    };
  },
});
