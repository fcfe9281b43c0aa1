/**
 * Shared fixtures of the conformance tests: where the test plugins are, stoQ's test content, and a
 * `withStoq()` that always closes the instance.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { Stoq, type StoqOptions } from "../mod.ts";
import type { LogSink } from "../core/log.ts";

/** `tests/testdata`: the base dir of the conformance tests, with its stoq.cfg. */
export const TESTDATA: string = fileURLToPath(new URL("./testdata", import.meta.url));
/** The test plugins, stoQ's `tests/data/plugins`. */
export const PLUGINS: string = `${TESTDATA}/plugins`;
/** The second plugin directory, for override and multi-directory tests. */
export const PLUGINS2: string = `${TESTDATA}/plugins2`;
/** Plugins that cannot be discovered or loaded. */
export const INVALID_PLUGINS: string = `${TESTDATA}/invalid_plugins`;
/** The repository's `hash` plugin (the only bundled plugin these tests use). */
export const HASH_PLUGIN: string = fileURLToPath(new URL("../plugins/hash", import.meta.url));

/** stoQ's test content. */
export const CONTENT: Uint8Array = new TextEncoder().encode("The quick brown fox");

/** What `withStoq()` hands the test body besides the instance. */
export interface Captured {
  /** Every log line, `LEVEL:logger:message`. */
  lines: string[];
}

/** A log sink keeping every line, down to DEBUG. */
export function captureSink(lines: string[]): LogSink {
  return { level: "debug", write: (line) => lines.push(line) };
}

/**
 * Create a stoq with `tests/testdata` as its base dir (so its stoq.cfg and plugins apply unless
 * overridden), run `body`, and close it whatever happens. Log lines are captured, not printed.
 *
 * The conformance tests check the orchestrator, so their test plugins run in-process
 * (`isolation: "none"`) and record their calls in arrays the tests read. The sandbox has its own
 * tests (`tests/sandbox_*_test.ts`), which run the same kinds of plugins in Workers and subprocesses.
 */
export async function withStoq<T>(
  options: StoqOptions,
  body: (stoq: Stoq, captured: Captured) => T | Promise<T>,
): Promise<T> {
  const lines: string[] = [];
  const stoq = await Stoq.create({
    baseDir: TESTDATA,
    logSinks: [captureSink(lines)],
    isolation: "none",
    ...options,
  });
  try {
    return await body(stoq, { lines });
  } finally {
    await stoq.close();
  }
}

/** Empty recording arrays of the test plugins before a test. */
export function reset(...recorders: unknown[][]): void {
  for (const recorder of recorders) recorder.length = 0;
}

/** Count the items equal to `value`. */
export function count<T>(items: readonly T[], value: T): number {
  return items.filter((item) => item === value).length;
}

const PLUGIN_API = new URL("../plugin_api.ts", import.meta.url).href;

/**
 * Write a one-file test plugin into `dir`: a manifest of `kind` and a module whose `setup()`
 * returns the handlers written in `handlers` (TypeScript source of an object literal).
 */
export async function writePlugin(
  dir: string,
  name: string,
  kind: string,
  handlers: string,
): Promise<void> {
  await Deno.mkdir(`${dir}/${name}`);
  await Deno.writeTextFile(
    `${dir}/${name}/${name}.stoq`,
    `[Core]\nName = ${name}\nModule = mod\nKinds = ${kind}\n\n[Documentation]\nAuthor = test\nVersion = 0.0.1\nDescription = test\n`,
  );
  await Deno.writeTextFile(
    `${dir}/${name}/mod.ts`,
    `import { definePlugin } from "${PLUGIN_API}";\nexport default definePlugin({ setup() { return ${handlers}; } });\n`,
  );
}
