/**
 * The end-to-end benchmark: three scenarios, each run with the sandbox on (Workers) and in-process,
 * in fresh processes (so peak RSS is per run), side by side with the native tools over the same
 * bytes, printed as one Markdown table.
 *
 * - (a) 10,000 payloads of 1 KiB, hash only: the framework's own overhead (512 in flight, which
 *   the core scans 128 at a time: `max_in_flight`). Three
 *   warm-up passes (pools and JIT), then five measured passes; the median pass is reported.
 * - (b) the real corpus (`bench/corpus.ts` builds its manifest from files on this machine) with the
 *   default pipeline: hash, mimetype, yara as worker and dispatcher, recursive decompress; also with
 *   one instance per plugin, to show what the second core brings, and in-process with an engine
 *   per core (core/engines.ts, as `stoq scan DIR` with `isolation = none`).
 * - (c) one payload of 1 GiB with hash and yara.
 *
 * Natives: `sha256sum` and `yara` (Debian's, when installed) over the same bytes.
 *
 * Run: `deno task bench:pipeline` (builds the corpus and the 1 GiB file when missing).
 * `--only a,b,c` picks scenarios; `--quick` shrinks them for a smoke run.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Stoq } from "../mod.ts";
import { Engines } from "../core/engines.ts";
import type { IsolationMode } from "../core/sandbox/host.ts";
import { readFileMaybeShared } from "../core/shared_bytes.ts";
import { buildCorpus, type Corpus, CORPUS_DIR, MANIFEST } from "./corpus.ts";
import { cpuSeconds } from "./cpu.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PLUGINS = join(ROOT, "plugins");
const CONFIG = join(ROOT, "stoq.cfg");
const BIG = join(CORPUS_DIR, "1gib.bin");
const RULES = [join(PLUGINS, "yara", "rules", "stoq.yar")];
/** Scans in flight in (a): a producer with many payloads queued, like stoQ's asyncio.gather. */
const IN_FLIGHT_A = 512;
const DISPATCH_RULES = [join(PLUGINS, "yara", "rules", "dispatcher.yar")];
/** (b) in-process, with an engine per core (`stoq scan DIR --engines N`). */
const ENGINES_MODE = "in-process, engines";

interface Result {
  scenario: string;
  mode: string;
  seconds: number;
  files: number;
  payloads: number;
  bytes: number;
  p50Ms?: number;
  p99Ms?: number;
  rssMb: number;
  errors: number;
  /** Where the CPU time went, when measured. */
  cpu?: CpuReport;
}

/** CPU seconds of the whole process and of the core's thread, and each plugin's time in calls. */
interface CpuReport {
  processS: number;
  coreThreadS: number;
  inCallsS: Record<string, number>;
}

async function cpuReport(stoq: Stoq, plugins: string[], since: CpuReport): Promise<CpuReport> {
  const inCallsS: Record<string, number> = {};
  for (const name of plugins) {
    const ms = (await stoq.loadPlugin(name)).busyMs();
    if (ms !== undefined) inCallsS[name] = ms / 1000 - (since.inCallsS[name] ?? 0);
  }
  return {
    processS: cpuSeconds("/proc/self/stat") - since.processS,
    coreThreadS: cpuSeconds(`/proc/self/task/${Deno.pid}/stat`) - since.coreThreadS,
    inCallsS,
  };
}

const NO_CPU: CpuReport = { processS: 0, coreThreadS: 0, inCallsS: {} };

/** Pseudo-random bytes (xorshift32), so runs are repeatable. */
function fill(out: Uint8Array, seed: number) {
  let x = seed >>> 0 || 1;
  const words = new Uint32Array(out.buffer, out.byteOffset, out.byteLength >>> 2);
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
}

function peakRssMb(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** Scan items with a bounded number in flight; latency per item. */
async function drive<T>(
  items: T[],
  inFlight: number,
  scan: (item: T) => Promise<{ payloads: number; errors: number }>,
) {
  const latencies: number[] = [];
  let payloads = 0;
  let errors = 0;
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < items.length) {
      const item = items[next++];
      const t = performance.now();
      const outcome = await scan(item);
      latencies.push(performance.now() - t);
      payloads += outcome.payloads;
      errors += outcome.errors;
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    seconds,
    payloads,
    errors,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

async function child(scenario: string, mode: string, quick: boolean): Promise<Result> {
  const isolation: IsolationMode = mode === "in-process" ? "none" : "worker";
  const single = mode === "worker, 1 instance";
  const perPlugin = (names: string[]) =>
    Object.fromEntries(names.map((name) => [name, single ? { concurrency: 1 } : {}]));
  if (scenario === "a") {
    const count = quick ? 1000 : 10_000;
    const items = Array.from({ length: count }, (_, i) => {
      const bytes = new Uint8Array(1024);
      fill(bytes, i + 1);
      return bytes;
    });
    const stoq = await Stoq.create({
      configFile: CONFIG,
      pluginDirList: [PLUGINS],
      alwaysDispatch: ["hash"],
      dispatchers: [],
      isolation,
      logSinks: [],
    });
    try {
      const pass = () =>
        drive(items, IN_FLIGHT_A, async (bytes) => {
          const response = await stoq.scan(bytes);
          return { payloads: response.results.length, errors: response.errors.length };
        });
      // Warm up the pool and the JIT, then take the median of five passes: one pass lasts a
      // fraction of a second, which a shared machine's noise moves by a fifth either way.
      for (let i = 0; i < 3; i++) await pass();
      const before = await cpuReport(stoq, ["hash"], NO_CPU);
      const runs = [];
      for (let i = 0; i < 5; i++) runs.push(await pass());
      const cpu = await cpuReport(stoq, ["hash"], before);
      const run = runs.sort((x, y) => x.seconds - y.seconds)[2];
      const share = run.seconds / runs.reduce((sum, r) => sum + r.seconds, 0);
      return {
        scenario,
        mode,
        files: count,
        bytes: count * 1024,
        rssMb: peakRssMb(),
        ...run,
        // The CPU of the median pass: the five passes' share, as their time.
        cpu: {
          processS: cpu.processS * share,
          coreThreadS: cpu.coreThreadS * share,
          inCallsS: Object.fromEntries(
            Object.entries(cpu.inCallsS).map(([name, s]) => [name, s * share]),
          ),
        },
      };
    } finally {
      await stoq.close();
    }
  }
  if (scenario === "b") {
    const corpus: Corpus = JSON.parse(await Deno.readTextFile(MANIFEST));
    const files = quick ? corpus.files.slice(0, 100) : corpus.files;
    const plugins = ["hash", "mimetype", "yara", "decompress", "b64decode", "xordecode"];
    const bytes = files.reduce((n, f) => n + f.size, 0);
    if (mode === ENGINES_MODE) {
      // As `stoq scan DIR` with `isolation = none`: a whole in-process pipeline per core, each
      // reading its files.
      const engines = await Engines.create({
        count: navigator.hardwareConcurrency,
        stoq: {
          configFile: CONFIG,
          pluginDirList: [PLUGINS],
          alwaysDispatch: ["hash", "mimetype", "yara"],
          dispatchers: ["yara"],
          isolation: "none",
          logLevel: "critical",
        },
        preload: plugins,
      });
      try {
        const before = cpuSeconds("/proc/self/stat");
        const core = cpuSeconds(`/proc/self/task/${Deno.pid}/stat`);
        const run = await drive(files, 2 * navigator.hardwareConcurrency, async (file) => {
          const result = await engines.scanFile(file.path, { filename: file.path });
          return { payloads: result.payloads, errors: result.errors };
        });
        const cpu = {
          processS: cpuSeconds("/proc/self/stat") - before,
          coreThreadS: cpuSeconds(`/proc/self/task/${Deno.pid}/stat`) - core,
          inCallsS: {},
        };
        return { scenario, mode, files: files.length, bytes, rssMb: peakRssMb(), ...run, cpu };
      } finally {
        await engines.close();
      }
    }
    const stoq = await Stoq.create({
      configFile: CONFIG,
      pluginDirList: [PLUGINS],
      alwaysDispatch: ["hash", "mimetype", "yara"],
      dispatchers: ["yara"],
      pluginOpts: perPlugin(plugins),
      isolation,
      logSinks: [],
    });
    try {
      for (const name of plugins) await stoq.loadPlugin(name);
      const before = await cpuReport(stoq, plugins, NO_CPU);
      const run = await drive(files, 2 * navigator.hardwareConcurrency, async (file) => {
        // As `stoq scan` reads a file: a large one straight into shared memory.
        const content = await readFileMaybeShared(file.path, stoq.shareThreshold);
        const response = await stoq.scan(content, {
          payloadMeta: { extraData: { filename: file.path } },
        });
        return { payloads: response.results.length, errors: response.errors.length };
      });
      const cpu = await cpuReport(stoq, plugins, before);
      return { scenario, mode, files: files.length, bytes, rssMb: peakRssMb(), ...run, cpu };
    } finally {
      await stoq.close();
    }
  }
  // (c): one big payload.
  const stoq = await Stoq.create({
    configFile: CONFIG,
    pluginDirList: [PLUGINS],
    alwaysDispatch: ["hash", "yara"],
    dispatchers: [],
    pluginOpts: { yara: { timeout: 0 }, hash: { timeout: 0 } },
    isolation,
    logSinks: [],
  });
  try {
    const content = await readFileMaybeShared(BIG, stoq.shareThreshold);
    const start = performance.now();
    const response = await stoq.scan(content);
    const seconds = (performance.now() - start) / 1000;
    return {
      scenario,
      mode,
      seconds,
      files: 1,
      payloads: response.results.length,
      bytes: content.byteLength,
      rssMb: peakRssMb(),
      errors: response.errors.length,
    };
  } finally {
    await stoq.close();
  }
}

async function timeCommand(cmd: string, args: string[], stdin?: string): Promise<number | null> {
  try {
    const start = performance.now();
    const child = new Deno.Command(cmd, {
      args,
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    if (stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(stdin));
      await writer.close();
    }
    await child.status;
    return (performance.now() - start) / 1000;
  } catch {
    return null;
  }
}

async function ensureInputs(only: Set<string>, quick: boolean) {
  await Deno.mkdir(CORPUS_DIR, { recursive: true });
  if (only.has("b")) {
    try {
      await Deno.stat(MANIFEST);
    } catch {
      const corpus = await buildCorpus(1400, 300_000_000);
      await Deno.writeTextFile(MANIFEST, JSON.stringify(corpus, null, 1) + "\n");
    }
  }
  if (only.has("c")) {
    const size = quick ? 64 << 20 : 1 << 30;
    let have = 0;
    try {
      have = (await Deno.stat(BIG)).size;
    } catch { /* make it */ }
    if (have !== size) {
      const file = await Deno.open(BIG, { write: true, create: true, truncate: true });
      const chunk = new Uint8Array(16 << 20);
      for (let offset = 0, i = 1; offset < size; offset += chunk.byteLength, i++) {
        fill(chunk, i);
        await file.write(chunk);
      }
      file.close();
    }
  }
}

async function main() {
  const at = Deno.args.indexOf("--child");
  const quick = Deno.args.includes("--quick");
  if (at >= 0) {
    const result = await child(Deno.args[at + 1], Deno.args[at + 2], quick);
    console.log(JSON.stringify(result));
    return;
  }
  const onlyAt = Deno.args.indexOf("--only");
  const only = new Set(onlyAt >= 0 ? Deno.args[onlyAt + 1].split(",") : ["a", "b", "c"]);
  await ensureInputs(only, quick);
  const runs: [string, string][] = [];
  if (only.has("a")) runs.push(["a", "sandbox (Workers)"], ["a", "in-process"]);
  if (only.has("b")) {
    runs.push(
      ["b", "sandbox (Workers)"],
      ["b", "worker, 1 instance"],
      ["b", "in-process"],
      ["b", ENGINES_MODE],
    );
  }
  if (only.has("c")) runs.push(["c", "sandbox (Workers)"], ["c", "in-process"]);
  const results: Result[] = [];
  for (const [scenario, mode] of runs) {
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-remote",
        "--cached-only",
        fileURLToPath(import.meta.url),
        "--child",
        scenario,
        mode === "sandbox (Workers)" ? "worker" : mode,
        ...(quick ? ["--quick"] : []),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const line = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1) ?? "";
    const result = JSON.parse(line) as Result;
    result.mode = mode;
    results.push(result);
    console.error(`done: (${scenario}) ${mode}: ${result.seconds.toFixed(2)} s`);
  }

  // The native tools over the same bytes.
  const natives: string[] = [];
  let nativeB: number | null = null;
  const yaraArgs = ["-w", "-p", String(navigator.hardwareConcurrency)];
  if (only.has("b")) {
    const corpus: Corpus = JSON.parse(await Deno.readTextFile(MANIFEST));
    const files = quick ? corpus.files.slice(0, 100) : corpus.files;
    const list = join(CORPUS_DIR, "scan-list.txt");
    await Deno.writeTextFile(list, files.map((f) => f.path).join("\n") + "\n");
    const sha = await timeCommand("xargs", ["-a", list, "-d", "\n", "sha256sum"]);
    const yara = await timeCommand("yara", [
      ...yaraArgs,
      ...RULES,
      ...DISPATCH_RULES,
      "--scan-list",
      list,
    ]);
    if (sha !== null && yara !== null) nativeB = sha + yara;
    natives.push(
      `(b) native over the corpus's ${files.length} files (not their extracted members): sha256sum ${
        sha?.toFixed(2) ?? "n/a"
      } s, yara (stoq.yar + dispatcher.yar, ${navigator.hardwareConcurrency} threads) ${
        yara?.toFixed(2) ?? "n/a"
      } s`,
    );
  }
  let nativeC: number | null = null;
  if (only.has("c")) {
    const sha = await timeCommand("sha256sum", [BIG]);
    const yara = await timeCommand("yara", [...yaraArgs, ...RULES, BIG]);
    if (sha !== null && yara !== null) nativeC = sha + yara;
    natives.push(
      `(c) native: sha256sum ${sha?.toFixed(2) ?? "n/a"} s then yara ${
        yara?.toFixed(2) ?? "n/a"
      } s = ${nativeC?.toFixed(2) ?? "n/a"} s`,
    );
  }

  const rows = [
    "| scenario | mode | files/s | payloads/s | MB/s | p50 / p99 per file | peak RSS | errors | vs native |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const r of results) {
    const latency = r.p50Ms === undefined
      ? "-"
      : `${r.p50Ms.toFixed(2)} / ${r.p99Ms!.toFixed(2)} ms`;
    // (b)'s natives read the corpus's files only; stoq also unpacks and scans their members.
    const native = r.scenario === "c" ? nativeC : r.scenario === "b" ? nativeB : null;
    const vsNative = native !== null
      ? `${(native / r.seconds).toFixed(2)}× native${r.scenario === "b" ? " (files only)" : ""}`
      : "";
    rows.push(
      `| (${r.scenario}) | ${r.mode} | ${(r.files / r.seconds).toFixed(1)} | ${
        (r.payloads / r.seconds).toFixed(0)
      } | ${(r.bytes / r.seconds / 1e6).toFixed(1)} | ${latency} | ${
        r.rssMb.toFixed(0)
      } MB | ${r.errors} | ${vsNative} |`,
    );
  }
  const b = results.filter((r) => r.scenario === "b");
  const pool = b.find((r) => r.mode === "sandbox (Workers)");
  const one = b.find((r) => r.mode === "worker, 1 instance");
  console.log(
    `\n${navigator.hardwareConcurrency} cores, Deno ${Deno.version.deno}, ${Deno.osRelease()}, ${transparentHugePages()}, GLIBC_TUNABLES=${
      Deno.env.get("GLIBC_TUNABLES") ?? "(unset)"
    }${quick ? ", --quick" : ""}\n`,
  );
  console.log(rows.join("\n"));
  console.log("");
  for (const line of natives) console.log(`- ${line}`);
  for (const r of results) {
    if (!r.cpu) continue;
    const calls = Object.entries(r.cpu.inCallsS).filter(([, s]) => s >= 0.005)
      .sort((x, y) => y[1] - x[1]).map(([name, s]) => `${name} ${s.toFixed(2)} s`).join(", ");
    console.log(
      `- (${r.scenario}) ${r.mode}: CPU ${r.cpu.processS.toFixed(2)} s in ${
        r.seconds.toFixed(2)
      } s (${(r.cpu.processS / r.seconds).toFixed(2)} cores), the core's thread ${
        r.cpu.coreThreadS.toFixed(2)
      } s${calls ? `; time in plugin calls: ${calls}` : ""}`,
    );
  }
  if (pool && one) {
    console.log(
      `- (b) pool of Workers vs one instance per plugin: ${
        (one.seconds / pool.seconds).toFixed(2)
      }× the throughput`,
    );
  }
  const single = b.find((r) => r.mode === "in-process");
  const engines = b.find((r) => r.mode === ENGINES_MODE);
  if (single && engines) {
    console.log(
      `- (b) in-process, ${navigator.hardwareConcurrency} engines vs one: ${
        (single.seconds / engines.seconds).toFixed(2)
      }× the throughput`,
    );
  }
}

/** The kernel's transparent huge page mode (what `glibc.malloc.hugetlb=1` relies on). */
function transparentHugePages(): string {
  try {
    const mode = Deno.readTextFileSync("/sys/kernel/mm/transparent_hugepage/enabled");
    return `transparent huge pages: ${mode.match(/\[(\w+)\]/)?.[1] ?? mode.trim()}`;
  } catch {
    return "transparent huge pages: n/a";
  }
}

await main();
