/**
 * Loads YARA-X: the Node-API binding of `@litko/yara-x` for Linux x64 (glibc), opened directly with
 * `process.dlopen`. The package's own `index.js` is skipped on purpose: it reads `/usr/bin/ldd` and
 * may run `ldd --version` to pick a binding, which would need read and run permissions; opening the
 * binding needs only ffi access to its folder.
 *
 * @module
 */
import process from "node:process";
import { fileURLToPath } from "node:url";
// A static import puts the package in the module graph, so Deno installs it into node_modules.
import bindingPackage from "@litko/yara-x-linux-x64-gnu/package.json" with { type: "json" };

/** One pattern match as the binding reports it (`data` is lossy text: use offset and length). */
export interface EngineMatchData {
  offset: number;
  length: number;
  data: string;
  identifier: string;
}

/** One matching rule as the binding reports it. */
export interface EngineRuleMatch {
  ruleIdentifier: string;
  namespace: string;
  /** Booleans and non-UTF-8 strings come back as `"unknown"`. */
  meta: Record<string, unknown>;
  tags: string[];
  matches: EngineMatchData[];
}

/** A compiler warning. */
export interface EngineWarning {
  code: string;
  message: string;
}

/** Compiled rules. */
export interface EngineRules {
  scan(data: Uint8Array): EngineRuleMatch[];
  getWarnings(): EngineWarning[];
}

/** Compiler options of the binding (the subset used here). */
export interface EngineCompileOptions {
  enableIncludes?: boolean;
  includeDirectories?: string[];
}

/** The binding's exports (the subset used here). */
export interface Engine {
  compile(source: string, options?: EngineCompileOptions): EngineRules;
}

/** The binding's folder as stoq's node_modules links it; `[Permissions] ffi` names this folder. */
const LINKED = new URL(
  `../../node_modules/@litko/yara-x-linux-x64-gnu/${bindingPackage.main}`,
  import.meta.url,
);

let engine: Engine | undefined;

/**
 * Open the binding once per process (a Node-API module must not be initialised twice).
 *
 * @example
 * ```ts ignore
 * const rules = loadEngine().compile('rule a { strings: $a = "x" condition: $a }');
 * ```
 */
export function loadEngine(): Engine {
  if (engine) return engine;
  const candidates = [
    fileURLToPath(LINKED),
    fileURLToPath(import.meta.resolve(`@litko/yara-x-linux-x64-gnu/${bindingPackage.main}`)),
  ];
  let firstError: unknown;
  for (const path of candidates) {
    try {
      const module = { exports: {} as Engine };
      process.dlopen(module, path);
      engine = module.exports;
      return engine;
    } catch (err) {
      firstError ??= err;
    }
  }
  throw new Error(
    `Cannot open the YARA-X binding "${candidates[0]}": ${
      firstError instanceof Error ? firstError.message : String(firstError)
    }`,
    { cause: firstError },
  );
}
