/**
 * dummy_worker: returns nothing; records what it was given.
 *
 * @module
 */
import { definePlugin } from "../../../../../plugin_api.ts";

/** One call of `scan()`, as the plugin saw it. */
export interface ScanCall {
  /** The scanned payload's id. */
  payloadId: string;
  /** The payload's dispatch metadata when the worker ran. */
  dispatchMeta: Record<string, unknown>;
  /** How many payloads the request held. */
  requestPayloads: number;
}

/** Every `scan()` call, in call order. */
export const calls: ScanCall[] = [];

/** The dummy_worker test plugin. */
export default definePlugin({
  setup() {
    return {
      scan: function dummyScan(payload, request) {
        calls.push({
          payloadId: payload.payloadId,
          dispatchMeta: structuredClone(payload.dispatchMeta),
          requestPayloads: request.payloads.length,
        });
      },
    };
  },
});
