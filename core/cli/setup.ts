/**
 * Turns a parsed command line into `Stoq` options: which stoq.cfg, which plugin directories,
 * `--plugin-opts` and `--request-extra` values.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type IniFile, readIniFile } from "../config.ts";
import { RequestMeta } from "../request.ts";
import type { StoqOptions } from "../stoq.ts";
import { isPluginOpt, type ParsedArgs, UsageError } from "./args.ts";

/** The folder holding cli.ts, the built-in stoq.cfg and plugins/. */
export const HOME_DIR: string = resolve(
  dirname(fileURLToPath(new URL("../../cli.ts", import.meta.url))),
);

/** The configuration the CLI runs with, and where it came from. */
export interface CliConfig {
  /** The parsed stoq.cfg. */
  ini: IniFile;
  /** Its path. */
  path: string;
  /** The base directory (`$STOQ_HOME`, else the folder of the built-in configuration). */
  baseDir: string;
}

/**
 * Pick stoq.cfg: `--config-file`, else `$STOQ_HOME/stoq.cfg` when it exists, else the built-in one.
 * A named file that cannot be read is a `ConfigError`.
 */
export function loadCliConfig(args: ParsedArgs): CliConfig {
  const home = Deno.env.get("STOQ_HOME");
  const explicit = args.values.configFile;
  if (explicit) {
    const path = resolve(explicit);
    return {
      ini: readIniFile(path, { allowNoValue: true }),
      path,
      baseDir: home ? resolve(home) : dirname(path),
    };
  }
  if (home) {
    const path = join(resolve(home), "stoq.cfg");
    if (exists(path)) {
      return { ini: readIniFile(path, { allowNoValue: true }), path, baseDir: resolve(home) };
    }
  }
  const path = join(HOME_DIR, "stoq.cfg");
  return {
    ini: readIniFile(path, { allowNoValue: true }),
    path,
    baseDir: home ? resolve(home) : HOME_DIR,
  };
}

/** Build the options of `Stoq.create()` from the command line and the configuration. */
export function stoqOptions(args: ParsedArgs, config: CliConfig): StoqOptions {
  const listed = config.ini.hasSection("core")
    ? config.ini.getList("core", "plugin_dir_list")
    : undefined;
  const cfgDirs = (listed ?? ["plugins"]).map((dir) => resolve(dirname(config.path), dir));
  const pluginDirList = unique([
    join(HOME_DIR, "plugins"),
    ...cfgDirs,
    ...(args.lists.pluginDir ?? []).map((dir) => resolve(dir)),
  ]);
  const list = (key: string) => args.lists[key];
  const maxRecursion = args.values.maxRecursion;
  let recursion: number | undefined;
  if (maxRecursion !== undefined) {
    recursion = Number(maxRecursion);
    if (!Number.isInteger(recursion) || recursion < 1) {
      throw new UsageError(
        `Option "--max-recursion" needs a whole number of at least 1, got "${maxRecursion}"`,
        args.command,
      );
    }
  }
  const passes = args.values.maxDispatchPasses;
  if (passes !== undefined && !/^[1-9]\d*$/.test(passes.trim())) {
    throw new UsageError(
      `Option "--max-dispatch-passes" needs a whole number of at least 1, got "${passes}"`,
      args.command,
    );
  }
  const maxPayloadSize = args.values.maxPayloadSize;
  if (maxPayloadSize !== undefined && !/^\d+$/.test(maxPayloadSize)) {
    throw new UsageError(
      `Option "--max-payload-size" needs a whole number of bytes, got "${maxPayloadSize}"`,
      args.command,
    );
  }
  return {
    baseDir: config.baseDir,
    config: config.ini,
    logLevel: args.values.logLevel,
    pluginDirList,
    pluginOpts: parsePluginOpts(list("pluginOpts") ?? [], args),
    pluginOptsOrigin: "--plugin-opts",
    providers: list("providers"),
    sourceArchivers: list("sourceArchivers"),
    destArchivers: list("destArchivers"),
    connectors: list("connectors"),
    dispatchers: list("dispatchers"),
    deepDispatchers: list("deepDispatchers"),
    maxDispatchPasses: passes === undefined ? undefined : Number(passes),
    decorators: list("decorators"),
    alwaysDispatch: list("alwaysDispatch"),
    maxRecursion: recursion,
    maxPayloadSize: maxPayloadSize === undefined ? undefined : Number(maxPayloadSize),
  };
}

/** `--request-source` and `--request-extra` as a `RequestMeta`. */
export function requestMetaOf(args: ParsedArgs): RequestMeta {
  const extraData: Record<string, unknown> = {};
  for (const item of args.lists.requestExtra ?? []) {
    const eq = item.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(`Option "--request-extra" needs KEY=VALUE, got "${item}"`, args.command);
    }
    const value = item.slice(eq + 1);
    const lower = value.toLowerCase();
    extraData[item.slice(0, eq)] = lower === "true" ? true : lower === "false" ? false : value;
  }
  return new RequestMeta({ source: args.values.requestSource ?? null, extraData });
}

/** `--plugin-opts NAME:KEY=VALUE`: split at the first `:`, then the first `=`. */
export function parsePluginOpts(
  items: string[],
  args: ParsedArgs,
): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const item of items) {
    if (!isPluginOpt(item)) {
      throw new UsageError(
        `Option "--plugin-opts" needs NAME:KEY=VALUE, got "${item}"`,
        args.command,
      );
    }
    const colon = item.indexOf(":");
    const eq = item.indexOf("=", colon + 1);
    (out[item.slice(0, colon)] ??= {})[item.slice(colon + 1, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** True when a path exists. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
