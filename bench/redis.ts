/**
 * Throughput of `stoq run -P redis -C redis` with 1, 2 and 4 consumer processes sharing one Redis
 * stream: a private redis-server (free port, temporary folder, `--save ""`), N files of 4 KiB
 * scanned by `hash`, timed from the first entry added until every result is saved.
 *
 * ```sh
 * deno run -A --no-remote --cached-only bench/redis.ts [FILES] [4 KiB|SIZE_IN_BYTES]
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { addEntry, type Layout, resultKey, storePayload } from "../plugins/redis/queue.ts";
import { RedisClient, type Reply } from "../plugins/redis/resp.ts";

const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));
const FILES = Number(Deno.args[0] ?? 2000);
const SIZE = Number(Deno.args[1] ?? 4096);
const LAYOUT: Layout = { stream: "stoq", prefix: "stoq:" };

const dir = Deno.makeTempDirSync({ prefix: "stoq-bench-redis-" });
const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const port = (listener.addr as Deno.NetAddr).port;
listener.close();
const url = `redis://127.0.0.1:${port}`;
const server = new Deno.Command("redis-server", {
  args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir],
  stdout: "null",
}).spawn();
const client = new RedisClient(url);
for (let i = 0; i < 100; i++) {
  try {
    await client.call("PING");
    break;
  } catch {
    await new Promise((r) => setTimeout(r, 50));
  }
}

const cfg = `${dir}/stoq.cfg`;
Deno.writeTextFileSync(
  cfg,
  [
    "[core]",
    "providers = redis",
    "connectors = redis",
    "always_dispatch = hash",
    `plugin_dir_list = ${fileURLToPath(new URL("../plugins", import.meta.url))}`,
    "provider_consumers = 8",
    "[redis]",
    `url = ${url}`,
    "max_queue = 50",
    "",
  ].join("\n"),
);

const rows: string[][] = [];
let base = 0;
for (const processes of [1, 2, 4]) {
  await client.call("FLUSHALL");
  const procs = Array.from({ length: processes }, (_, i) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-remote", "--cached-only", CLI, "run", "--config-file", cfg]
        .concat(["--log-level", "warning", "--plugin-opts", `redis:consumer=c${i}`]),
      cwd: dir,
      stdout: "null",
    }).spawn());
  // Wait until every process is blocked in XREADGROUP, so start-up is not timed.
  while (true) {
    const clients = String(await client.call("CLIENT", "LIST"));
    if (clients.split("\n").filter((l) => l.includes("cmd=xreadgroup")).length >= processes) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // Distinct contents, stored before timing starts.
  const shas: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const content = new Uint8Array(SIZE);
    crypto.getRandomValues(content.subarray(0, Math.min(SIZE, 65536)));
    new DataView(content.buffer).setUint32(0, i);
    shas.push(await storePayload(client, LAYOUT, content, 3600));
  }
  const ids = shas.map((_, i) => `r${processes}-${i}`);
  const start = performance.now();
  for (let i = 0; i < FILES; i++) {
    await addEntry(client, LAYOUT, { requestId: ids[i], sha256: shas[i] });
  }
  let done = 0;
  while (done < FILES) {
    await new Promise((r) => setTimeout(r, 20));
    done = 0;
    for (let i = 0; i < FILES; i += 1000) {
      const keys = ids.slice(i, i + 1000).map((id) => resultKey(LAYOUT, id));
      const values = await client.call("MGET", ...keys) as Reply[];
      done += values.filter((v) => v !== null).length;
    }
  }
  const seconds = (performance.now() - start) / 1000;
  for (const p of procs) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => p.status));
  const rate = FILES / seconds;
  if (processes === 1) base = rate;
  rows.push([
    String(processes),
    String(FILES),
    seconds.toFixed(2),
    rate.toFixed(0),
    `${(rate / base).toFixed(2)}×`,
  ]);
}
client.close();
server.kill("SIGTERM");
await server.status;
Deno.removeSync(dir, { recursive: true });

const header = ["consumer processes", "files", "seconds", "files/s", "vs 1 process"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
console.log(
  `${FILES} files of ${SIZE} bytes, hash worker, ${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}`,
);
console.log(line(header));
console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
for (const row of rows) console.log(line(row));
