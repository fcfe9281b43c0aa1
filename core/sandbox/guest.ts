/**
 * The plugin's side of a sandbox, whatever carries the messages (a Worker's `postMessage` or a
 * subprocess's standard streams): load the plugin, run each call, answer with plain data.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { IdTable } from "../id_table.ts";
import type { Logger } from "../log.ts";
import { PluginRuntime } from "./runtime.ts";
import {
  type CallBatch,
  type CallResult,
  errorToWire,
  type GuestMessage,
  type HostMessage,
  HostMessageSchema,
  inspectValue,
  type PackedCall,
  type ProviderItemWire,
  type ResultBatch,
  unbatchCalls,
} from "./protocol.ts";

/** Messages in a batch before it goes without waiting for the end of the task. */
const BATCH = 32;

/** How a guest talks to its host. */
export interface GuestPort {
  /** Send a batch of messages; `transfer` lists buffers the guest gives up. */
  send(messages: (GuestMessage | ResultBatch)[], transfer: ArrayBuffer[]): void;
  /** Receive every message from the host. */
  onMessage(handler: (data: unknown) => void): void;
  /** Stop this guest (after `closed` was sent). */
  exit(): void;
}

/**
 * Serve one plugin over a port until the host sends `close`.
 *
 * @example
 * ```ts ignore
 * import { serveGuest } from "./guest.ts";
 * serveGuest({ send: (m, t) => self.postMessage(m, { transfer: t }), onMessage: (h) => { self.onmessage = (e) => h(e.data); }, exit: () => self.close() });
 * ```
 */
export function serveGuest(port: GuestPort): void {
  let runtime: PluginRuntime | undefined;
  let putId = 0;
  // Not a Map: see IdTable.
  const acks = new IdTable<{ resolve: () => void; reject: (err: Error) => void }>();
  // Messages go out in batches, at the end of the current task.
  let outbox: GuestMessage[] = [];
  // Results whose values are plain JSON: they go as one `ResultBatch` at the end of the batch.
  let plainResults: Extract<GuestMessage, { type: "result" }>[] = [];
  let transfers: ArrayBuffer[] = [];
  let scheduled = false;
  // Time spent in calls, reported with each batch: the host's `busyMs()`, which benchmarks read.
  let busyMs = 0;
  let reportedBusyMs = 0;
  const send = (message: GuestMessage, transfer: ArrayBuffer[] = []) => {
    outbox.push(message);
    for (const buffer of transfer) if (!transfers.includes(buffer)) transfers.push(buffer);
    schedule();
  };
  const sendPlain = (message: Extract<GuestMessage, { type: "result" }>) => {
    plainResults.push(message);
    schedule();
  };
  const schedule = () => {
    // A full batch goes at once, so the host works on it while this guest goes on with the rest.
    if (outbox.length + plainResults.length >= BATCH) return flush();
    if (scheduled) return;
    scheduled = true;
    // setImmediate, not setTimeout(0): Deno clamps a zero timeout to about 2 ms.
    setImmediate(() => {
      scheduled = false;
      flush();
    });
  };
  const flush = () => {
    const batch: (GuestMessage | ResultBatch)[] = outbox;
    const plain = plainResults;
    const transfer = transfers;
    outbox = [];
    plainResults = [];
    transfers = [];
    if (batch.length === 0 && plain.length === 0) return;
    if (busyMs !== reportedBusyMs) {
      batch.push({ type: "busy", ms: busyMs });
      reportedBusyMs = busyMs;
    }
    try {
      if (plain.length > 0) {
        const flat: unknown[] = [];
        for (const message of plain) flat.push(message.id, message.value);
        batch.push({ type: "results", json: JSON.stringify(flat) });
      }
      port.send(batch, transfer);
    } catch {
      // Something in the batch cannot be cloned or written as JSON (a plugin returned a function,
      // or a getter that throws, say): send the messages one by one, so that only the call that
      // returned it fails, with the reason.
      for (const message of batch) if (message.type !== "results") sendAlone(message);
      for (const result of plain) sendAlone(result);
    }
  };
  const sendAlone = (message: GuestMessage) => {
    try {
      // Inside the try: reading the value again can throw too (a getter, say).
      const buffers = message.type === "result"
        ? inspectValue(message.value).buffers
        : message.type === "put"
        ? inspectValue(message.item).buffers
        : [];
      port.send([message], buffers);
    } catch (err) {
      if (message.type !== "result" && message.type !== "put") throw err;
      const id = message.type === "result" ? message.id : message.call;
      port.send([{ type: "error", id, error: errorToWire(err) }], []);
    }
  };
  // Calls run one at a time, in the order they came (a provider's ingest runs beside them).
  const calls: (Extract<HostMessage, { type: "call" }> | PackedCall)[] = [];
  let running = false;
  const drain = async () => {
    if (running) return;
    running = true;
    // One reading of the clock per call: the end of one call is the start of the next.
    let start = performance.now();
    while (calls.length > 0) {
      // A call whose handler answered at once is done: no promise to wait for.
      const pending = runCall(calls.shift()!);
      if (pending !== undefined) await pending;
      const end = performance.now();
      busyMs += end - start;
      start = end;
    }
    running = false;
  };
  /** Run a call and send its answer; a promise only when the handler returned one. */
  const runCall = (
    message: Extract<HostMessage, { type: "call" }> | PackedCall,
  ): Promise<void> | undefined => {
    const id = message.id;
    let result: CallResult | Promise<CallResult>;
    try {
      if (!runtime) throw new Error("The plugin is not loaded");
      if (message.type === "packed") {
        result = runtime.invokePacked(message);
      } else {
        const onPut = (item: ProviderItemWire) =>
          new Promise<void>((resolve, reject) => {
            const put = ++putId;
            acks.set(put, { resolve, reject });
            send({ type: "put", id: put, call: id, item }, inspectValue(item).buffers);
          });
        result = runtime.invoke(message.call, onPut);
      }
    } catch (err) {
      send({ type: "error", id, error: errorToWire(err) });
      return undefined;
    }
    if (result instanceof Promise) {
      return result.then(
        (settled) => answer(id, settled),
        (err) => send({ type: "error", id, error: errorToWire(err) }),
      );
    }
    answer(id, result);
    return undefined;
  };
  const answer = (id: number, result: CallResult) => {
    try {
      // No payloadMeta key when it did not change: an absent key costs nothing to copy.
      const { buffers, json } = inspectValue(result.value);
      if (result.payloadMeta !== undefined) {
        send({ type: "result", id, value: result.value, payloadMeta: result.payloadMeta }, buffers);
      } else if (json) {
        sendPlain({ type: "result", id, value: result.value });
      } else {
        send({ type: "result", id, value: result.value }, buffers);
      }
    } catch (err) {
      // Reading the value can throw (a getter): that call fails, with the reason.
      send({ type: "error", id, error: errorToWire(err) });
    }
  };

  const handle = async (message: HostMessage) => {
    switch (message.type) {
      case "load": {
        try {
          runtime = await PluginRuntime.load(message.spec, guestLogger(send, message.spec.name));
          send({ type: "loaded", kinds: [...runtime.kinds] });
        } catch (err) {
          send({ type: "load-error", error: errorToWire(err) });
        }
        return;
      }
      case "call": {
        if (message.call.method === "ingest") {
          void runCall(message);
        } else {
          calls.push(message);
          void drain();
        }
        return;
      }
      case "put-ack": {
        const ack = acks.take(message.id);
        if (message.error === undefined) ack?.resolve();
        else ack?.reject(new Error(message.error));
        return;
      }
      case "close": {
        try {
          await runtime?.close();
        } catch (err) {
          send({
            type: "log",
            level: "error",
            message: `close() failed: ${err instanceof Error ? err.message : String(err)}`,
          });
        }
        send({ type: "closed" });
        flush();
        port.exit();
        return;
      }
    }
  };

  port.onMessage((data) => {
    for (const item of Array.isArray(data) ? data : [data]) {
      // The host is stoq's own core: its calls are taken as they come, other messages are checked.
      if (isPackedCall(item)) {
        calls.push(item);
        void drain();
        continue;
      }
      if (isCallBatch(item)) {
        calls.push(...unbatchCalls(item));
        void drain();
        continue;
      }
      const parsed = HostMessageSchema.safeParse(item);
      if (!parsed.success) {
        send({
          type: "log",
          level: "error",
          message: `Ignored a malformed message from the host: ${parsed.error.message}`,
        });
        continue;
      }
      void handle(parsed.data);
    }
  });
}

/** A packed call: the host is stoq's own core, so its shape is taken as it comes. */
function isPackedCall(item: unknown): item is PackedCall {
  return item !== null && typeof item === "object" &&
    (item as { type?: unknown }).type === "packed";
}

/** A batch of packed calls (see `batchCalls`), taken as it comes for the same reason. */
function isCallBatch(item: unknown): item is CallBatch {
  return item !== null && typeof item === "object" &&
    (item as { type?: unknown }).type === "calls";
}

function guestLogger(post: (message: GuestMessage) => void, name: string): Logger {
  const make = (prefix: string): Logger => {
    const send = (level: "debug" | "info" | "warning" | "error", message: string) =>
      post({ type: "log", level, message: prefix ? `${prefix}: ${message}` : message });
    return {
      name: prefix ? `${name}.${prefix}` : name,
      debug: (message) => send("debug", message),
      info: (message) => send("info", message),
      warning: (message) => send("warning", message),
      error: (message, cause) =>
        send(
          "error",
          cause === undefined
            ? message
            : `${message}: ${cause instanceof Error ? cause.message : String(cause)}`,
        ),
      child: (child) => make(prefix ? `${prefix}.${child}` : child),
    };
  };
  // PluginRuntime names the plugin's logger after the plugin; the host prefixes that already.
  const root = make("");
  return { ...root, child: () => root };
}
