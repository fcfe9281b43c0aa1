/**
 * stoq: the stoQ file-analysis framework on Deno. A payload goes in; plugins identify it, hash it,
 * match rules against it, pull out what is embedded in it and scan that too, recursively; one JSON
 * response per request comes out to connectors.
 *
 * @example
 * ```ts ignore
 * import { Stoq } from "./mod.ts";
 * const stoq = await Stoq.create({ pluginDirList: ["plugins"], alwaysDispatch: ["hash"] });
 * const response = await stoq.scan("The quick brown fox");
 * console.log(response.toString());
 * await stoq.close();
 * ```
 *
 * @module
 */
export { Stoq } from "./core/stoq.ts";
export type { PluginListing, RunOptions, ScanOptions, StoqOptions } from "./core/stoq.ts";
export { PluginHandle } from "./core/plugin_handle.ts";
export { Engines } from "./core/engines.ts";
export type {
  EngineInfo,
  EngineResult,
  EngineScanOptions,
  EnginesOptions,
  EngineStoqOptions,
} from "./core/engines.ts";
export {
  ConfigError,
  PermissionDeniedError,
  PluginError,
  PluginNotFoundError,
  PluginTimeoutError,
  StoqError,
} from "./core/errors.ts";
export * from "./plugin_api.ts";
export { dumps } from "./core/dumps.ts";
export { type IniFile, parseIni, readIniFile } from "./core/config.ts";
