/**
 * The cost of the sandbox: the same plugins called in-process, in a Worker and in a subprocess,
 * side by side in one run, on small and large payloads, one scan at a time (latency) and many at
 * once (throughput, with the plugin's pool of instances).
 *
 * Run: `deno task bench` (or `deno run -A --no-remote --cached-only bench/sandbox.ts [--quick]`).
 * Prints a Markdown table; the README's figures come from it.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { Stoq } from "../mod.ts";
import type { IsolationMode } from "../core/sandbox/host.ts";

const quick = Deno.args.includes("--quick");
const PLUGINS = [
  fileURLToPath(new URL("./plugins", import.meta.url)),
  fileURLToPath(new URL("../plugins", import.meta.url)),
];
const MODES: IsolationMode[] = ["none", "worker", "process"];

/** Deterministic pseudo-random bytes. */
function bytes(size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = 0x9e3779b9;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

interface Case {
  plugin: string;
  label: string;
  size: number;
  count: number;
  parallel: number;
}

const CASES: Case[] = [
  { plugin: "noop", label: "noop, 4 KiB, one at a time", size: 4096, count: 2000, parallel: 1 },
  { plugin: "hash", label: "hash, 4 KiB, one at a time", size: 4096, count: 2000, parallel: 1 },
  { plugin: "hash", label: "hash, 4 KiB, 8 at once", size: 4096, count: 4000, parallel: 8 },
  { plugin: "hash", label: "hash, 16 MiB, one at a time", size: 16 << 20, count: 20, parallel: 1 },
  { plugin: "hash", label: "hash, 16 MiB, 4 at once", size: 16 << 20, count: 40, parallel: 4 },
];

async function measure(mode: IsolationMode, c: Case): Promise<{ perScanMs: number; mbps: number }> {
  const stoq = await Stoq.create({
    pluginDirList: PLUGINS,
    alwaysDispatch: [c.plugin],
    isolation: mode,
    logSinks: [],
    config: undefined,
    configFile: fileURLToPath(new URL("./bench.cfg", import.meta.url)),
  });
  try {
    const content = bytes(c.size);
    const count = quick ? Math.max(c.parallel, Math.ceil(c.count / 10)) : c.count;
    // Warm up: start the pool and let V8 optimise.
    await Promise.all(Array.from({ length: c.parallel * 2 }, () => stoq.scan(content)));
    let next = 0;
    const start = performance.now();
    await Promise.all(Array.from({ length: c.parallel }, async () => {
      while (next++ < count) {
        const response = await stoq.scan(content);
        if (response.errors.length > 0) throw new Error(response.errors[0].error);
      }
    }));
    const seconds = (performance.now() - start) / 1000;
    return { perScanMs: (seconds * 1000) / count, mbps: (count * c.size) / seconds / 1e6 };
  } finally {
    await stoq.close();
  }
}

const rows: string[] = [
  "| case | in-process | Worker | subprocess | Worker / in-process | subprocess / in-process |",
  "| --- | --- | --- | --- | --- | --- |",
];
for (const c of CASES) {
  const results: Record<string, { perScanMs: number; mbps: number }> = {};
  for (const mode of MODES) results[mode] = await measure(mode, c);
  const cell = (r: { perScanMs: number; mbps: number }) =>
    c.size >= 1 << 20
      ? `${r.perScanMs.toFixed(1)} ms/scan (${r.mbps.toFixed(0)} MB/s)`
      : `${(r.perScanMs * 1000).toFixed(0)} µs/scan`;
  rows.push(
    `| ${c.label} | ${cell(results.none)} | ${cell(results.worker)} | ${cell(results.process)} | ${
      (results.worker.perScanMs / results.none.perScanMs).toFixed(2)
    }× | ${(results.process.perScanMs / results.none.perScanMs).toFixed(2)}× |`,
  );
  console.error(rows.at(-1));
}
console.log(
  `\n${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}${
    quick ? ", --quick" : ""
  }\n`,
);
console.log(rows.join("\n"));
