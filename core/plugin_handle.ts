/**
 * `PluginHandle`: a loaded plugin as the core (and a library user) sees it. Every call goes through
 * the plugin's host; every response is validated where it enters the core.
 *
 * @module
 */
import type { z } from "zod";
import { DEFAULT_SHARE_THRESHOLD, isShared } from "./shared_bytes.ts";
import { PluginError } from "./errors.ts";
import type { Logger } from "./log.ts";
import { ExtractedPayload, Payload, PayloadMeta, type PayloadMetaInit } from "./payload.ts";
import type { Kind, ProviderReceipt } from "./plugin.ts";
import type { PluginDoc, PluginEntry } from "./registry.ts";
import type { Request } from "./request.ts";
import { ArchiverResponse, type StoqResponse } from "./response.ts";
import { ScanError } from "./scan_error.ts";
import {
  describeZodError,
  DispatcherResponseSchema,
  PayloadInitSchema,
  PayloadMetaJsonSchema,
  type PluginErrorItemSchema,
  ResultsResponseSchema,
  WorkerResponseSchema,
} from "./schemas.ts";
import type { CallOptions, PluginHost } from "./sandbox/host.ts";
import {
  type Call,
  type CallMethod,
  isEmpty,
  type PackedCall,
  type PackedFields,
  payloadCall,
  type ProviderItemWire,
  type RequestWire,
} from "./sandbox/protocol.ts";

/** A plugin's response did not have the shape its kind requires. */
export class InvalidResponseError extends PluginError {}

/** A worker's validated response. */
export interface WorkerOutcome {
  /** Results to store under the worker's name, or null. */
  results: Record<string, unknown> | null;
  /** Extracted payloads. */
  extracted: ExtractedPayload[];
  /** Errors to add. */
  errors: ScanError[];
  /** Workers to run next round on the same payload. */
  dispatchTo: string[];
}

/** A dispatcher's validated response. */
export interface DispatchOutcome {
  /** Workers to dispatch to. */
  pluginNames: string[];
  /** Metadata for `payload.dispatchMeta[dispatcher]`, or null. */
  meta: Record<string, unknown> | null;
  /** Errors to add. */
  errors: ScanError[];
}

/** A dest archiver's or decorator's validated response. */
export interface ResultsOutcome {
  /** Results, or null. */
  results: Record<string, unknown> | null;
  /** Errors to add. */
  errors: ScanError[];
}

/** How payload bytes reach a plugin. */
export type ContentMode = "copy" | "share" | "direct";

/** What of the request a plugin sees with each payload. */
export type RequestScope = "payload" | "full";

/** Options of `PluginHandle`. */
export interface PluginHandleInit {
  /** Workers that must run on a payload before this one (stoQ's `required_workers`). */
  requiredWorkers?: Iterable<string>;
  /** Timeout of scan, dispatch, archive, get, decorate and save calls, in milliseconds. */
  timeoutMs?: number;
  /** The highest TLP level (`TLP_LEVELS`) of payload the plugin may see (`max_tlp`); none: any. */
  maxTlp?: number;
  /** Call the plugin's `heartbeat` handler this often, in milliseconds (`heartbeat_interval`). */
  heartbeatMs?: number;
  /**
   * What of the request a plugin is sent with each payload (`request_scope`): `payload` (the
   * default), only that payload, the request meta and no errors; `full`, every payload's results and
   * the request's errors, as stoQ gives. `full` costs a copy of the whole request per call.
   */
  requestScope?: RequestScope;
  /**
   * The dispatcher's answer for a payload depends on the payload's bytes alone (`dispatch_once`):
   * it is asked once per payload, and the later rounds get the same answer, as they would by asking
   * again.
   */
  dispatchOnce?: boolean;
  /** Where a failed heartbeat is logged. */
  log?: Logger;
  /**
   * How payload bytes reach the plugin: `copy` (default; the plugin gets its own copy of bytes in
   * shared memory: made here for a whole-request call, by the transport for a payload call),
   * `share` (payloads of at least `shareThreshold` bytes go in shared memory: `share_content`,
   * operator only, Worker isolation only) or `direct` (as they are: in-process plugins).
   */
  content?: ContentMode;
  /** The size from which payloads are shared with a plugin that may share them. */
  shareThreshold?: number;
}

/** A loaded plugin. One handle serves every role the plugin is configured in. */
export class PluginHandle {
  /** The plugin's name. */
  readonly name: string;
  /** The kinds the plugin implements. */
  readonly kinds: readonly Kind[];
  /** Its manifest's `[Documentation]`. */
  readonly doc: PluginDoc;
  /** Its discovery entry. */
  readonly entry: PluginEntry;
  /** Workers that must run on a payload before this one. Mutable, as in stoQ. */
  requiredWorkers: Set<string>;
  /** Timeout of each call in milliseconds (none when undefined). */
  timeoutMs: number | undefined;
  /** What of the request the plugin is sent with each payload. */
  readonly requestScope: RequestScope;
  /** Its dispatcher is asked once per payload (`dispatch_once`). */
  readonly dispatchOnce: boolean;
  /** A `dispatchOnce` dispatcher's answers, and the payload meta fields it set, by payload. */
  readonly #dispatched = new WeakMap<
    Payload,
    { outcome: DispatchOutcome | null; meta?: Record<string, unknown> }
  >();
  readonly #content: ContentMode;
  readonly #shareThreshold: number;
  /** The highest TLP level of payload the plugin may see (none when undefined). */
  readonly maxTlp: number | undefined;
  /** How often its heartbeat runs, in milliseconds (none when undefined). */
  readonly heartbeatMs: number | undefined;
  readonly #host: PluginHost;
  readonly #log: Logger | undefined;
  #timer?: ReturnType<typeof setInterval>;
  /** The heartbeat call running, if one is. */
  #beating?: Promise<void>;

  /**
   * @example
   * ```ts ignore
   * const hash = await stoq.loadPlugin("hash");
   * const outcome = await hash.scan(new Payload("hi"), new Request());
   * ```
   */
  constructor(entry: PluginEntry, host: PluginHost, init: PluginHandleInit = {}) {
    this.name = entry.name;
    this.entry = entry;
    this.doc = entry.doc;
    this.kinds = host.kinds;
    this.requiredWorkers = new Set(init.requiredWorkers ?? []);
    this.timeoutMs = init.timeoutMs;
    this.requestScope = init.requestScope ?? "payload";
    this.dispatchOnce = init.dispatchOnce ?? false;
    this.#content = init.content ?? "copy";
    this.#shareThreshold = init.shareThreshold ?? DEFAULT_SHARE_THRESHOLD;
    this.maxTlp = init.maxTlp;
    this.heartbeatMs = init.heartbeatMs;
    this.#host = host;
    this.#log = init.log;
    if (this.heartbeatMs) {
      const timer = setInterval(() => {
        if (!this.#beating) void this.beat();
      }, this.heartbeatMs);
      // A heartbeat never keeps the process alive on its own.
      Deno.unrefTimer(timer);
      this.#timer = timer;
    }
  }

  /**
   * Run the plugin's `heartbeat` handler now, on every running instance (a plugin with
   * `heartbeat_interval` only; others return at once). Failures are logged, never thrown: a
   * heartbeat is the plugin's own housekeeping.
   */
  async beat(): Promise<void> {
    if (!this.heartbeatMs) return;
    while (this.#beating) await this.#beating;
    this.#beating = (async () => {
      try {
        await this.#call({ method: "heartbeat" });
      } catch (err) {
        this.#log?.error(
          `Heartbeat of plugin "${this.name}" failed: ${err instanceof Error ? err.message : err}`,
        );
      }
    })();
    try {
      await this.#beating;
    } finally {
      this.#beating = undefined;
    }
  }

  /** Milliseconds the plugin spent running calls (sandboxed plugins; undefined in-process). */
  busyMs(): number | undefined {
    return this.#host.busyMs?.();
  }

  /** True when the plugin implements that kind. */
  is(kind: Kind): boolean {
    return this.kinds.includes(kind);
  }

  /** Worker: scan a payload. */
  scan(payload: Payload, request: Request): Promise<WorkerOutcome | null> {
    return this.#callOn("scan", payload, request).then((value) => this.#outcome(value, payload));
  }

  #outcome(value: unknown, payload: Payload): WorkerOutcome | null {
    if (value == null) return null;
    const parsed = isPlainWorkerResponse(value)
      ? value
      : this.#parse("scan", WorkerResponseSchema, value);
    return {
      results: parsed.results ?? null,
      extracted: parsed.extracted?.length
        ? parsed.extracted.map((child) =>
          new ExtractedPayload(child.content, child.payloadMeta as PayloadMetaInit | undefined)
        )
        : [],
      errors: parsed.errors?.length ? this.#errors(parsed.errors, payload) : [],
      dispatchTo: parsed.dispatchTo ?? [],
    };
  }

  /**
   * Dispatcher: name the workers a payload goes to. With `deep`, as a deep dispatcher: the
   * plugin's `getDeepDispatches` handler, or `getDispatches` when it has none.
   */
  async getDispatches(
    payload: Payload,
    request: Request,
    options: { deep?: boolean } = {},
  ): Promise<DispatchOutcome | null> {
    const method = options.deep ? "getDeepDispatches" : "getDispatches";
    const once = this.dispatchOnce && !options.deep;
    const known = once ? this.#dispatched.get(payload) : undefined;
    if (known !== undefined) {
      // The answer of an earlier round, as a fresh copy (each round stores its own meta), and the
      // meta fields it set, set again over what other plugins changed since.
      if (known.meta !== undefined) {
        this.#applyMeta(method, payload, { ...payload.payloadMeta.toJSON(), ...known.meta });
      }
      return known.outcome && {
        pluginNames: [...known.outcome.pluginNames],
        meta: copyMeta(known.outcome.meta),
        errors: [...known.outcome.errors],
      };
    }
    const before = once ? payload.payloadMeta.toJSON() as Record<string, unknown> : undefined;
    let meta: Record<string, unknown> | undefined;
    const value = await this.#callOn(method, payload, request, (changed) => {
      if (before === undefined || changed === null || typeof changed !== "object") return;
      // Only the fields this call set: the rest may change under other plugins before next round.
      for (const [key, field] of Object.entries(changed)) {
        if (JSON.stringify(field) !== JSON.stringify(before[key])) (meta ??= {})[key] = field;
      }
    });
    const parsed = value == null
      ? null
      : isPlainDispatcherResponse(value)
      ? value
      : this.#parse(method, DispatcherResponseSchema, value);
    const outcome = parsed && {
      pluginNames: parsed.pluginNames ? [...parsed.pluginNames] : [],
      meta: parsed.meta ? { ...parsed.meta } : null,
      errors: this.#errors(parsed.errors, payload),
    };
    if (once) {
      this.#dispatched.set(payload, {
        outcome: outcome && { ...outcome, meta: copyMeta(outcome.meta) },
        meta,
      });
    }
    return outcome;
  }

  /** Dest archiver: store a payload. */
  async archive(payload: Payload, request: Request): Promise<ResultsOutcome | null> {
    const value = await this.#callOn("archive", payload, request);
    return this.#results("archive", value, payload);
  }

  /** Source archiver: fetch the payload a task (a dest archiver's results) describes. */
  async get(task: ArchiverResponse | Record<string, unknown>): Promise<Payload | null> {
    const results = task instanceof ArchiverResponse ? task.results : task;
    const { value } = await this.#call({ method: "get", task: { results } });
    if (value == null) return null;
    const parsed = this.#parse("get", PayloadInitSchema, value);
    return new Payload(parsed.content, { payloadMeta: parsed.payloadMeta as PayloadMetaInit });
  }

  /** Connector: save a response. */
  async save(response: StoqResponse): Promise<void> {
    await this.#call({ method: "save", response: response.toJSON() });
  }

  /** Decorator: results about a whole response. */
  async decorate(response: StoqResponse): Promise<ResultsOutcome | null> {
    const { value } = await this.#call({ method: "decorate", response: response.toJSON() });
    return this.#results("decorate", value);
  }

  /** Provider: run `ingest`, handing each item to `onPut` (the provider waits for it). */
  async ingest(onPut: (item: ProviderItemWire) => Promise<void>): Promise<void> {
    await this.#host.call({ method: "ingest" }, { onPut });
  }

  /** Provider: every connector saved the response of an item this provider put. */
  async ack(receipt: ProviderReceipt): Promise<void> {
    await this.#call({ method: "ack", receipt });
  }

  /** Provider: an item this provider put was not finished; `receipt.error` says why. */
  async nack(receipt: ProviderReceipt): Promise<void> {
    await this.#call({ method: "nack", receipt });
  }

  /** Stop the plugin: its heartbeat runs a final time (if it has one), then it closes. */
  async shutdown(): Promise<void> {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      await this.beat();
    }
    await this.#host.shutdown();
  }

  #callOn(
    method: "scan" | "getDispatches" | "getDeepDispatches" | "archive",
    payload: Payload,
    request: Request,
    onMeta?: (payloadMeta: unknown) => void,
  ): Promise<unknown> {
    let call: Call;
    try {
      if (this.requestScope === "full") {
        const wire = requestToWire(request, payload, request.payloads.indexOf(payload));
        wire.payloads[wire.index].content = this.#contentFor(payload, false);
        call = { method, request: wire };
      } else {
        call = payloadCall(packPayload(method, payload, request, this.#contentFor(payload, true)));
      }
    } catch (err) {
      return Promise.reject(err);
    }
    // Dispatchers see a payload again every round: the same instance keeps what it cached. A
    // worker that is also a dispatcher (yara) may have found its matches in the dispatch pass: its
    // scan goes to that instance too.
    const affinity = method === "archive" || (method === "scan" && !this.is("dispatcher"))
      ? undefined
      : payload.payloadId;
    return this.#host.call(call, { timeoutMs: this.timeoutMs, affinity }).then(
      ({ value, payloadMeta }) => {
        if (payloadMeta !== undefined) {
          this.#applyMeta(method, payload, payloadMeta);
          onMeta?.(payloadMeta);
        }
        return value;
      },
    );
  }

  /** Take the payload meta a plugin changed, if it is valid. */
  #applyMeta(method: CallMethod, payload: Payload, payloadMeta: unknown) {
    const meta = PayloadMetaJsonSchema.safeParse(payloadMeta);
    if (!meta.success) {
      throw new InvalidResponseError(
        this.name,
        `Plugin "${this.name}" changed the payload meta to something invalid in ${method}(): ${
          describeZodError(meta.error)
        }`,
      );
    }
    Object.assign(payload.payloadMeta, PayloadMeta.fromJSON(meta.data));
  }

  /**
   * The bytes to send: shared memory to a plugin allowed to share it (moving a large payload there
   * once). Otherwise the payload's bytes as they are for a payload call, whose transport gives the
   * plugin a copy of bytes in shared memory (one copy, made as the call goes: see `batchCalls`),
   * and a private copy of them for a whole-request call, which goes as a structured clone.
   */
  #contentFor(payload: Payload, payloadCall: boolean): Uint8Array {
    if (this.#content === "direct") return payload.content;
    if (this.#content === "share" && payload.content.byteLength >= this.#shareThreshold) {
      return payload.share();
    }
    return isShared(payload.content) && !payloadCall ? payload.content.slice() : payload.content;
  }

  #call(call: Call) {
    const options: CallOptions = { timeoutMs: this.timeoutMs };
    return this.#host.call(call, options);
  }

  #results(method: CallMethod, value: unknown, payload?: Payload): ResultsOutcome | null {
    if (value == null) return null;
    const parsed = this.#parse(method, ResultsResponseSchema, value);
    return { results: parsed.results ?? null, errors: this.#errors(parsed.errors, payload) };
  }

  #parse<S extends z.ZodType>(method: CallMethod, schema: S, value: unknown): z.output<S> {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    throw new InvalidResponseError(
      this.name,
      `Plugin "${this.name}" returned an invalid response from ${method}(): ${
        describeZodError(parsed.error)
      }`,
    );
  }

  #errors(
    items: z.infer<typeof PluginErrorItemSchema>[] | undefined,
    payload?: Payload,
  ): ScanError[] {
    return (items ?? []).map((item) =>
      typeof item === "string"
        ? new ScanError(item, { pluginName: this.name, payloadId: payload?.payloadId })
        : new ScanError(item.error, {
          pluginName: item.pluginName ?? this.name,
          payloadId: item.payloadId ?? payload?.payloadId,
          kind: item.kind,
        })
    );
  }
}

/** A field check of the common response shapes below; an absent (undefined) field passes. */
type FieldCheck = (field: unknown) => boolean;

const isEmptyList: FieldCheck = (field) => Array.isArray(field) && field.length === 0;
const isPlainObjectOrNull: FieldCheck = (field) => field === null || isPlainObject(field);
// An index loop, not every(): a hole in the list is not a name.
const isNameList: FieldCheck = (field) => {
  if (!Array.isArray(field)) return false;
  for (let i = 0; i < field.length; i++) if (typeof field[i] !== "string") return false;
  return true;
};

/** True when `value` is a plain object whose every field has a check in `checks` and passes it. */
function isPlainResponse(value: unknown, checks: Record<string, FieldCheck>): boolean {
  if (!isPlainObject(value)) return false;
  for (const key in value) {
    if (!Object.hasOwn(checks, key)) return false;
    const field = value[key];
    if (field !== undefined && !checks[key](field)) return false;
  }
  return true;
}

/**
 * A worker response with results and nothing to extract, no errors and no dispatches: the common
 * case, which needs no zod. Anything else is checked by `WorkerResponseSchema`.
 */
function isPlainWorkerResponse(value: unknown): value is z.output<typeof WorkerResponseSchema> {
  return isPlainResponse(value, PLAIN_WORKER_RESPONSE);
}

const PLAIN_WORKER_RESPONSE: Record<string, FieldCheck> = {
  results: isPlainObjectOrNull,
  extracted: isEmptyList,
  errors: isEmptyList,
  dispatchTo: isEmptyList,
};

/**
 * A dispatcher response with plugin names, a plain meta object and no errors: the common case,
 * which needs no zod (it took 14 µs a response). Anything else is checked by
 * `DispatcherResponseSchema`.
 */
function isPlainDispatcherResponse(
  value: unknown,
): value is z.output<typeof DispatcherResponseSchema> {
  return isPlainResponse(value, PLAIN_DISPATCHER_RESPONSE);
}

const PLAIN_DISPATCHER_RESPONSE: Record<string, FieldCheck> = {
  pluginNames: isNameList,
  meta: isPlainObjectOrNull,
  errors: isEmptyList,
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A call about the payload alone (`request_scope = payload`), packed: the fields that hold their
 * defaults left out, the others copied (a plugin in-process must not change the core's copy).
 */
export function packPayload(
  method: PackedCall["method"],
  payload: Payload,
  request: Request,
  content: Uint8Array,
): PackedFields {
  const results = payload.results;
  const packed: PackedFields = {
    method,
    size: results.size,
    payloadId: results.payloadId,
    content,
  };
  const meta = results.payloadMeta;
  if (
    !meta.shouldArchive || !meta.shouldScan || !isEmpty(meta.extraData) ||
    meta.dispatchTo.length > 0
  ) packed.payloadMeta = meta.toJSON();
  const run = results.pluginsRun;
  if (run.workers.length > 0 || run.archivers.length > 0) {
    packed.pluginsRun = { workers: [...run.workers], archivers: [...run.archivers] };
  }
  if (results.extractedFrom.length > 0) packed.extractedFrom = [...results.extractedFrom];
  if (results.extractedBy.length > 0) packed.extractedBy = [...results.extractedBy];
  if (!isEmpty(results.workers)) packed.workers = { ...results.workers };
  if (!isEmpty(results.archivers)) packed.archivers = { ...results.archivers };
  if (!isEmpty(payload.dispatchMeta)) packed.dispatchMeta = payload.dispatchMeta;
  const requestMeta = request.requestMeta;
  if (
    !requestMeta.archivePayloads || requestMeta.source !== null ||
    !isEmpty(requestMeta.extraData)
  ) packed.requestMeta = requestMeta.toJSON();
  return packed;
}

/**
 * A copy of a dispatcher's meta that its holder may change. Most are empty (yara's for a payload
 * no dispatch rule matched): a new object, without a structured clone.
 */
function copyMeta(meta: Record<string, unknown> | null): Record<string, unknown> | null {
  if (meta === null) return null;
  return isEmpty(meta) ? {} : structuredClone(meta);
}

/** The request as a plugin sees it: every payload's results, but only the target's bytes. */
export function requestToWire(request: Request, payload: Payload, index: number): RequestWire {
  const payloads = request.payloads.map((p) => ({
    content: p === payload ? p.content : undefined,
    dispatch_meta: p.dispatchMeta,
    results: p.results.toJSON(),
  }));
  if (index < 0) {
    payloads.push({
      content: payload.content,
      dispatch_meta: payload.dispatchMeta,
      results: payload.results.toJSON(),
    });
    index = payloads.length - 1;
  }
  return {
    payloads,
    request_meta: request.requestMeta.toJSON(),
    errors: request.errors.map((e) => e.toJSON()),
    index,
  };
}
