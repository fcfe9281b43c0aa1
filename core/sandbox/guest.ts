/**
 * The plugin's side of a sandbox, whatever carries the messages (a Worker's `postMessage` or a
 * subprocess's standard streams): load the plugin, run each call, answer with plain data.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import type { Logger } from "../log.ts";
import { PluginRuntime } from "./runtime.ts";
import {
  errorToWire,
  type GuestMessage,
  type HostMessage,
  HostMessageSchema,
  type PackedCall,
  type ProviderItemWire,
} from "./protocol.ts";

/** Messages in a batch before it goes without waiting for the end of the task. */
const BATCH = 32;

/** How a guest talks to its host. */
export interface GuestPort {
  /** Send a batch of messages; `transfer` lists buffers the guest gives up. */
  send(messages: GuestMessage[], transfer: ArrayBuffer[]): void;
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
  const acks = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  // Messages go out in batches, at the end of the current task.
  let outbox: GuestMessage[] = [];
  let transfers: ArrayBuffer[] = [];
  let scheduled = false;
  // Time spent in calls, reported with each batch so that the host can tell a busy instance.
  let busyMs = 0;
  let reportedBusyMs = 0;
  const send = (message: GuestMessage, transfer: ArrayBuffer[] = []) => {
    outbox.push(message);
    for (const buffer of transfer) if (!transfers.includes(buffer)) transfers.push(buffer);
    // A full batch goes at once, so the host works on it while this guest goes on with the rest.
    if (outbox.length >= BATCH) return flush();
    if (scheduled) return;
    scheduled = true;
    // setImmediate, not setTimeout(0): Deno clamps a zero timeout to about 2 ms.
    setImmediate(() => {
      scheduled = false;
      flush();
    });
  };
  const flush = () => {
    const batch = outbox;
    const transfer = transfers;
    outbox = [];
    transfers = [];
    if (batch.length === 0) return;
    if (busyMs !== reportedBusyMs) {
      batch.push({ type: "busy", ms: busyMs });
      reportedBusyMs = busyMs;
    }
    try {
      port.send(batch, transfer);
    } catch {
      // Something in the batch cannot be cloned (a plugin returned a function, say): send the
      // messages one by one, so that only the call that returned it fails, with the reason.
      for (const message of batch) sendAlone(message);
    }
  };
  const sendAlone = (message: GuestMessage) => {
    const buffers = message.type === "result"
      ? buffersOf(message.value)
      : message.type === "put"
      ? buffersOf(message.item)
      : [];
    try {
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
    while (calls.length > 0) {
      const start = performance.now();
      await runCall(calls.shift()!);
      busyMs += performance.now() - start;
    }
    running = false;
  };
  const runCall = async (message: Extract<HostMessage, { type: "call" }> | PackedCall) => {
    const id = message.id;
    try {
      if (!runtime) throw new Error("The plugin is not loaded");
      const onPut = (item: ProviderItemWire) =>
        new Promise<void>((resolve, reject) => {
          const put = ++putId;
          acks.set(put, { resolve, reject });
          send({ type: "put", id: put, call: id, item }, buffersOf(item));
        });
      const result = message.type === "packed"
        ? await runtime.invokePacked(message)
        : await runtime.invoke(message.call, onPut);
      // No payloadMeta key when it did not change: an absent key costs nothing to copy.
      send(
        result.payloadMeta === undefined
          ? { type: "result", id, value: result.value }
          : { type: "result", id, value: result.value, payloadMeta: result.payloadMeta },
        buffersOf(result.value),
      );
    } catch (err) {
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
        const ack = acks.get(message.id);
        acks.delete(message.id);
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

/**
 * The buffers to transfer instead of copy: those of every `Uint8Array` in a value that spans its
 * whole buffer. A view into a larger buffer (a slice of the input, say) is copied, so the rest of
 * that buffer stays usable in the plugin. A plugin must not reuse bytes it returned.
 */
export function buffersOf(value: unknown): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>();
  const seen = new Set<object>();
  const walk = (v: unknown, depth: number) => {
    if (v === null || typeof v !== "object" || depth > 64 || seen.has(v)) return;
    seen.add(v);
    if (ArrayBuffer.isView(v)) {
      const buffer = v.buffer;
      if (
        buffer instanceof ArrayBuffer && buffer.byteLength > 0 && v.byteOffset === 0 &&
        v.byteLength === buffer.byteLength
      ) found.add(buffer);
      return;
    }
    if (Array.isArray(v)) { for (const item of v) walk(item, depth + 1); }
    else for (const item of Object.values(v)) walk(item, depth + 1);
  };
  walk(value, 0);
  return [...found];
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
