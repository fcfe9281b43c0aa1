/**
 * An engine's Worker (see engines.ts): one `Stoq`, scanning the files the host sends it.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { type EngineReply, type EngineRequest, scanFileWith } from "./engines.ts";
import { Stoq } from "./stoq.ts";

let stoq: Stoq | undefined;

function reply(message: EngineReply) {
  self.postMessage(message);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function handle(request: EngineRequest) {
  if (request.type === "init") {
    try {
      stoq = await Stoq.create(request.options);
      for (const name of request.preload) await stoq.loadPlugin(name);
      reply({
        type: "ready",
        info: { connectors: stoq.roles.connectors.size, plugins: stoq.listPlugins() },
      });
    } catch (err) {
      reply({
        type: "failed",
        name: err instanceof Error ? err.name : "Error",
        message: messageOf(err),
      });
    }
    return;
  }
  if (request.type === "close") {
    await stoq?.close();
    reply({ type: "closed" });
    return;
  }
  try {
    reply({
      type: "done",
      id: request.id,
      result: await scanFileWith(stoq!, request.path, request.options),
    });
  } catch (err) {
    reply({ type: "error", id: request.id, message: messageOf(err) });
  }
}

self.onmessage = (event: MessageEvent<EngineRequest>) => {
  handle(event.data);
};
