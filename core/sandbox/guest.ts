/**
 * The plugin's side of a sandbox, whatever carries the messages (a Worker's `postMessage` or a
 * subprocess's standard streams): load the plugin, run each call, answer with plain data.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import { PluginRuntime } from "./runtime.ts";
import {
  errorToWire,
  type GuestMessage,
  type HostMessage,
  HostMessageSchema,
  type ProviderItemWire,
} from "./protocol.ts";

/** How a guest talks to its host. */
export interface GuestPort {
  /** Send a message; `transfer` lists buffers the guest gives up. */
  send(message: GuestMessage, transfer?: ArrayBuffer[]): void;
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

  const handle = async (message: HostMessage) => {
    switch (message.type) {
      case "load": {
        try {
          runtime = await PluginRuntime.load(message.spec, guestLogger(port, message.spec.name));
          port.send({ type: "loaded", kinds: [...runtime.kinds] });
        } catch (err) {
          port.send({ type: "load-error", error: errorToWire(err) });
        }
        return;
      }
      case "call": {
        const { id, call } = message;
        try {
          if (!runtime) throw new Error("The plugin is not loaded");
          const onPut = (item: ProviderItemWire) =>
            new Promise<void>((resolve, reject) => {
              const put = ++putId;
              acks.set(put, { resolve, reject });
              port.send({ type: "put", id: put, call: id, item }, buffersOf(item));
            });
          const result = await runtime.invoke(call, onPut);
          port.send(
            { type: "result", id, value: result.value, payloadMeta: result.payloadMeta },
            buffersOf(result.value),
          );
        } catch (err) {
          port.send({ type: "error", id, error: errorToWire(err) });
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
          port.send({
            type: "log",
            level: "error",
            message: `close() failed: ${err instanceof Error ? err.message : String(err)}`,
          });
        }
        port.send({ type: "closed" });
        port.exit();
        return;
      }
    }
  };

  port.onMessage((data) => {
    const parsed = HostMessageSchema.safeParse(data);
    if (!parsed.success) {
      port.send({
        type: "log",
        level: "error",
        message: `Ignored a malformed message from the host: ${parsed.error.message}`,
      });
      return;
    }
    void handle(parsed.data);
  });
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

function guestLogger(port: GuestPort, name: string): Logger {
  const make = (prefix: string): Logger => {
    const send = (level: "debug" | "info" | "warning" | "error", message: string) =>
      port.send({ type: "log", level, message: prefix ? `${prefix}: ${message}` : message });
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
