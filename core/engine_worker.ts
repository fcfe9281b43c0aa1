/**
 * An engine's Worker (see engines.ts): one `Stoq`, scanning the files the host sends it.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { dumps } from "./dumps.ts";
import type { EngineReply, EngineRequest } from "./engines.ts";
import { readFileMaybeShared } from "./shared_bytes.ts";
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
  const { id, path, options } = request;
  try {
    const content = await readFileMaybeShared(path, stoq!.shareThreshold);
    const response = await stoq!.scan(content, {
      payloadMeta: { extraData: { filename: options.filename ?? null } },
      requestMeta: options.requestMeta,
      addStartDispatch: options.addStartDispatch,
      addStartDeepDispatch: options.addStartDeepDispatch,
    });
    reply({
      type: "done",
      id,
      result: {
        line: options.line === false ? "" : dumps(response, { indent: 0 }),
        payloads: response.results.length,
        errors: response.errors.length,
      },
    });
  } catch (err) {
    reply({ type: "error", id, message: messageOf(err) });
  }
}

self.onmessage = (event: MessageEvent<EngineRequest>) => {
  handle(event.data);
};
