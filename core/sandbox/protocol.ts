/**
 * The calls between the core and a plugin, whatever runs the plugin (in-process, a Worker or a
 * subprocess): plain data, payload bytes as `Uint8Array`, results in stoQ's JSON shapes.
 *
 * @module
 */
import { z } from "zod";
import {
  type PayloadMetaJson,
  PayloadMetaJsonSchema,
  PayloadResultsJsonSchema,
  type RequestMetaJson,
  RequestMetaJsonSchema,
  ScanErrorJsonSchema,
  StoqResponseJsonSchema,
} from "../schemas.ts";

const Bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, "expected bytes (Uint8Array)");

/** A payload as sent to a plugin. `content` is absent for the payloads a call is not about. */
export const PayloadWireSchema = z.object({
  content: Bytes.optional(),
  dispatch_meta: z.record(z.string(), z.unknown()),
  results: PayloadResultsJsonSchema,
});
/** A payload as sent to a plugin. */
export type PayloadWire = z.infer<typeof PayloadWireSchema>;

/** The request as sent to a plugin; `index` is the payload the call is about. */
export const RequestWireSchema = z.object({
  payloads: z.array(PayloadWireSchema),
  request_meta: RequestMetaJsonSchema,
  errors: z.array(ScanErrorJsonSchema),
  index: z.number().int().nonnegative(),
});
/** The request as sent to a plugin. */
export type RequestWire = z.infer<typeof RequestWireSchema>;

/** What the core tells a provider about a finished item (`ack`/`nack`). */
export const ProviderReceiptSchema = z.object({
  requestMeta: z.record(z.string(), z.unknown()).nullable(),
  scanIds: z.array(z.string()),
  errors: z.array(z.record(z.string(), z.unknown())),
  error: z.string().optional(),
});

/** One call to a plugin. */
export const CallSchema = z.discriminatedUnion("method", [
  z.object({ method: z.literal("scan"), request: RequestWireSchema }),
  z.object({ method: z.literal("getDispatches"), request: RequestWireSchema }),
  z.object({ method: z.literal("getDeepDispatches"), request: RequestWireSchema }),
  z.object({ method: z.literal("archive"), request: RequestWireSchema }),
  z.object({
    method: z.literal("get"),
    task: z.object({ results: z.record(z.string(), z.unknown()).nullable() }),
  }),
  z.object({ method: z.literal("save"), response: StoqResponseJsonSchema }),
  z.object({ method: z.literal("decorate"), response: StoqResponseJsonSchema }),
  z.object({ method: z.literal("ingest") }),
  z.object({ method: z.literal("ack"), receipt: ProviderReceiptSchema }),
  z.object({ method: z.literal("nack"), receipt: ProviderReceiptSchema }),
  z.object({ method: z.literal("heartbeat") }),
]);
/** One call to a plugin. */
export type Call = z.infer<typeof CallSchema>;
/** The name of a call. */
export type CallMethod = Call["method"];

/** What a call returns: the handler's value, and the payload's meta if the handler changed it. */
export interface CallResult {
  /** The handler's return value, as plain data. */
  value: unknown;
  /** The payload's meta after the call, present only when the handler changed it. */
  payloadMeta?: z.infer<typeof PayloadMetaJsonSchema>;
}

/** A payload (or `Payload`-like object) a provider or a source archiver hands over. */
export const PayloadItemSchema = z.object({
  content: Bytes,
  payloadMeta: PayloadMetaJsonSchema,
});

/** Something a provider put on its queue, as plain data. */
export const ProviderItemWireSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("payload"), payload: PayloadItemSchema }),
  z.object({
    type: z.literal("request"),
    payloads: z.array(PayloadItemSchema),
    requestMeta: RequestMetaJsonSchema,
  }),
  z.object({
    type: z.literal("task"),
    task: z.record(z.string(), z.record(z.string(), z.unknown())),
  }),
  z.object({ type: z.literal("invalid"), description: z.string() }),
]);
/** Something a provider put on its queue, as plain data. */
export type ProviderItemWire = z.infer<typeof ProviderItemWireSchema>;

/** An error as it crosses a boundary: rebuilt on the other side with its class name and cause. */
export interface WireError {
  /** The error's class name, e.g. `TypeError` or `PluginError`. */
  name: string;
  /** Its message. */
  message: string;
  /** Its stack, as the plugin's side printed it. */
  stack?: string;
  /** Its cause, if it had one. */
  cause?: WireError;
}

/** A `WireError`. */
export const WireErrorSchema: z.ZodType<WireError> = z.lazy(() =>
  z.object({
    name: z.string(),
    message: z.string(),
    stack: z.string().optional(),
    cause: WireErrorSchema.optional(),
  })
);

/** The options of a plugin as sent to its guest. */
const RawOptionsSchema = z.record(
  z.string(),
  z.object({ value: z.unknown(), origin: z.string() }),
);

const KindSchema = z.enum([
  "provider",
  "worker",
  "dispatcher",
  "archiver",
  "connector",
  "decorator",
]);

/** What the core sends to a guest. */
export const HostMessageSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("load"),
    spec: z.object({
      name: z.string(),
      moduleUrl: z.string(),
      dir: z.string(),
      options: RawOptionsSchema,
      declaredKinds: z.array(KindSchema).optional(),
    }),
  }),
  z.object({ type: z.literal("call"), id: z.number().int(), call: CallSchema }),
  z.object({ type: z.literal("put-ack"), id: z.number().int(), error: z.string().optional() }),
  z.object({ type: z.literal("close") }),
]);
/** What the core sends to a guest. */
export type HostMessage = z.infer<typeof HostMessageSchema>;

/** What a guest sends to the core. */
export const GuestMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("loaded"), kinds: z.array(KindSchema) }),
  z.object({ type: z.literal("load-error"), error: WireErrorSchema }),
  z.object({
    type: z.literal("result"),
    id: z.number().int(),
    value: z.unknown(),
    payloadMeta: PayloadMetaJsonSchema.optional(),
  }),
  z.object({ type: z.literal("error"), id: z.number().int(), error: WireErrorSchema }),
  z.object({
    type: z.literal("put"),
    id: z.number().int(),
    call: z.number().int(),
    item: ProviderItemWireSchema,
  }),
  z.object({
    type: z.literal("log"),
    level: z.enum(["debug", "info", "warning", "error", "critical"]),
    message: z.string(),
  }),
  z.object({ type: z.literal("closed") }),
  /** Milliseconds spent running calls since the guest started: the host's measure of load. */
  z.object({ type: z.literal("busy"), ms: z.number().nonnegative() }),
]);
/** What a guest sends to the core. */
export type GuestMessage = z.infer<typeof GuestMessageSchema>;

/**
 * A call about one payload alone (`request_scope = payload`, the default) with the fields that
 * hold their defaults left out: most calls are such, and every call is copied into the plugin's
 * isolate, where copying cost grows with the number of objects more than with their bytes.
 */
export interface PackedCall {
  type: "packed";
  id: number;
  method: "scan" | "getDispatches" | "getDeepDispatches" | "archive";
  content?: Uint8Array;
  size: number;
  payloadId: string;
  payloadMeta?: PayloadMetaJson;
  pluginsRun?: { workers: string[]; archivers: string[] };
  extractedFrom?: string[];
  extractedBy?: string[];
  workers?: Record<string, unknown>;
  archivers?: Record<string, unknown>;
  dispatchMeta?: Record<string, unknown>;
  requestMeta?: RequestMetaJson;
}

type CallMessage = Extract<HostMessage, { type: "call" }>;

/** The packed form of a call, or undefined when it is not about one payload alone. */
export function packCall(message: CallMessage): PackedCall | undefined {
  const call = message.call;
  if (
    call.method !== "scan" && call.method !== "getDispatches" &&
    call.method !== "getDeepDispatches" && call.method !== "archive"
  ) return undefined;
  const request = call.request;
  if (request.payloads.length !== 1 || request.index !== 0 || request.errors.length > 0) {
    return undefined;
  }
  const { content, dispatch_meta, results } = request.payloads[0];
  const packed: PackedCall = {
    type: "packed",
    id: message.id,
    method: call.method,
    size: results.size,
    payloadId: results.payload_id,
  };
  if (content !== undefined) packed.content = content;
  const meta = results.payload_meta;
  if (
    !meta.should_archive || !meta.should_scan || !isEmpty(meta.extra_data) ||
    meta.dispatch_to.length > 0
  ) packed.payloadMeta = meta;
  const run = results.plugins_run;
  if (run.workers.length > 0 || run.archivers.length > 0) packed.pluginsRun = run;
  if (results.extracted_from.length > 0) packed.extractedFrom = results.extracted_from;
  if (results.extracted_by.length > 0) packed.extractedBy = results.extracted_by;
  if (!isEmpty(results.workers)) packed.workers = results.workers;
  if (!isEmpty(results.archivers)) packed.archivers = results.archivers;
  if (!isEmpty(dispatch_meta)) packed.dispatchMeta = dispatch_meta;
  const requestMeta = request.request_meta;
  if (
    !requestMeta.archive_payloads || requestMeta.source !== null ||
    !isEmpty(requestMeta.extra_data)
  ) packed.requestMeta = requestMeta;
  return packed;
}

/** A packed call without its message fields: what a call about one payload alone carries. */
export type PackedFields = Omit<PackedCall, "type" | "id">;

/**
 * A call about one payload alone, built packed by the core: hosts send `packed` as it is, and its
 * `request` (the unpacked form) is built only if something asks for it.
 */
class PayloadCall {
  readonly method: PackedCall["method"];
  readonly packed: PackedFields;
  #request?: RequestWire;

  constructor(packed: PackedFields) {
    this.method = packed.method;
    this.packed = packed;
  }

  get request(): RequestWire {
    if (this.#request === undefined) {
      const call = unpackCall({ type: "packed", id: 0, ...this.packed }).call;
      this.#request = (call as { request: RequestWire }).request;
    }
    return this.#request;
  }
}

/** A call about one payload alone from its packed fields. */
export function payloadCall(packed: PackedFields): Call {
  return new PayloadCall(packed) as Call;
}

/** The packed fields of a call made by `payloadCall()`, or undefined. */
export function packedFields(call: Call): PackedFields | undefined {
  return call instanceof PayloadCall ? call.packed : undefined;
}

/** The call a packed call stands for. */
export function unpackCall(packed: PackedCall): CallMessage {
  return {
    type: "call",
    id: packed.id,
    call: {
      method: packed.method,
      request: {
        payloads: [{
          content: packed.content,
          dispatch_meta: packed.dispatchMeta ?? {},
          results: {
            size: packed.size,
            payload_id: packed.payloadId,
            payload_meta: packed.payloadMeta ??
              { should_archive: true, should_scan: true, extra_data: {}, dispatch_to: [] },
            plugins_run: packed.pluginsRun ?? { workers: [], archivers: [] },
            extracted_from: packed.extractedFrom ?? [],
            extracted_by: packed.extractedBy ?? [],
            workers: packed.workers ?? {},
            archivers: packed.archivers ?? {},
          },
        }],
        request_meta: packed.requestMeta ??
          { archive_payloads: true, source: null, extra_data: {} },
        errors: [],
        index: 0,
      },
    },
  };
}

/** True when a record has no enumerable key. */
export function isEmpty(record: Record<string, unknown>): boolean {
  for (const _ in record) return false;
  return true;
}

/** Flatten an error (and its causes) for the wire. */
export function errorToWire(error: unknown, depth = 0): WireError {
  if (error instanceof Error) {
    return {
      name: error.name,
      message: error.message,
      stack: error.stack,
      cause: error.cause !== undefined && depth < 5
        ? errorToWire(error.cause, depth + 1)
        : undefined,
    };
  }
  return { name: "Error", message: String(error) };
}

/**
 * Packed calls whose fields JSON carries unchanged, sent as one JSON text and one buffer that holds
 * every call's bytes one after the other. The buffer is transferred, not copied, and the JSON text
 * is one string: the structured clone of a batch of 32 such calls costs a third of what it costs as
 * 32 objects with 32 buffers. Most calls qualify, those with a payload meta (a file name), dispatch
 * meta or other plugins' results too. A call with bytes in shared memory that the plugin shares, a
 * call with large bytes (`COPY_ALONE`), or one with a value JSON would change (see `inspectValue`)
 * goes as it is.
 */
export interface CallBatch {
  type: "calls";
  /** JSON: a list of one `CallHead` per call, in order. */
  head: string;
  bytes: ArrayBuffer;
}

/** The fields of a packed call that hold plugins' data, in a `CallHead` when any is present. */
type CallExtras = Pick<
  PackedCall,
  "payloadMeta" | "workers" | "archivers" | "dispatchMeta" | "requestMeta"
>;

/**
 * A call of a `CallBatch`, as a list (a list costs less to write and read as JSON than an object):
 * id, method, size, payload id, the length of its bytes (the next that many bytes of the batch; -1:
 * none), its plugins run, extracted-from and extracted-by lists (null: empty), then its extras
 * (null: none).
 */
type CallHead = [
  id: number,
  method: PackedCall["method"],
  size: number,
  payloadId: string,
  length: number,
  pluginsRun: PackedCall["pluginsRun"] | null,
  extractedFrom: string[] | null,
  extractedBy: string[] | null,
  extras: CallExtras | null,
];

/**
 * Bytes of at least this size are not copied into a `CallBatch` (and out of it again in the
 * plugin's isolate): a call with such bytes goes alone with a copy of them, transferred.
 */
export const COPY_ALONE = 64 * 1024;

/** How `batchCalls` treats payload bytes in shared memory. */
export interface BatchOptions {
  /** The plugin may see bytes in shared memory (`share_content`): they go shared, not copied. */
  shareContent?: boolean;
}

/**
 * The extras of a packed call when it can go in a `CallBatch` (null: it has none), or undefined
 * when it cannot: its bytes go shared or alone, or JSON would change one of its values.
 */
function batchExtras(
  message: HostMessage | PackedCall,
  shareContent: boolean,
): CallExtras | null | undefined {
  if (message.type !== "packed") return undefined;
  const content = message.content;
  if (content !== undefined) {
    if (content.byteLength >= COPY_ALONE) return undefined;
    if (shareContent && !(content.buffer instanceof ArrayBuffer)) return undefined;
  }
  const { payloadMeta, workers, archivers, dispatchMeta, requestMeta } = message;
  if (
    payloadMeta === undefined && workers === undefined && archivers === undefined &&
    dispatchMeta === undefined && requestMeta === undefined
  ) return null;
  const extras: CallExtras = {};
  if (payloadMeta !== undefined) extras.payloadMeta = payloadMeta;
  if (workers !== undefined) extras.workers = workers;
  if (archivers !== undefined) extras.archivers = archivers;
  if (dispatchMeta !== undefined) extras.dispatchMeta = dispatchMeta;
  if (requestMeta !== undefined) extras.requestMeta = requestMeta;
  return inspectValue(extras).json ? extras : undefined;
}

/**
 * A packed call that goes as it is, and the buffer to transfer with it: a copy of its bytes of its
 * own when they are large or in shared memory the plugin does not share (one copy, where a
 * structured clone makes two: one into the message, one out of it), else none.
 */
function alone(
  call: PackedCall,
  shareContent: boolean,
): { call: PackedCall; transfer?: ArrayBuffer } {
  const content = call.content;
  if (content === undefined || content.byteLength === 0) return { call };
  const shared = !(content.buffer instanceof ArrayBuffer);
  if (shared ? shareContent : content.byteLength < COPY_ALONE) return { call };
  const copy = content.slice();
  return { call: { ...call, content: copy }, transfer: copy.buffer };
}

/**
 * A batch for the Worker transport, in the same order: each run of batchable packed calls becomes
 * one `CallBatch`; other messages go as they are, large bytes and bytes in shared memory the plugin
 * does not share as a copy of their own (see `alone`). Returns the buffers to transfer. The
 * messages given are left unchanged, so a call can be sent again (to another instance).
 */
export function batchCalls(
  messages: (HostMessage | PackedCall)[],
  options: BatchOptions = {},
): { messages: (HostMessage | PackedCall | CallBatch)[]; transfer: ArrayBuffer[] } {
  const shareContent = options.shareContent ?? false;
  const out: (HostMessage | PackedCall | CallBatch)[] = [];
  const transfer: ArrayBuffer[] = [];
  const extras = messages.map((message) => batchExtras(message, shareContent));
  let i = 0;
  while (i < messages.length) {
    if (extras[i] === undefined) {
      const message = messages[i++];
      if (message.type !== "packed") {
        out.push(message);
        continue;
      }
      const sent = alone(message, shareContent);
      out.push(sent.call);
      if (sent.transfer) transfer.push(sent.transfer);
      continue;
    }
    let end = i;
    let total = 0;
    while (end < messages.length && extras[end] !== undefined) {
      total += (messages[end] as PackedCall).content?.byteLength ?? 0;
      end++;
    }
    const bytes = new Uint8Array(total);
    const heads: CallHead[] = [];
    let offset = 0;
    for (; i < end; i++) {
      const call = messages[i] as PackedCall;
      const content = call.content;
      heads.push([
        call.id,
        call.method,
        call.size,
        call.payloadId,
        content === undefined ? -1 : content.byteLength,
        call.pluginsRun ?? null,
        call.extractedFrom ?? null,
        call.extractedBy ?? null,
        extras[i]!,
      ]);
      if (content !== undefined) {
        bytes.set(content, offset);
        offset += content.byteLength;
      }
    }
    out.push({ type: "calls", head: JSON.stringify(heads), bytes: bytes.buffer });
    transfer.push(bytes.buffer);
  }
  return { messages: out, transfer };
}

/**
 * The packed calls of a `CallBatch`, each call's bytes a view into the batch's buffer: no second
 * copy (a copy per call cost the plugin's isolate an allocation, and its garbage collector the
 * buffer, for every call). The buffer is the plugin's own: what it changes there no other plugin
 * sees.
 */
export function unbatchCalls(batch: CallBatch): PackedCall[] {
  const heads = JSON.parse(batch.head) as CallHead[];
  const bytes = new Uint8Array(batch.bytes);
  const calls: PackedCall[] = [];
  let offset = 0;
  for (const [id, method, size, payloadId, length, pluginsRun, from, by, extras] of heads) {
    const call: PackedCall = { type: "packed", id, method, size, payloadId };
    if (length >= 0) {
      call.content = bytes.subarray(offset, offset + length);
      offset += length;
    }
    if (pluginsRun !== null) call.pluginsRun = pluginsRun;
    if (from !== null) call.extractedFrom = from;
    if (by !== null) call.extractedBy = by;
    if (extras !== null) Object.assign(call, extras);
    calls.push(call);
  }
  return calls;
}

/**
 * Results whose values are plain JSON (see `inspectValue`), sent by a guest as one JSON text: one
 * string to clone instead of a graph of objects. The host checks each entry as it checks a result.
 */
export interface ResultBatch {
  type: "results";
  /** JSON: a flat list of call ids and values, `[id, value, id, value, ...]`. */
  json: string;
}

/**
 * What a value returned by a plugin needs on the way to the core: the buffers to transfer instead
 * of copying (those of every `Uint8Array` that spans its whole buffer; a view into a larger buffer
 * is copied, so the rest of that buffer stays usable in the plugin), and whether JSON carries it
 * unchanged (`json`): only plain objects, arrays (of at most 1,024 items, and nothing else), strings,
 * finite numbers, booleans and null, each object met once, no `undefined` and no -0.
 */
export function inspectValue(value: unknown): { buffers: ArrayBuffer[]; json: boolean } {
  if (value === undefined) return { buffers: [], json: true };
  // Made when first needed: most values hold no bytes and a handful of objects.
  let found: Set<ArrayBuffer> | undefined;
  let seen: object[] | Set<object> = [];
  let json = true;
  const meet = (v: object): boolean => {
    if (Array.isArray(seen)) {
      if (seen.includes(v)) return false;
      seen.push(v);
      if (seen.length > 16) seen = new Set(seen);
      return true;
    }
    if (seen.has(v)) return false;
    seen.add(v);
    return true;
  };
  const walk = (v: unknown, depth: number) => {
    switch (typeof v) {
      case "string":
      case "boolean":
        return;
      case "number":
        if (!Number.isFinite(v) || Object.is(v, -0)) json = false;
        return;
      case "object":
        break;
      default:
        json = false;
        return;
    }
    if (v === null) return;
    if (depth > 64 || !meet(v)) {
      json = false;
      return;
    }
    if (ArrayBuffer.isView(v)) {
      json = false;
      const buffer = v.buffer;
      if (
        buffer instanceof ArrayBuffer && buffer.byteLength > 0 && v.byteOffset === 0 &&
        v.byteLength === buffer.byteLength
      ) (found ??= new Set()).add(buffer);
      return;
    }
    const proto = Object.getPrototypeOf(v);
    if (Array.isArray(v)) {
      // JSON keeps an array's items only: not a property set beside them (a long array is not
      // looked at for those, it is cloned).
      if (
        proto !== Array.prototype ||
        (json && (v.length > 1024 || Object.keys(v).length !== v.length))
      ) json = false;
      for (let i = 0; i < v.length; i++) {
        const item = v[i];
        if (item === undefined) json = false;
        else walk(item, depth + 1);
      }
      return;
    }
    if (proto !== Object.prototype && proto !== null) json = false;
    for (const key in v) {
      if (!Object.hasOwn(v, key)) continue;
      const item = (v as Record<string, unknown>)[key];
      if (item === undefined) json = false;
      else walk(item, depth + 1);
    }
  };
  walk(value, 0);
  return { buffers: found ? [...found] : [], json };
}
