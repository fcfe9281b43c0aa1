/**
 * `stoq scan`: scan files, every file under a folder, or standard input, and print each response
 * when no connector is configured.
 *
 * @module
 */
import { basename, dirname, join } from "node:path";
import { dumps } from "../dumps.ts";
import { StoqError } from "../errors.ts";
import { readFileMaybeShared } from "../shared_bytes.ts";
import { RequestMeta } from "../request.ts";
import { Stoq } from "../stoq.ts";
import type { ParsedArgs } from "./args.ts";
import { loadCliConfig, requestMetaOf, stoqOptions } from "./setup.ts";
import { Progress, type ProgressSink, stderrProgressSink } from "./progress.ts";
import { formatText as formatTree } from "./text_format.ts";
import type { StoqResponseJson } from "../schemas.ts";
import { TemplateRenderer } from "../templates.ts";

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
  const stoq = await Stoq.create(stoqOptions(args, config));
  try {
    const requestMeta = requestMetaOf(args);
    const print = stoq.roles.connectors.size === 0;
    const renderer = args.values.template === undefined ? undefined : new TemplateRenderer(
      args.values.template,
      new Map(
        Object.entries(stoq.listPlugins()).map(([name, p]) => [name, dirname(p.manifest)]),
      ),
    );
    const text = args.values.format === "text" || renderer !== undefined;
    const formatText = (json: StoqResponseJson) =>
      renderer ? renderer.render(json).trimEnd() : formatTree(json);
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
      if (print) output.out(text ? formatText(response.toJSON()) : response.toString());
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
      if (print) output.out(text ? formatText(response.toJSON()) : response.toString());
      return 0;
    }
    let failed = 0;
    const progress = new Progress(files.length, output.progress ?? stderrProgressSink());
    await inOrder(files, navigator.hardwareConcurrency || 2, async (file) => {
      const content = await readFileMaybeShared(file, stoq.shareThreshold);
      return await scanOne(content, basename(file));
    }, (file, result) => {
      progress.done(result instanceof Error || result.errors.length > 0);
      if (result instanceof Error) {
        failed++;
        if (progress.drawing) output.err("");
        output.err(`Error: Cannot scan "${file}": ${result.message}`);
        return;
      }
      if (!print) return;
      output.out(text ? `${file}\n${formatText(result.toJSON())}\n` : dumps(result, { indent: 0 }));
    });
    progress.finish();
    return failed > 0 ? 1 : 0;
  } finally {
    await stoq.close();
  }
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

/** Run `work` on items with a concurrency limit, handing results to `done` in input order. */
async function inOrder<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>,
  done: (item: T, result: R | Error) => void,
): Promise<void> {
  const results = new Map<number, R | Error>();
  let nextToEmit = 0;
  let nextToStart = 0;
  const flush = () => {
    while (results.has(nextToEmit)) {
      done(items[nextToEmit], results.get(nextToEmit)!);
      results.delete(nextToEmit++);
    }
  };
  const runner = async () => {
    while (nextToStart < items.length) {
      const index = nextToStart++;
      try {
        results.set(index, await work(items[index]));
      } catch (err) {
        results.set(index, err instanceof Error ? err : new Error(String(err)));
      }
      flush();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
  flush();
}
