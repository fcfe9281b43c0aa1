/**
 * `stoq submit FILE... --to redis://host:port`: store each file's bytes in Redis once (by SHA-256)
 * and add one work entry per file to the stream the redis plugin's consumers read; with `--wait`,
 * wait for each request's response and print it (one JSON line per file, in input order).
 *
 * Uses the redis plugin's client and key layout (`plugins/redis/`), so both sides agree.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { StoqError } from "../errors.ts";
import { type ParsedArgs, UsageError } from "./args.ts";
import type { Output } from "./scan.ts";
import { requestMetaOf } from "./setup.ts";
import {
  addEntry,
  deadStream,
  type Layout,
  resultKey,
  storePayload,
} from "../../plugins/redis/queue.ts";
import { RedisClient, type Reply, text } from "../../plugins/redis/resp.ts";

/** Run `stoq submit`; returns the exit code. */
export async function submitCommand(args: ParsedArgs, output: Output): Promise<number> {
  const url = args.values.to;
  if (!url) throw new UsageError(`"submit" needs --to redis://host:port`, "submit");
  if (args.positionals.length === 0) throw new UsageError(`"submit" needs a FILE`, "submit");
  const number = (key: string, fallback: number, flag: string) => {
    const value = args.values[key];
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) {
      throw new UsageError(`Option "${flag}" needs a number of seconds, got "${value}"`, "submit");
    }
    return n;
  };
  const ttl = Math.round(number("payloadTtl", 604800, "--payload-ttl"));
  const waitSeconds = number("waitTimeout", 0, "--wait-timeout");
  const layout: Layout = {
    stream: args.values.stream ?? "stoq",
    prefix: args.values.prefix ?? "stoq:",
  };
  const files: string[] = [];
  for (const path of args.positionals) await collect(resolve(path), files);
  const requestMeta = requestMetaOf(args).toJSON() as unknown as Record<string, unknown>;
  let client: RedisClient;
  try {
    client = new RedisClient(url, { retryForMs: 30_000 });
  } catch (err) {
    throw new StoqError((err as Error).message);
  }
  try {
    const submitted: { file: string; requestId: string }[] = [];
    for (const file of files) {
      const content = await Deno.readFile(file);
      const sha256 = await storePayload(client, layout, content, ttl);
      const requestId = crypto.randomUUID();
      const id = await addEntry(client, layout, {
        requestId,
        sha256,
        payloadMeta: { extra_data: { filename: file.split("/").pop() } },
        requestMeta,
      });
      submitted.push({ file, requestId });
      if (!args.flags.has("wait")) output.out(`${requestId}\t${id}\t${file}`);
    }
    if (!args.flags.has("wait")) return 0;
    return await wait(client, layout, submitted, waitSeconds, output);
  } catch (err) {
    if (err instanceof Error && err.name === "RedisConnectionError") {
      throw new StoqError(err.message);
    }
    throw err;
  } finally {
    client.close();
  }
}

/** Wait for every response (or its dead letter) and print them in input order. */
async function wait(
  client: RedisClient,
  layout: Layout,
  submitted: { file: string; requestId: string }[],
  timeoutSeconds: number,
  output: Output,
): Promise<number> {
  const results = new Map<string, string>();
  const dead = new Map<string, string>();
  const deadline = timeoutSeconds > 0 ? Date.now() + timeoutSeconds * 1000 : Infinity;
  const wanted = new Set(submitted.map((s) => s.requestId));
  let deadCursor = "0-0";
  let printed = 0;
  while (printed < submitted.length) {
    const missing = [...wanted].filter((id) => !results.has(id) && !dead.has(id));
    for (let i = 0; i < missing.length; i += 500) {
      const batch = missing.slice(i, i + 500);
      const values = await client.call("MGET", ...batch.map((id) => resultKey(layout, id)));
      (values as Reply[]).forEach((value, j) => {
        if (value !== null) results.set(batch[j], text(value));
      });
    }
    const entries = await client.call("XRANGE", deadStream(layout), `(${deadCursor}`, "+");
    for (const entry of entries as Reply[]) {
      const [id, fields] = entry as Reply[];
      deadCursor = text(id);
      const map = new Map<string, string>();
      const list = fields as Reply[];
      for (let i = 0; i + 1 < list.length; i += 2) map.set(text(list[i]), text(list[i + 1]));
      const requestId = map.get("request_id");
      if (requestId && wanted.has(requestId)) dead.set(requestId, map.get("error") ?? "");
    }
    while (printed < submitted.length) {
      const { file, requestId } = submitted[printed];
      const result = results.get(requestId);
      if (result !== undefined) output.out(result);
      else if (dead.has(requestId)) {
        output.err(`Error: "${file}" (request ${requestId}) failed: ${dead.get(requestId)}`);
      } else break;
      printed++;
    }
    if (printed < submitted.length) {
      if (Date.now() > deadline) {
        output.err(
          `Error: ${
            submitted.length - printed
          } of ${submitted.length} responses did not arrive within ${timeoutSeconds} s`,
        );
        return 1;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return dead.size > 0 ? 1 : 0;
}

async function collect(path: string, out: string[]) {
  const info = await Deno.stat(path);
  if (info.isFile) {
    out.push(path);
    return;
  }
  const names: string[] = [];
  for await (const entry of Deno.readDir(path)) names.push(entry.name);
  for (const name of names.sort()) await collect(join(path, name), out);
}
