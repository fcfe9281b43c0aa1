/**
 * multiclass_plugin: a worker and a dispatcher in one plugin; as a dispatcher it sends every
 * payload to itself.
 *
 * @module
 */
import { definePlugin } from "../../../../../plugin_api.ts";

/** The dispatch metadata of each payload `scan()` was called on, with its id, in call order. */
export const calls: { payloadId: string; dispatchMeta: Record<string, unknown> }[] = [];

/** The multiclass_plugin test plugin. */
export default definePlugin({
  setup() {
    return {
      getDispatches: function dispatchToSelf() {
        return {
          pluginNames: ["multiclass_plugin"],
          meta: { multiclass_plugin: { rule0: "multiclass_plugin" } },
        };
      },
      scan: function multiclassScan(payload) {
        calls.push({
          payloadId: payload.payloadId,
          dispatchMeta: structuredClone(payload.dispatchMeta),
        });
        return { results: { valuable_insight: "wow" } };
      },
    };
  },
});
