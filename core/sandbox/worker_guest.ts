/**
 * The entry point of a plugin's Worker. Loaded by the Worker host; not for plugins.
 *
 * A plugin that calls `Deno.exit()` or `self.close()` does not end its Worker silently: the host is
 * told, counts it as a crash of the current call and starts a fresh Worker for the next.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type GuestPort, serveGuest } from "./guest.ts";
import type { GuestMessage, ResultBatch } from "./protocol.ts";

const scope = self as unknown as DedicatedWorkerGlobalScope;
const close = scope.close.bind(scope);
const post = (
  message: (GuestMessage | ResultBatch)[] | { type: "exit"; code: number },
  transfer?: ArrayBuffer[],
) => scope.postMessage(message, { transfer: transfer ?? [] });

const exit = (code?: number): never => {
  post({ type: "exit", code: code ?? 0 });
  close();
  throw new Error(`The plugin called Deno.exit(${code ?? ""})`);
};
Object.defineProperty(Deno, "exit", { value: exit, configurable: false, writable: false });
Object.defineProperty(scope, "close", {
  value: () => exit(0),
  configurable: false,
  writable: false,
});

const port: GuestPort = {
  send: (messages, transfer) => post(messages, transfer),
  onMessage: (handler) => {
    scope.onmessage = (event: MessageEvent) => handler(event.data);
  },
  exit: close,
};
serveGuest(port);
