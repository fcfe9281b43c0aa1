/**
 * Bytes the core's thread allocates per scan, by the function that allocates them: scenario (a)'s
 * payloads (10,000 of 1 KiB, 64 in flight) through one worker plugin, sampled with V8's heap
 * profiler after three warm-up passes. Young garbage is what the collector spends its time on
 * (about a fifth of the core's thread in scenario (a)), so this is the figure a change to the
 * core's hot path should move. It does not depend on the machine's speed, unlike a rate.
 *
 * Run: `deno run -A --no-remote --cached-only bench/allocations.ts [--mode worker|in-process]
 * [--plugin noop|hash] [--top 30]`
 *
 * @module
 */
import { Session } from "node:inspector";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { Stoq } from "../mod.ts";

/** A node of V8's sampling heap profile. */
interface SampleNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SampleNode[];
}

const { values } = parseArgs({
  options: {
    mode: { type: "string", default: "worker" },
    plugin: { type: "string", default: "noop" },
    top: { type: "string", default: "30" },
  },
});
const items = Array.from({ length: 10_000 }, (_, i) => new Uint8Array(1024).fill(i & 255));
const stoq = await Stoq.create({
  configFile: fileURLToPath(new URL("../stoq.cfg", import.meta.url)),
  pluginDirList: [
    fileURLToPath(new URL("../plugins", import.meta.url)),
    fileURLToPath(new URL("./plugins", import.meta.url)),
  ],
  alwaysDispatch: [values.plugin],
  dispatchers: [],
  isolation: values.mode === "in-process" ? "none" : "worker",
  logSinks: [],
});

async function pass(): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < items.length) await stoq.scan(items[next++]);
  }));
}

const session = new Session();
session.connect();
const post = <T>(method: string, params: object = {}) =>
  new Promise<T>((resolve, reject) =>
    session.post(method, params, (err, result) => err ? reject(err) : resolve(result as T))
  );

try {
  for (let i = 0; i < 3; i++) await pass();
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await pass();
  const { profile } = await post<{ profile: { head: SampleNode } }>("HeapProfiler.stopSampling");
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: SampleNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const site = `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${
      lineNumber + 1
    }`;
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  console.log(
    `${values.mode} ${values.plugin}: ${
      Math.round(total / items.length)
    } bytes allocated per scan on the core's thread (lines are those of the transpiled code)`,
  );
  const top = [...bySite].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
  for (const [site, bytes] of top) {
    console.log(`${String(Math.round(bytes / items.length)).padStart(7)}  ${site}`);
  }
} finally {
  session.disconnect();
  await stoq.close();
}
