/**
 * simple_worker: results `{valuable_insight: "wow"}` and one extracted payload ("Lorem ipsum" by
 * default). stoQ's class-attribute knobs are options.
 *
 * @module
 */
import { z } from "zod";
import { definePlugin } from "../../../../../plugin_api.ts";

/** One call of `scan()`, as the plugin saw it. */
export interface ScanCall {
  /** The scanned payload's id. */
  payloadId: string;
  /** How many payloads the request held. */
  requestPayloads: number;
}

/** Every `scan()` call, in call order, across every stoq instance of this process. */
export const calls: ScanCall[] = [];

/** The simple_worker test plugin. */
export default definePlugin({
  options: z.object({
    raise_exception: z.boolean().default(false),
    return_errors: z.boolean().default(false),
    should_scan: z.boolean().default(true),
    extracted_dispatch_to: z.array(z.string()).default([]),
    additional_dispatch_to: z.array(z.string()).default([]),
    extracted_payload: z.string().default("Lorem ipsum"),
    extracted_extra_data: z.record(z.string(), z.unknown()).default({}),
    delay_ms: z.number().default(0),
  }),
  setup({ options }) {
    return {
      scan: async function simpleScan(payload, request) {
        calls.push({ payloadId: payload.payloadId, requestPayloads: request.payloads.length });
        if (options.delay_ms > 0) await new Promise((r) => setTimeout(r, options.delay_ms));
        if (options.raise_exception) throw new Error("Test exception, please ignore");
        return {
          results: { valuable_insight: "wow" },
          extracted: [{
            content: options.extracted_payload,
            payloadMeta: {
              shouldScan: options.should_scan,
              dispatchTo: [...options.extracted_dispatch_to],
              extraData: { ...options.extracted_extra_data },
            },
          }],
          errors: options.return_errors ? ["Test error please ignore"] : [],
          dispatchTo: [...options.additional_dispatch_to],
        };
      },
    };
  },
});
