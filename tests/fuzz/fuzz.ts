/**
 * Mutation fuzzer for the whole pipeline: takes real files (seeds), mutates them (bit flips,
 * interesting bytes, truncation, archive-header splices, block copies) and scans each with the
 * default stoq.cfg plus decompress on every payload. Checks that the core never throws, that every
 * response is valid against the response schema, and that every error has a documented kind and,
 * unless the core itself reports it, names its plugin. Plugin exceptions (kind `worker`, `timeout`,
 * `crash`, `invalid_response`) are reported as findings.
 *
 * ```sh
 * deno run -A --no-remote --cached-only tests/fuzz/fuzz.ts --seed 1 --count 2000 \
 *   [--dir DIR ...] [--max-seed-size BYTES] [--save DIR] [--verbose]
 * ```
 *
 * @module
 */
import { Stoq } from "../../mod.ts";
import { SCAN_ERROR_KINDS } from "../../plugin_api.ts";
import { StoqResponseJsonSchema } from "../../core/schemas.ts";
import * as samples from "../_samples.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const CORE_KINDS = new Set([
  "max_recursion",
  "max_payload_size",
  "required_workers_cycle",
  "required_workers_depth",
]);
const FINDING_KINDS = new Set(["worker", "dispatcher", "timeout", "crash", "invalid_response"]);
const MAGIC = [
  "PK\x03\x04",
  "PK\x05\x06",
  "PK\x01\x02",
  "PK\x06\x06",
  "\x1f\x8b\x08",
  "BZh9",
  "\xfd7zXZ\x00",
  "7z\xbc\xaf\x27\x1c",
  "Rar!\x1a\x07\x00",
  "ustar\x0000",
  "!<arch>\n",
  "MSCF\x00\x00\x00\x00",
  "070701",
  "\xed\xab\xee\xdb",
].map((text) => Uint8Array.from(text, (c) => c.charCodeAt(0)));

/** One input that broke an invariant, or made a plugin fail. */
export interface Finding {
  /** Index of the input in the run (re-create it with the same seed). */
  index: number;
  /** The seed file it was mutated from. */
  seed: string;
  /** What happened. */
  problem: string;
}

/** What a run did. */
export interface FuzzReport {
  inputs: number;
  bytes: number;
  milliseconds: number;
  /** Error entries by kind, over all responses. */
  kinds: Record<string, number>;
  /** Invariants broken: the core threw, a response was invalid, an error was unnamed or unknown. */
  violations: Finding[];
  /** Plugins that threw, timed out or crashed (allowed, but worth fixing). */
  findings: Finding[];
}

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mutate `input` 1–4 times, reproducibly for a given `random`. */
export function mutate(input: Uint8Array, random: () => number, seeds: Uint8Array[]): Uint8Array {
  let data: Uint8Array = input.slice();
  const int = (n: number) => Math.floor(random() * n);
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    const at = data.length ? int(data.length) : 0;
    switch (int(7)) {
      case 0: // bit flips
        for (let i = 0, n = 1 + int(8); i < n && data.length; i++) {
          data[int(data.length)] ^= 1 << int(8);
        }
        break;
      case 1: // interesting bytes, often in a length field
        for (let i = 0, n = 1 + int(4); i < n && data.length; i++) {
          data[int(data.length)] = [0, 0xff, 0x7f, 0x80, 0x01, 0xfe][int(6)];
        }
        break;
      case 2: // truncation
        data = data.slice(0, at);
        break;
      case 3: { // splice an archive header in (overwrite)
        const magic = MAGIC[int(MAGIC.length)];
        const out = data.length >= at + magic.length ? data : new Uint8Array(at + magic.length);
        if (out !== data) out.set(data);
        out.set(magic, at);
        data = out;
        break;
      }
      case 4: { // splice a piece of another seed in (insert)
        const other = seeds[int(seeds.length)];
        const from = int(other.length + 1);
        const piece = other.subarray(from, from + 1 + int(4096));
        data = samples.concat([data.subarray(0, at), piece, data.subarray(at)]);
        break;
      }
      case 5: { // copy a block over another place
        const length = 1 + int(512);
        const from = int(Math.max(1, data.length - length));
        data.copyWithin(at, from, from + length);
        break;
      }
      default: { // 32-bit little-endian length field set to an extreme
        if (data.length >= 4) {
          const pos = int(data.length - 3);
          new DataView(data.buffer, data.byteOffset).setUint32(
            pos,
            [0, 0xffffffff, 0x7fffffff, 0x80000000, data.length * 2][int(5)],
            true,
          );
        }
      }
    }
  }
  return data;
}

/** Seeds: the committed decompress samples and the hostile samples, small versions. */
export function defaultSeeds(): Map<string, Uint8Array> {
  const seeds = new Map<string, Uint8Array>();
  const dir = `${ROOT}plugins/decompress/testdata`;
  for (const entry of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isFile && !/\.(json|md|sh)$/.test(entry.name)) {
      seeds.set(entry.name, Deno.readFileSync(`${dir}/${entry.name}`));
    }
  }
  seeds.set("nested.zip", samples.nestedZipBomb({ depth: 2, width: 3, leafSize: 1 << 20 }));
  seeds.set("overlap.zip", samples.overlappingZipBomb({ count: 20, kernelSize: 4096 }));
  seeds.set("bomb.gz", samples.gzipBomb({ members: 4, memberSize: 1 << 20 }));
  seeds.set("recursion.tar", samples.recursionTar());
  seeds.set(
    "links.tar",
    samples.tar([
      { name: "a.txt", data: "regular file" },
      { name: "l", type: "2", linkname: "/etc/passwd" },
      { name: "h", type: "1", linkname: "../x" },
    ]),
  );
  seeds.set(
    "crypto.zip",
    samples.zip([samples.zipCrypto(samples.zipMember("s.txt", "secret text"), "infected")]),
  );
  return seeds;
}

/** Run `count` mutated inputs through a fresh `Stoq` (the repo's stoq.cfg, plus decompress). */
export async function fuzz(options: {
  seed: number;
  count: number;
  seeds: Map<string, Uint8Array>;
  /** Stop starting new inputs after this long. */
  budgetMs?: number;
  onProgress?: (done: number) => void;
  /** Called before each scan (to find an input that hangs). */
  onInput?: (index: number, seed: string, input: Uint8Array) => void;
}): Promise<FuzzReport> {
  const random = prng(options.seed);
  const names = [...options.seeds.keys()];
  const seeds = [...options.seeds.values()];
  const baseDir = await Deno.makeTempDir({ prefix: "stoq_fuzz_" });
  const stoq = await Stoq.create({
    baseDir,
    configFile: `${ROOT}stoq.cfg`,
    pluginDirList: [`${ROOT}plugins`],
    alwaysDispatch: ["hash", "entropy", "mimetype", "yara", "decompress"],
    pluginOpts: { decompress: { allow_read: "${node_modules}/7z-wasm", timeout: 20 } },
    logSinks: [],
  });
  const report: FuzzReport = {
    inputs: 0,
    bytes: 0,
    milliseconds: 0,
    kinds: {},
    violations: [],
    findings: [],
  };
  const started = performance.now();
  try {
    for (let index = 0; index < options.count; index++) {
      if (options.budgetMs && performance.now() - started > options.budgetMs) break;
      const pick = Math.floor(random() * seeds.length);
      const input = mutate(seeds[pick], random, seeds);
      const seed = names[pick];
      report.inputs++;
      report.bytes += input.length;
      options.onInput?.(index, seed, input);
      let json: unknown;
      try {
        const response = await stoq.scan(input, { payloadMeta: { extraData: { filename: seed } } });
        json = JSON.parse(JSON.stringify(response));
      } catch (err) {
        report.violations.push({ index, seed, problem: `scan() threw: ${err}` });
        continue;
      }
      const parsed = StoqResponseJsonSchema.safeParse(json);
      if (!parsed.success) {
        report.violations.push({ index, seed, problem: `invalid response: ${parsed.error}` });
        continue;
      }
      for (const error of parsed.data.errors) {
        report.kinds[error.kind] = (report.kinds[error.kind] ?? 0) + 1;
        if (!(SCAN_ERROR_KINDS as readonly string[]).includes(error.kind)) {
          report.violations.push({
            index,
            seed,
            problem: `unknown kind: ${JSON.stringify(error)}`,
          });
        } else if (!CORE_KINDS.has(error.kind) && !error.plugin_name) {
          report.violations.push({
            index,
            seed,
            problem: `unnamed plugin: ${JSON.stringify(error)}`,
          });
        } else if (FINDING_KINDS.has(error.kind)) {
          report.findings.push({ index, seed, problem: `${error.plugin_name}: ${error.error}` });
        }
      }
      options.onProgress?.(index + 1);
    }
  } finally {
    report.milliseconds = Math.round(performance.now() - started);
    await stoq.close();
    await Deno.remove(baseDir, { recursive: true });
  }
  return report;
}

/** Re-create input `index` of a run, to save or debug it. */
export function inputAt(
  options: { seed: number; index: number; seeds: Map<string, Uint8Array> },
): Uint8Array {
  const random = prng(options.seed);
  const seeds = [...options.seeds.values()];
  let input: Uint8Array = new Uint8Array(0);
  for (let i = 0; i <= options.index; i++) {
    input = mutate(seeds[Math.floor(random() * seeds.length)], random, seeds);
  }
  return input;
}

function addFiles(seeds: Map<string, Uint8Array>, path: string, limit: number) {
  const info = Deno.statSync(path);
  if (info.isFile) {
    if (info.size > 0 && info.size <= limit) seeds.set(path, Deno.readFileSync(path));
    return;
  }
  if (!info.isDirectory) return;
  for (const entry of [...Deno.readDirSync(path)].sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isSymlink) addFiles(seeds, `${path}/${entry.name}`, limit);
  }
}

if (import.meta.main) {
  const args = Deno.args;
  const value = (flag: string, fallback: string) => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : fallback;
  };
  const seed = Number(value("--seed", "1"));
  const count = Number(value("--count", "1000"));
  const seeds = defaultSeeds();
  args.forEach((arg, i) => {
    if (arg === "--dir") addFiles(seeds, args[i + 1], Number(value("--max-seed-size", "100000")));
  });
  const save = value("--save", "");
  const report = await fuzz({
    seed,
    count,
    seeds,
    onProgress: (done) => {
      if (done % 100 === 0) console.error(`${done}/${count}`);
    },
    onInput: args.includes("--verbose")
      ? (index, name, input) => console.error(`#${index} ${name} ${input.length} bytes`)
      : undefined,
  });
  if (save) {
    await Deno.mkdir(save, { recursive: true });
    for (const finding of [...report.violations, ...report.findings]) {
      const input = inputAt({ seed, index: finding.index, seeds });
      await Deno.writeFile(`${save}/input_${seed}_${finding.index}.bin`, input);
    }
  }
  console.log(JSON.stringify({ seed, seedFiles: seeds.size, ...report }, null, 2));
  Deno.exit(report.violations.length > 0 ? 1 : 0);
}
