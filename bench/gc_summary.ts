/**
 * What V8's collector did, per isolate, from the `--trace-gc-nvp` lines of a run on standard input:
 * young-generation collections (scavenges), their pauses, the helper threads' share of them, and
 * the bytes allocated, surviving and promoted to the old generation, per scan. Unlike a rate, these
 * move little with the machine's speed: what survives a collection is what the code keeps alive.
 *
 * Run: `deno run -A --no-remote --cached-only --v8-flags=--trace-gc-nvp bench/overhead.ts --plugin
 * hash 2>&1 | deno run bench/gc_summary.ts --scans 110000` (overhead.ts scans its 10,000 payloads
 * eleven times: a warm-up pass and ten passes; lines that are not the collector's are ignored).
 *
 * @module
 */
import { parseArgs } from "node:util";

/** Totals of one isolate. */
interface Totals {
  scavenges: number;
  pauseMs: number;
  helpersMs: number;
  allocated: number;
  survived: number;
  promoted: number;
  fullCollections: number;
  fullPauseMs: number;
}

const { values } = parseArgs({ options: { scans: { type: "string", default: "110000" } } });
const scans = Number(values.scans);
const text = await new Response(Deno.stdin.readable).text();
const byIsolate = new Map<string, Totals>();
for (const line of text.split("\n")) {
  const match = line.match(/^\[\d+:(0x[0-9a-f]+)[^\]]*\].*GC: (\{.*\})\s*$/);
  if (!match) continue;
  let gc: Record<string, number | string>;
  try {
    gc = JSON.parse(match[2]);
  } catch {
    continue; // a line cut by another thread's output
  }
  const totals = byIsolate.get(match[1]) ?? {
    scavenges: 0,
    pauseMs: 0,
    helpersMs: 0,
    allocated: 0,
    survived: 0,
    promoted: 0,
    fullCollections: 0,
    fullPauseMs: 0,
  };
  const number = (key: string) => typeof gc[key] === "number" ? gc[key] as number : 0;
  if (gc.gc === "s") {
    totals.scavenges++;
    totals.pauseMs += number("pause");
    totals.helpersMs += number("background.scavenge.parallel");
    totals.allocated += number("allocated");
    totals.survived += number("new_space_survived");
    totals.promoted += number("promoted");
  } else {
    totals.fullCollections++;
    totals.fullPauseMs += number("pause");
  }
  byIsolate.set(match[1], totals);
}
if (byIsolate.size === 0) {
  console.error("No --trace-gc-nvp lines on standard input");
  Deno.exit(1);
}
const perScan = (value: number, digits = 0) => (value / scans).toFixed(digits);
for (const [isolate, t] of byIsolate) {
  console.log(
    `isolate ${isolate}: ${t.scavenges} scavenges, pauses ${
      perScan(t.pauseMs * 1000, 2)
    } µs per scan, helper threads ${perScan(t.helpersMs * 1000, 2)} µs per scan; per scan ${
      perScan(t.allocated)
    } bytes allocated, ${perScan(t.survived)} survived, ${
      perScan(t.promoted)
    } promoted; ${t.fullCollections} full collections (${t.fullPauseMs.toFixed(0)} ms)`,
  );
}
