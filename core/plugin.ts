/**
 * The plugin API: everything a plugin imports from stoq. Plugins depend on this module (and the data
 * classes it re-exports) alone, so it is versioned and kept stable.
 *
 * A plugin is a folder with a `.stoq` manifest and a module whose default export is
 * `definePlugin({...})`. The `setup()` factory runs once, when the plugin loads, with the plugin's
 * validated options; it returns the handlers, one per kind the plugin implements.
 *
 * @module
 */
import type { z } from "zod";
import type { Logger } from "./log.ts";
import type { ExtractedPayload, Payload, PayloadMetaInit } from "./payload.ts";
import type { Request } from "./request.ts";
import type {
  ArchiverResponse,
  DecoratorResponse,
  DispatcherResponse,
  StoqResponse,
  WorkerResponse,
} from "./response.ts";
import type { ScanError } from "./scan_error.ts";

/** The kinds of plugin, after stoQ's plugin classes. */
export const KINDS = [
  "provider",
  "worker",
  "dispatcher",
  "archiver",
  "connector",
  "decorator",
] as const;
/** A kind of plugin. */
export type Kind = typeof KINDS[number];

/** The handler method each kind implements. */
export const KIND_METHODS: Readonly<Record<Kind, readonly (keyof PluginHandlers)[]>> = {
  provider: ["ingest"],
  worker: ["scan"],
  dispatcher: ["getDispatches", "getDeepDispatches"],
  archiver: ["archive", "get"],
  connector: ["save"],
  decorator: ["decorate"],
};

/** What `setup()` receives. */
export interface PluginContext<Options> {
  /** The plugin's name (`[Core] Name` of its manifest). */
  readonly name: string;
  /** The plugin's folder, as a path: rules and data files live here. */
  readonly dir: string;
  /** The plugin's options, validated and coerced by its `options` schema. */
  readonly options: Options;
  /** The plugin's logger (`stoq.<name>`), writing to standard error. */
  readonly log: Logger;
  /** The version of stoq running the plugin. */
  readonly stoqVersion: string;
}

/** An error a plugin reports: a message, or a `ScanError`-like object. */
export type PluginErrorItem = string | ScanError | {
  error: string;
  pluginName?: string | null;
  payloadId?: string | null;
  kind?: string;
};

/** What a worker may return: a `WorkerResponse` or a plain object of the same shape. */
export type WorkerResult =
  | WorkerResponse
  | {
    results?: Record<string, unknown> | null;
    extracted?:
      (ExtractedPayload | { content: Uint8Array | string; payloadMeta?: PayloadMetaInit })[];
    errors?: PluginErrorItem[];
    dispatchTo?: string[];
  }
  | null
  | undefined
  | void;

/** What a dispatcher may return. */
export type DispatcherResult =
  | DispatcherResponse
  | { pluginNames?: string[]; meta?: Record<string, unknown> | null; errors?: PluginErrorItem[] }
  | null
  | undefined
  | void;

/** What a dest archiver or a decorator may return. */
export type ResultsResult =
  | ArchiverResponse
  | DecoratorResponse
  | { results?: Record<string, unknown> | null; errors?: PluginErrorItem[] }
  | null
  | undefined
  | void;

/** What a source archiver's `get()` may return: a payload to scan, or nothing. */
export type PayloadResult =
  | Payload
  | { content: Uint8Array | string; payloadMeta?: PayloadMetaInit }
  | null
  | undefined
  | void;

/** Something a provider puts on the queue. */
export type ProviderItem =
  | Payload
  | Request
  | { content: Uint8Array | string; payloadMeta?: PayloadMetaInit }
  /** A task for source archivers: `{archiver_name: task_meta}`. */
  | Record<string, Record<string, unknown>>;

/** The queue a provider fills; `put()` waits while the queue is full. */
export interface ProviderQueue {
  /** Add one item, waiting for room. */
  put(item: ProviderItem): Promise<void>;
}

/**
 * What the core tells a provider about an item it put, once that item is finished (`ack`/`nack`).
 * A provider recognises its item by `requestMeta` (for a `Request`, exactly the meta it put).
 */
export interface ProviderReceipt {
  /** The item's request meta (stoQ's JSON shape): what the provider put, for a `Request`. */
  requestMeta: Record<string, unknown> | null;
  /** The scan id of each response made from the item (one, except for archiver tasks). */
  scanIds: string[];
  /** The error entries of those responses (stoQ's JSON shape). */
  errors: Record<string, unknown>[];
  /** `nack` only: why the item is not done (a connector failed, or it could not be scanned). */
  error?: string;
}

/** The handlers a plugin implements; which ones it has decides its kinds. */
export interface PluginHandlers {
  /** Provider: put payloads, requests or archiver tasks on the queue; return when done. */
  ingest?(queue: ProviderQueue): Promise<void>;
  /**
   * Provider, optional: an item this provider put was scanned and every connector saved its
   * response. Never called when a connector failed. A queue-backed provider acknowledges here.
   */
  ack?(receipt: ProviderReceipt): void | Promise<void>;
  /**
   * Provider, optional: an item this provider put was not finished (a connector failed to save its
   * response, or it could not be scanned); `receipt.error` says why. It is not acknowledged.
   */
  nack?(receipt: ProviderReceipt): void | Promise<void>;
  /** Worker: scan one payload. */
  scan?(payload: Payload, request: Request): WorkerResult | Promise<WorkerResult>;
  /** Dispatcher: name the workers a payload should go to. */
  getDispatches?(
    payload: Payload,
    request: Request,
  ): DispatcherResult | Promise<DispatcherResult>;
  /**
   * Deep dispatcher, optional: called instead of `getDispatches` when the plugin is one of the
   * `deep_dispatchers`, after a pass of workers; `payload.results.workers` holds their results.
   */
  getDeepDispatches?(
    payload: Payload,
    request: Request,
  ): DispatcherResult | Promise<DispatcherResult>;
  /** Dest archiver: store a payload; the results are the task `get()` takes back. */
  archive?(payload: Payload, request: Request): ResultsResult | Promise<ResultsResult>;
  /** Source archiver: fetch the payload a task describes. */
  get?(task: ArchiverResponse): PayloadResult | Promise<PayloadResult>;
  /** Connector: save a response. */
  save?(response: StoqResponse): void | Promise<void>;
  /** Decorator: add results about the whole response. */
  decorate?(response: StoqResponse): ResultsResult | Promise<ResultsResult>;
  /**
   * Periodic housekeeping, e.g. flushing a connector's buffered writes. Called every
   * `heartbeat_interval` seconds (a core option, usually set in the manifest's `[options]`) as an
   * ordinary call with the plugin's `timeout`, on every running instance, once more when `run()`
   * ends, and a final time before `close`. Without `heartbeat_interval` it is never called.
   */
  heartbeat?(): void | Promise<void>;
  /** Called once when stoq shuts down. */
  close?(): void | Promise<void>;
}

/** A plugin: its options schema and its factory. */
export interface PluginDefinition<Schema extends z.ZodType = z.ZodType> {
  /**
   * A zod object schema of the plugin's options, with defaults. Option values from the manifest,
   * stoq.cfg and `--plugin-opts` are text; booleans (`True`/`False`), numbers, comma lists and JSON
   * values are coerced to what the schema expects before it validates them.
   */
  options?: Schema;
  /** Runs once at load; returns the handlers. Work that does not depend on a payload goes here. */
  setup(context: PluginContext<z.output<Schema>>): PluginHandlers | Promise<PluginHandlers>;
}

/**
 * Define a plugin. An identity function that exists for type inference.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { definePlugin } from "./plugin.ts";
 * export default definePlugin({
 *   options: z.object({ greeting: z.string().default("hi") }),
 *   setup({ options }) {
 *     return {
 *       scan: function greet(payload) {
 *         return { results: { greeting: options.greeting, size: payload.content.length } };
 *       },
 *     };
 *   },
 * });
 * ```
 */
export function definePlugin<Schema extends z.ZodType = z.ZodType>(
  definition: PluginDefinition<Schema>,
): PluginDefinition<Schema> {
  return definition;
}

/** The kinds a set of handlers implements. */
export function kindsOf(handlers: PluginHandlers): Kind[] {
  return KINDS.filter((kind) =>
    KIND_METHODS[kind].some((method) => typeof handlers[method] === "function")
  );
}
