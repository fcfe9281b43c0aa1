/**
 * The framework's own cost, pass after pass: 10,000 payloads of 1 KiB through one worker plugin
 * (`noop`, which returns at once, or `hash`), in a Worker or in-process, with a given number of
 * scans in flight. Prints each pass's payloads/s and their median, and the CPU time per payload
 * over the passes, by thread (the core's, the plugins' Workers, V8's helpers), which moves less
 * from run to run than the rate; used to measure what a change to the core or the sandbox buys
 * (bench/pipeline.ts is the benchmark of record).
 *
 * Run: `deno run -A --no-remote --cached-only bench/overhead.ts [--mode worker|in-process]
 * [--plugin noop|hash] [--passes 10] [--in-flight 512] [--concurrency N] [--max-in-flight N]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { Stoq } from "../mod.ts";
import { threadCpuByKind } from "./cpu.ts";

const { values } = parseArgs({
  options: {
    mode: { type: "string", default: "worker" },
    plugin: { type: "string", default: "noop" },
    passes: { type: "string", default: "10" },
    "in-flight": { type: "string", default: "512" },
    concurrency: { type: "string" },
    "max-in-flight": { type: "string" },
  },
});
const plugin = values.plugin;
const inFlight = Number(values["in-flight"]);
const items = Array.from({ length: 10_000 }, (_, i) => {
  const bytes = new Uint8Array(1024);
  for (let j = 0; j < bytes.length; j++) bytes[j] = (i * 31 + j * 7) & 255;
  return bytes;
});
const stoq = await Stoq.create({
  configFile: fileURLToPath(new URL("../stoq.cfg", import.meta.url)),
  pluginDirList: [
    fileURLToPath(new URL("../plugins", import.meta.url)),
    fileURLToPath(new URL("./plugins", import.meta.url)),
  ],
  alwaysDispatch: [plugin],
  dispatchers: [],
  isolation: values.mode === "in-process" ? "none" : "worker",
  pluginOpts: values.concurrency ? { [plugin]: { concurrency: Number(values.concurrency) } } : {},
  maxInFlight: values["max-in-flight"] === undefined ? undefined : Number(values["max-in-flight"]),
  logSinks: [],
});

async function pass(): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < items.length) await stoq.scan(items[next++]);
  }));
  return items.length / ((performance.now() - start) / 1000);
}

try {
  await pass(); // the pool and the JIT warm up
  const rates: number[] = [];
  const threadsBefore = threadCpuByKind();
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < Number(values.passes); i++) rates.push(Math.round(await pass()));
  const cpu = process.cpuUsage(cpuBefore);
  const threads = threadCpuByKind();
  const scanned = rates.length * items.length;
  const sorted = [...rates].sort((a, b) => a - b);
  console.log(
    `${values.mode} ${plugin}, ${inFlight} in flight (core: ${
      stoq.maxInFlight || "no limit"
    }): median ${sorted[sorted.length >> 1]} payloads/s (passes: ${rates.join(" ")})`,
  );
  const byKind = [...threads]
    .map(([kind, s]) => [kind, s - (threadsBefore.get(kind) ?? 0)] as const)
    .filter(([, s]) => s > 0)
    .map(([kind, s]) => `${kind} ${(s * 1e6 / scanned).toFixed(1)}`);
  console.log(
    `CPU per payload: ${((cpu.user + cpu.system) / scanned).toFixed(1)} µs${
      byKind.length > 0 ? ` (${byKind.join(", ")})` : ""
    }`,
  );
} finally {
  await stoq.close();
}
