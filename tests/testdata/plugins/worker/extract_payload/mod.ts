/**
 * extract_payload: extracts `extracted_payload`, or 50 random bytes when it is empty; no results.
 *
 * @module
 */
import { z } from "zod";
import { definePlugin } from "../../../../../plugin_api.ts";

/** Ids of the payloads `scan()` was called on, in call order. */
export const calls: string[] = [];

/** The extract_payload test plugin. */
export default definePlugin({
  options: z.object({
    extracted_payload: z.string().default(""),
    extracted_extra_data: z.record(z.string(), z.unknown()).default({}),
  }),
  setup({ options }) {
    return {
      scan: function extractPayload(payload) {
        calls.push(payload.payloadId);
        const content = options.extracted_payload === ""
          ? crypto.getRandomValues(new Uint8Array(50))
          : options.extracted_payload;
        return {
          extracted: [{ content, payloadMeta: { extraData: { ...options.extracted_extra_data } } }],
        };
      },
    };
  },
});
