/**
 * The error classes stoq throws. Callers catch these by class; everything else is a bug.
 *
 * @module
 */

/** Base class of every error stoq throws on purpose. */
export class StoqError extends Error {
  /**
   * @example
   * ```ts
   * import { StoqError } from "./errors.ts";
   * const err = new StoqError("No activated provider plugins");
   * console.assert(err.name === "StoqError");
   * ```
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/** A plugin name that discovery did not find (stoQ's `StoqPluginNotFound`). */
export class PluginNotFoundError extends StoqError {}

/** A plugin that exists but cannot be loaded or called (stoQ's `StoqPluginException`). */
export class PluginError extends StoqError {
  /** The plugin's name. */
  readonly plugin: string;
  /**
   * @example
   * ```ts
   * import { PluginError } from "./errors.ts";
   * const err = new PluginError("hash", "Cannot load plugin \"hash\": boom");
   * console.assert(err.plugin === "hash");
   * ```
   */
  constructor(plugin: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.plugin = plugin;
  }
}

/** A plugin call that did not answer within its timeout. */
export class PluginTimeoutError extends PluginError {}

/** A sandboxed plugin that died during a call: it threw outside a call, exited or ran out of memory. */
export class PluginCrashError extends PluginError {}

/** A plugin (or its manifest) asked for a permission its kind may not have. */
export class PermissionDeniedError extends PluginError {}

/** A configuration file or value that cannot be used; names the file and line where known. */
export class ConfigError extends SyntaxError {
  /** The file the error is in, when known. */
  readonly file?: string;
  /** The 1-based line the error is on, when known. */
  readonly line?: number;
  /**
   * @example
   * ```ts
   * import { ConfigError } from "./errors.ts";
   * const err = new ConfigError("bad", { file: "stoq.cfg", line: 3 });
   * console.assert(err.line === 3 && err.name === "ConfigError");
   * ```
   */
  constructor(message: string, options: ErrorOptions & { file?: string; line?: number } = {}) {
    super(message, options);
    this.name = this.constructor.name;
    this.file = options.file;
    this.line = options.line;
  }
}
