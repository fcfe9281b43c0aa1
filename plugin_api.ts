/**
 * The plugin API, as one module for plugin authors: `definePlugin`, the data classes and their
 * types. Plugins import nothing else from stoq, so this module is versioned and kept stable.
 *
 * @example
 * ```ts
 * import { definePlugin } from "./plugin_api.ts";
 * export default definePlugin({
 *   setup() {
 *     return { scan: function size(payload) { return { results: { size: payload.content.length } }; } };
 *   },
 * });
 * ```
 *
 * @module
 */
export { definePlugin, KINDS } from "./core/plugin.ts";
export type {
  DispatcherResult,
  Kind,
  PayloadResult,
  PluginContext,
  PluginDefinition,
  PluginErrorItem,
  PluginHandlers,
  ProviderItem,
  ProviderQueue,
  ProviderReceipt,
  ResultsResult,
  WorkerResult,
} from "./core/plugin.ts";
export { ExtractedPayload, Payload, PayloadMeta, PayloadResults } from "./core/payload.ts";
export type { PayloadInit, PayloadMetaInit } from "./core/payload.ts";
export { Request, RequestMeta } from "./core/request.ts";
export type { RequestInit, RequestMetaInit } from "./core/request.ts";
export {
  ArchiverResponse,
  DecoratorResponse,
  DispatcherResponse,
  StoqResponse,
  WorkerResponse,
} from "./core/response.ts";
export { isScanErrorKind, SCAN_ERROR_KINDS, ScanError } from "./core/scan_error.ts";
export type { ScanErrorKind } from "./core/scan_error.ts";
export type { Logger } from "./core/log.ts";
export { dumps } from "./core/dumps.ts";
/**
 * zod, the schema library plugin options are declared with: the same instance the core uses, for
 * plugins that live outside stoq's tree (installed or loaded by path) and cannot name `"zod"`.
 */
export { z } from "zod";
