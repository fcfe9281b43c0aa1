/**
 * The plugin side of every host: imports a plugin module, validates its options, runs `setup()`
 * once, and turns each call's plain data into the data classes the plugin's handlers receive.
 * The in-process host uses it directly; the Worker and subprocess guests use it behind messages.
 *
 * @module
 */
import { PluginError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { coerceOptions } from "../options.ts";
import { Payload, PayloadMeta, type PayloadMetaInit, PayloadResults } from "../payload.ts";
import {
  type Kind,
  kindsOf,
  type PluginDefinition,
  type PluginHandlers,
  type ProviderItem,
} from "../plugin.ts";
import { Request, RequestMeta } from "../request.ts";
import { ArchiverResponse, StoqResponse } from "../response.ts";
import { ScanError } from "../scan_error.ts";
import type { PluginSpec } from "./host.ts";
import type { Call, CallResult, PackedCall, ProviderItemWire, RequestWire } from "./protocol.ts";

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/** The stoq version plugins see, and manifests' version gates compare against. */
export const STOQ_VERSION = "0.1.0";

/** A loaded plugin, on the plugin's side of the host boundary. */
export class PluginRuntime {
  /** The plugin's name. */
  readonly name: string;
  /** The kinds the plugin implements. */
  readonly kinds: readonly Kind[];
  readonly #handlers: PluginHandlers;

  private constructor(name: string, handlers: PluginHandlers) {
    this.name = name;
    this.#handlers = handlers;
    this.kinds = kindsOf(handlers);
  }

  /** Import the module, validate options, run `setup()`. Throws `PluginError` naming the plugin. */
  static async load(spec: PluginSpec, log: Logger): Promise<PluginRuntime> {
    const fail = (detail: string, cause?: unknown) =>
      new PluginError(spec.name, `Cannot load plugin "${spec.name}": ${detail}`, { cause });
    let module: { default?: unknown };
    try {
      module = await import(spec.moduleUrl);
    } catch (err) {
      throw fail(`importing "${spec.moduleUrl}" failed: ${describe(err)}`, err);
    }
    const definition = module.default as PluginDefinition | undefined;
    if (!definition || typeof definition !== "object" || typeof definition.setup !== "function") {
      throw fail(`"${spec.moduleUrl}" has no default export made with definePlugin()`);
    }
    let options: unknown;
    try {
      options = coerceOptions(spec.name, definition.options, spec.options);
    } catch (err) {
      throw new PluginError(spec.name, describe(err), { cause: err });
    }
    let handlers: PluginHandlers;
    try {
      handlers = await definition.setup({
        name: spec.name,
        dir: spec.dir,
        options,
        log: log.child(spec.name),
        stoqVersion: STOQ_VERSION,
      });
    } catch (err) {
      throw fail(`setup() failed: ${describe(err)}`, err);
    }
    if (!handlers || typeof handlers !== "object") throw fail("setup() returned no handlers");
    const runtime = new PluginRuntime(spec.name, handlers);
    if (runtime.kinds.length === 0) {
      throw fail("setup() returned no handler of any kind (scan, getDispatches, archive, ...)");
    }
    const declared = spec.declaredKinds;
    if (declared && declared.length > 0) {
      const missing = declared.filter((kind) => !runtime.kinds.includes(kind));
      const extra = runtime.kinds.filter((kind) => !declared.includes(kind));
      if (missing.length > 0 || extra.length > 0) {
        throw fail(
          `its manifest declares kinds ${list(declared)} but the module implements ${
            list(runtime.kinds)
          }`,
        );
      }
    }
    return runtime;
  }

  /** Run one call. Handler errors propagate unchanged. */
  async invoke(
    call: Call,
    onPut?: (item: ProviderItemWire) => Promise<void>,
  ): Promise<CallResult> {
    const handlers = this.#handlers;
    switch (call.method) {
      case "scan":
      case "getDispatches":
      case "getDeepDispatches":
      case "archive": {
        const { request, payload } = requestFromWire(call.request);
        return await this.#onPayload(call.method, payload, request);
      }
      case "get": {
        const value = await this.#handler("get").call(
          handlers,
          new ArchiverResponse(call.task.results),
        );
        return { value: value == null ? null : payloadItem(value) };
      }
      case "save":
      case "decorate": {
        const handler = this.#handler(call.method);
        return { value: await handler.call(handlers, StoqResponse.fromJSON(call.response)) };
      }
      case "ingest": {
        const put = onPut ?? (() => Promise.reject(new Error("This host does not accept items")));
        await this.#handler("ingest").call(handlers, {
          put: (item: ProviderItem) => put(providerItemToWire(item)),
        });
        return { value: null };
      }
      case "ack":
      case "nack": {
        // Optional handlers: a provider without them has nothing to acknowledge.
        const handler = handlers[call.method];
        if (typeof handler === "function") await handler.call(handlers, call.receipt);
        return { value: null };
      }
      case "heartbeat": {
        // Optional: `heartbeat_interval` without a handler has nothing to run.
        await handlers.heartbeat?.();
        return { value: null };
      }
    }
  }

  /**
   * Run a packed call (one payload alone): what `invoke()` does with its unpacked form, without
   * building that form first. A handler that returns a value (not a promise) is answered at once,
   * without a promise; one that throws throws here.
   */
  invokePacked(packed: PackedCall): CallResult | Promise<CallResult> {
    const results = Object.create(PayloadResults.prototype) as PayloadResults;
    Object.assign(results, {
      size: packed.size,
      payloadId: packed.payloadId,
      payloadMeta: packed.payloadMeta
        ? PayloadMeta.fromJSON(packed.payloadMeta)
        : new PayloadMeta(),
      pluginsRun: packed.pluginsRun ?? { workers: [], archivers: [] },
      extractedFrom: packed.extractedFrom ?? [],
      extractedBy: packed.extractedBy ?? [],
      workers: packed.workers ?? {},
      archivers: packed.archivers ?? {},
    });
    const payload = Payload.fromParts(packed.content ?? EMPTY, results, packed.dispatchMeta ?? {});
    const request = new Request({
      payloads: [payload],
      requestMeta: packed.requestMeta ? RequestMeta.fromJSON(packed.requestMeta) : undefined,
    });
    return this.#onPayload(packed.method, payload, request);
  }

  /**
   * Run a handler about one payload; the payload's meta goes back only when the handler changed it.
   * Most handlers (hash, entropy, ...) return their value, not a promise: their answer is returned
   * as it is, which spares the guest an async frame and a promise per call at every level. A
   * handler's promise is awaited; a handler that throws throws from here.
   */
  #onPayload(
    method: PackedCall["method"],
    payload: Payload,
    request: Request,
  ): CallResult | Promise<CallResult> {
    const handlers = this.#handlers;
    const before = metaKey(payload.payloadMeta);
    // A deep dispatcher without its own handler is called as a dispatcher.
    const handler = method === "getDeepDispatches"
      ? this.#handler(handlers.getDeepDispatches ? "getDeepDispatches" : "getDispatches")
      : this.#handler(method);
    const value: unknown = handler.call(handlers, payload, request);
    if (isThenable(value)) {
      return Promise.resolve(value).then((settled) => answer(settled, payload, before));
    }
    return answer(value, payload, before);
  }

  /** Call the plugin's `close` handler, if it has one. */
  async close(): Promise<void> {
    await this.#handlers.close?.();
  }

  #handler<M extends keyof PluginHandlers>(method: M): NonNullable<PluginHandlers[M]> {
    const handler = this.#handlers[method];
    if (typeof handler !== "function") {
      throw new PluginError(this.name, `Plugin "${this.name}" has no "${method}" handler`);
    }
    return handler as NonNullable<PluginHandlers[M]>;
  }
}

/** A handler's value as a call's result, with the payload's meta if it is not `before` any more. */
function answer(value: unknown, payload: Payload, before: string): CallResult {
  const after = metaKey(payload.payloadMeta);
  return before === after ? { value } : { value, payloadMeta: payload.payloadMeta.toJSON() };
}

/** True for a promise or any object with a `then` method, which `await` would wait for. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function";
}

/**
 * A payload meta as a string that changes when the meta does: its JSON, or for the common meta
 * (no extra data, no dispatches) just its two flags, which cannot be mistaken for JSON.
 */
function metaKey(meta: PayloadMeta): string {
  const extra = meta.extraData as unknown;
  if (
    typeof meta.shouldArchive === "boolean" && typeof meta.shouldScan === "boolean" &&
    Array.isArray(meta.dispatchTo) && meta.dispatchTo.length === 0 &&
    typeof extra === "object" && extra !== null && Object.getPrototypeOf(extra) === Object.prototype
  ) {
    let empty = true;
    for (const _ in extra) {
      empty = false;
      break;
    }
    if (empty) {
      return meta.shouldArchive ? (meta.shouldScan ? "tt" : "tf") : (meta.shouldScan ? "ft" : "ff");
    }
  }
  return JSON.stringify(meta);
}

function requestFromWire(wire: RequestWire): { request: Request; payload: Payload } {
  const payloads = wire.payloads.map((p) =>
    Payload.fromParts(p.content ?? EMPTY, PayloadResults.fromJSON(p.results), p.dispatch_meta)
  );
  const request = new Request({
    payloads,
    requestMeta: RequestMeta.fromJSON(wire.request_meta),
    errors: wire.errors.map((e) => ScanError.fromJSON(e)),
  });
  return { request, payload: payloads[wire.index] };
}

type PayloadLike = { content: Uint8Array | string; payloadMeta?: PayloadMeta | PayloadMetaInit };

function payloadItem(value: unknown): unknown {
  if (value instanceof Payload) {
    return { content: value.content, payloadMeta: metaInit(value.payloadMeta) };
  }
  if (value && typeof value === "object" && "content" in value) {
    const item = value as PayloadLike;
    return { content: item.content, payloadMeta: metaInit(item.payloadMeta) };
  }
  return value;
}

function metaInit(meta: PayloadMeta | PayloadMetaInit | undefined): PayloadMetaInit {
  const m = meta instanceof PayloadMeta ? meta : new PayloadMeta(meta);
  return {
    shouldArchive: m.shouldArchive,
    shouldScan: m.shouldScan,
    extraData: m.extraData,
    dispatchTo: m.dispatchTo,
  };
}

function toBytes(content: Uint8Array | string): Uint8Array {
  return typeof content === "string" ? encoder.encode(content) : content;
}

/** Turn whatever a provider put into plain data; anything unusable becomes an "invalid" item. */
export function providerItemToWire(item: unknown): ProviderItemWire {
  const asPayload = (p: PayloadLike) => ({
    content: toBytes(p.content),
    payloadMeta:
      (p.payloadMeta instanceof PayloadMeta ? p.payloadMeta : new PayloadMeta(p.payloadMeta))
        .toJSON(),
  });
  if (item instanceof Payload) {
    return {
      type: "payload",
      payload: { content: item.content, payloadMeta: item.payloadMeta.toJSON() },
    };
  }
  if (item instanceof Request) {
    return {
      type: "request",
      payloads: item.payloads.map((p) => ({
        content: p.content,
        payloadMeta: p.payloadMeta.toJSON(),
      })),
      requestMeta: item.requestMeta.toJSON(),
    };
  }
  if (item && typeof item === "object" && !Array.isArray(item)) {
    const record = item as Record<string, unknown>;
    if (record.content instanceof Uint8Array || typeof record.content === "string") {
      return { type: "payload", payload: asPayload(record as PayloadLike) };
    }
    const entries = Object.entries(record);
    if (
      entries.length > 0 &&
      entries.every(([, v]) => v && typeof v === "object" && !Array.isArray(v))
    ) {
      return { type: "task", task: record as Record<string, Record<string, unknown>> };
    }
  }
  const description = item === null
    ? "null"
    : Array.isArray(item)
    ? "an array"
    : typeof item === "string"
    ? `a string (${JSON.stringify(item.slice(0, 80))})`
    : `a ${typeof item}`;
  return { type: "invalid", description };
}

function list(kinds: readonly string[]): string {
  return kinds.length === 0 ? "none" : kinds.map((k) => `"${k}"`).join(", ");
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
