/**
 * The zod schemas of everything that crosses a boundary into the core: what plugins return and
 * the JSON shapes of the data model (stoQ v3's keys, snake_case, in stoQ's order).
 *
 * @module
 */
import { z } from "zod";

/** A JSON-like record of plugin results. */
export const ResultsSchema = z.record(z.string(), z.unknown());

/** `PayloadMeta` as JSON. */
export const PayloadMetaJsonSchema = z.object({
  should_archive: z.boolean(),
  should_scan: z.boolean(),
  extra_data: z.record(z.string(), z.unknown()),
  dispatch_to: z.array(z.string()),
});
/** `PayloadMeta` as JSON. */
export type PayloadMetaJson = z.infer<typeof PayloadMetaJsonSchema>;

/** `PayloadResults` as JSON. */
export const PayloadResultsJsonSchema = z.object({
  size: z.number(),
  payload_id: z.string(),
  payload_meta: PayloadMetaJsonSchema,
  plugins_run: z.object({ workers: z.array(z.string()), archivers: z.array(z.string()) }),
  extracted_from: z.array(z.string()),
  extracted_by: z.array(z.string()),
  workers: z.record(z.string(), z.unknown()),
  archivers: z.record(z.string(), z.unknown()),
});
/** `PayloadResults` as JSON. */
export type PayloadResultsJson = z.infer<typeof PayloadResultsJsonSchema>;

/** `RequestMeta` as JSON. */
export const RequestMetaJsonSchema = z.object({
  archive_payloads: z.boolean(),
  source: z.string().nullable(),
  extra_data: z.record(z.string(), z.unknown()),
});
/** `RequestMeta` as JSON. */
export type RequestMetaJson = z.infer<typeof RequestMetaJsonSchema>;

/** A `ScanError` (stoQ's `Error`) as JSON. `kind` is stoq's addition. */
export const ScanErrorJsonSchema = z.object({
  error: z.string(),
  plugin_name: z.string().nullable(),
  payload_id: z.string().nullable(),
  kind: z.string(),
});
/** A `ScanError` as JSON. */
export type ScanErrorJson = z.infer<typeof ScanErrorJsonSchema>;

/** A whole `StoqResponse` as JSON. */
export const StoqResponseJsonSchema = z.object({
  results: z.array(PayloadResultsJsonSchema),
  request_meta: RequestMetaJsonSchema,
  errors: z.array(ScanErrorJsonSchema),
  time: z.string(),
  decorators: z.record(z.string(), z.unknown()),
  scan_id: z.string(),
});
/** A whole `StoqResponse` as JSON. */
export type StoqResponseJson = z.infer<typeof StoqResponseJsonSchema>;

const Bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, "expected bytes (Uint8Array)");
const Content = z.union([Bytes, z.string()], { error: "expected bytes (Uint8Array) or a string" });

/** Payload meta as a plugin may give it: every field optional, camelCase. */
export const PayloadMetaInitSchema = z.object({
  shouldArchive: z.boolean().optional(),
  shouldScan: z.boolean().optional(),
  extraData: z.record(z.string(), z.unknown()).optional(),
  dispatchTo: z.array(z.string()).optional(),
});

/** An error as a plugin may give it: a string, or an object with at least `error`. */
export const PluginErrorItemSchema = z.union([
  z.string(),
  z.object({
    error: z.string(),
    pluginName: z.string().nullish(),
    payloadId: z.string().nullish(),
    kind: z.string().optional(),
  }),
]);

/** A payload extracted by a worker. */
export const ExtractedPayloadSchema = z.object({
  content: Content,
  payloadMeta: PayloadMetaInitSchema.optional(),
});

/** What a worker's `scan()` may return. */
export const WorkerResponseSchema = z.object({
  results: ResultsSchema.nullish(),
  extracted: z.array(ExtractedPayloadSchema).optional(),
  errors: z.array(PluginErrorItemSchema).optional(),
  dispatchTo: z.array(z.string()).optional(),
});

/** What a dispatcher's `getDispatches()` may return. */
export const DispatcherResponseSchema = z.object({
  pluginNames: z.array(z.string()).optional(),
  meta: z.record(z.string(), z.unknown()).nullish(),
  errors: z.array(PluginErrorItemSchema).optional(),
});

/** What a dest archiver's `archive()` and a decorator's `decorate()` may return. */
export const ResultsResponseSchema = z.object({
  results: ResultsSchema.nullish(),
  errors: z.array(PluginErrorItemSchema).optional(),
});

/** What a source archiver's `get()` may return: a payload to scan. */
export const PayloadInitSchema = z.object({
  content: Content,
  payloadMeta: PayloadMetaInitSchema.optional(),
});

/** Describe a zod error in one line: `field "a.b": message`. */
export function describeZodError(error: z.ZodError): string {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join(".");
    return path ? `field "${path}": ${issue.message}` : issue.message;
  }).join("; ");
}
