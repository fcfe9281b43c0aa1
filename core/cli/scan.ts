/**
 * `stoq scan`: scan files, every file under a folder, or standard input, and print each response
 * when no connector is configured.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { StoqError } from "../errors.ts";
import { readFileMaybeShared } from "../shared_bytes.ts";
import { RequestMeta } from "../request.ts";
import { type PluginListing, Stoq } from "../stoq.ts";
import { type EngineResult, Engines, type EngineScanOptions, scanFileWith } from "../engines.ts";
import type { IniFile } from "../config.ts";
import type { StoqResponse } from "../response.ts";
import { type ParsedArgs, UsageError } from "./args.ts";
import { loadCliConfig, requestMetaOf, stoqOptions } from "./setup.ts";
import { Progress, type ProgressSink, stderrProgressSink } from "./progress.ts";
import { formatText as formatTree } from "./text_format.ts";
import { inOrder } from "./in_order.ts";
import type { StoqResponseJson } from "../schemas.ts";
import { TemplateRenderer } from "../templates.ts";

/**
 * Files a folder scan keeps in flight per core. With one per core, `stoq scan` of the benchmark
 * corpus kept 1.4-1.5 of 2 cores busy (start-up included); with two, 1.5-1.6, and it took 1-15% less
 * time in five of six alternating pairs (README, "The eighth session").
 */
const FILES_PER_CORE = 2;
/**
 * Their sizes together, at most: large files go one or a few at a time (a file larger than this
 * alone), so memory stays bounded when a folder holds large archives.
 */
const BYTES_IN_FLIGHT = 256 * 1024 * 1024;
/**
 * Files started and not yet written out, at most: behind a file that takes long (a large archive),
 * the responses of the small files after it wait in memory until it is written, and no more than
 * this many of them.
 */
const RESULTS_HELD = 256;

/** Where the command writes. */
export interface Output {
  /** Standard output. */
  out(text: string): void;
  /** Standard error. */
  err(text: string): void;
  /** Where the progress line of multi-file scans goes (default: standard error, if a terminal). */
  progress?: ProgressSink;
}

/** Run `stoq scan`; returns the exit code. */
export async function scanCommand(args: ParsedArgs, output: Output): Promise<number> {
  const inputs = args.positionals.length > 0 ? expandInputs(args.positionals) : undefined;
  let stdin: Uint8Array | undefined;
  if (!inputs) {
    if (Deno.stdin.isTerminal()) {
      output.err("Error: No content to scan was provided");
      return 2;
    }
    stdin = new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
    if (stdin.byteLength === 0) {
      output.err("Error: The provided content to scan was empty");
      return 2;
    }
  }
  const config = loadCliConfig(args);
  const options = stoqOptions(args, config);
  const requestMeta = requestMetaOf(args);
  const engineCount = enginesOf(args, config.ini);
  // A folder's file as each one is scanned, with engines or without.
  const fileOptions = (file: string, printer: Printer | undefined): EngineScanOptions => ({
    filename: basename(file),
    requestMeta: {
      archivePayloads: requestMeta.archivePayloads,
      source: requestMeta.source,
      extraData: structuredClone(requestMeta.extraData),
    },
    addStartDispatch: args.lists.startDispatch,
    addStartDeepDispatch: args.lists.startDeepDispatch,
    line: printer !== undefined,
  });
  if (inputs && inputs.length > 1 && engineCount > 1) {
    const { config: _parsed, ...plain } = options;
    const engines = await Engines.create({
      count: engineCount,
      stoq: { ...plain, configFile: config.path },
    });
    try {
      const printer = printerOf(args, engines.info.connectors, engines.info.plugins);
      return await scanFiles(
        inputs,
        printer,
        output,
        (file) => engines.scanFile(file, fileOptions(file, printer)),
      );
    } finally {
      await engines.close();
    }
  }
  const stoq = await Stoq.create(options);
  try {
    const printer = printerOf(args, stoq.roles.connectors.size, stoq.listPlugins());
    const scanOne = async (content: Uint8Array, filename: string | null) => {
      const response = await stoq.scan(content, {
        payloadMeta: { extraData: { filename } },
        requestMeta: RequestMeta.fromJSON(structuredClone(requestMeta.toJSON())),
        addStartDispatch: args.lists.startDispatch,
        addStartDeepDispatch: args.lists.startDeepDispatch,
      });
      return response;
    };
    if (stdin) {
      const response = await scanOne(stdin, null);
      if (printer) output.out(printer.one(response));
      return 0;
    }
    const files = inputs!;
    if (files.length === 1) {
      const content = await readFileMaybeShared(files[0], stoq.shareThreshold);
      if (content.byteLength === 0) {
        output.err(`Error: The provided content to scan was empty: "${files[0]}"`);
        return 2;
      }
      const response = await scanOne(content, basename(files[0]));
      if (printer) output.out(printer.one(response));
      return 0;
    }
    return await scanFiles(
      files,
      printer,
      output,
      (file) => scanFileWith(stoq, file, fileOptions(file, printer)),
    );
  } finally {
    await stoq.close();
  }
}

/** How responses are printed: `undefined` when connectors save them instead. */
interface Printer {
  /** A single file's (or standard input's) response: stoQ's indented JSON, or text. */
  one(response: StoqResponse): string;
  /** One of several files' responses: a JSON line, or the file's name and text. */
  line(file: string, result: EngineResult): string;
}

function printerOf(
  args: ParsedArgs,
  connectors: number,
  plugins: Record<string, PluginListing>,
): Printer | undefined {
  if (connectors > 0) return undefined;
  const renderer = args.values.template === undefined ? undefined : new TemplateRenderer(
    args.values.template,
    new Map(Object.entries(plugins).map(([name, p]) => [name, dirname(p.manifest)])),
  );
  const formatText = (json: StoqResponseJson) =>
    renderer ? renderer.render(json).trimEnd() : formatTree(json);
  if (args.values.format !== "text" && renderer === undefined) {
    return { one: (response) => response.toString(), line: (_file, result) => result.line };
  }
  return {
    one: (response) => formatText(response.toJSON()),
    line: (file, result) => `${file}\n${formatText(JSON.parse(result.line))}\n`,
  };
}

/**
 * Memory an engine is counted for when `--engines` is not given: its plugins, heap and files in
 * flight (one in-process engine over the benchmark's corpus peaked at 0.36-0.38 GB, two at 0.62).
 */
const ENGINE_MEMORY = 512 * 1024 * 1024;

/**
 * How many engines a scan of several files runs: `--engines N`, else the cores when stoq.cfg runs
 * plugins in-process (`[core] isolation = none`: one engine uses one core), as many as the memory
 * available holds at `ENGINE_MEMORY` each; else 1 (the sandbox's plugin Workers already use the
 * cores).
 */
export function enginesOf(
  args: ParsedArgs,
  ini: IniFile,
  available: () => number = () => Deno.systemMemoryInfo().available,
): number {
  const given = args.values.engines;
  if (given !== undefined) {
    if (!/^[1-9]\d*$/.test(given.trim())) {
      throw new UsageError(
        `Option "--engines" needs a whole number of at least 1, got "${given}"`,
        args.command,
      );
    }
    return Number(given);
  }
  const isolation = ini.hasSection("core") ? ini.get("core", "isolation") : undefined;
  if (isolation?.trim().toLowerCase() !== "none") return 1;
  let fit = Infinity;
  try {
    fit = Math.floor(available() / ENGINE_MEMORY);
  } catch {
    // Not readable here (no sys permission, another OS): the cores alone decide.
  }
  return Math.max(1, Math.min(navigator.hardwareConcurrency || 1, fit));
}

/** Scan several files, printing their responses in order as they end. */
async function scanFiles(
  files: string[],
  printer: Printer | undefined,
  output: Output,
  scan: (file: string) => Promise<EngineResult>,
): Promise<number> {
  let failed = 0;
  const progress = new Progress(files.length, output.progress ?? stderrProgressSink());
  await inOrder(files, {
    limit: FILES_PER_CORE * (navigator.hardwareConcurrency || 1),
    budget: BYTES_IN_FLIGHT,
    window: RESULTS_HELD,
    sizeOf: async (file) => (await Deno.stat(file)).size,
    work: scan,
    done: (file, result) => {
      progress.done(result instanceof Error || result.errors > 0);
      if (result instanceof Error) {
        failed++;
        if (progress.drawing) output.err("");
        output.err(`Error: Cannot scan "${file}": ${result.message}`);
        return;
      }
      if (printer) output.out(printer.line(file, result));
    },
  });
  progress.finish();
  return failed > 0 ? 1 : 0;
}

/** Files given, with folders expanded to every file under them (sorted, recursively). */
export function expandInputs(paths: string[]): string[] {
  const out: string[] = [];
  for (const path of paths) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(path);
    } catch (err) {
      throw new StoqError(
        `Cannot read "${path}": ${
          err instanceof Error ? err.message.replace(/[:,] (stat|lstat) .*$/, "") : err
        }`,
      );
    }
    if (info.isDirectory) out.push(...walk(path));
    else out.push(path);
  }
  return out;
}

function walk(dir: string): string[] {
  const entries = [...Deno.readDirSync(dir)].sort((a, b) => (a.name < b.name ? -1 : 1));
  const out: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...walk(path));
    else if (entry.isFile) out.push(path);
  }
  return out;
}
