/**
 * `ScanError`: stoQ's `Error` data class, one entry of a response's `errors`.
 *
 * @module
 */
import { dumps } from "./dumps.ts";
import type { ScanErrorJson } from "./schemas.ts";

/**
 * Every `kind` the core and the built-in plugins give an error entry, in a stable order. stoQ v3
 * has only the `error` text; `kind` is stoq's addition, so consumers can count failures by type
 * without parsing text. A kind is never renamed or reused for something else; new kinds are only
 * added. Third-party plugins may report kinds of their own (any string): prefer one of these.
 *
 * | kind | meaning |
 * | --- | --- |
 * | `plugin` | a plugin reported the error itself without a kind (the default) |
 * | `worker`, `dispatcher`, `archiver`, `decorator`, `connector` | that role's call threw |
 * | `plugin_load` | a dispatched plugin could not be loaded |
 * | `invalid_response` | a plugin returned something the core cannot use |
 * | `required_workers_cycle`, `required_workers_depth` | `required_workers` loop, or nesting past `max_required_worker_depth` |
 * | `required_workers_unmet` | a worker never ran because its required workers did not |
 * | `max_recursion` | a payload came out of the final round (`max_recursion`), or a worker was left for after it |
 * | `max_payload_size` | a payload larger than `max_payload_size` was not scanned |
 * | `tlp` | a plugin did not see a payload (or response) above its `max_tlp` |
 * | `timeout` | a plugin call passed its `timeout` |
 * | `crash` | a plugin's instance died (exit, heap, uncaught error outside a call) |
 * | `max_member_size` | an archive member passed a size limit (decompress `maximum_size`) |
 * | `max_total_size` | an archive's members passed their total (decompress `maximum_total_size`) |
 * | `max_members` | an archive had more members than allowed (decompress `maximum_members`) |
 * | `max_ratio` | a member's compression ratio passed the limit (decompress `maximum_ratio`) |
 * | `overlapping_members` | archive members share data (an overlapping-entry zip bomb) |
 * | `corrupt` | damaged or truncated data; what could be read was kept |
 * | `encrypted` | no password in the list opened an encrypted member or archive |
 * | `unsupported` | a feature of the format the plugin does not read |
 */
export const SCAN_ERROR_KINDS = [
  "plugin",
  "worker",
  "dispatcher",
  "archiver",
  "decorator",
  "connector",
  "plugin_load",
  "invalid_response",
  "required_workers_cycle",
  "required_workers_depth",
  "required_workers_unmet",
  "max_recursion",
  "max_payload_size",
  "tlp",
  "timeout",
  "crash",
  "max_member_size",
  "max_total_size",
  "max_members",
  "max_ratio",
  "overlapping_members",
  "corrupt",
  "encrypted",
  "unsupported",
] as const;

/** What went wrong: one of `SCAN_ERROR_KINDS`. */
export type ScanErrorKind = typeof SCAN_ERROR_KINDS[number];

/** True when `kind` is one of the documented `SCAN_ERROR_KINDS`. */
export function isScanErrorKind(kind: string): kind is ScanErrorKind {
  return (SCAN_ERROR_KINDS as readonly string[]).includes(kind);
}

/** Options of `ScanError`. */
export interface ScanErrorInit {
  /** The plugin the error is about. */
  pluginName?: string | null;
  /** The payload the error is about. */
  payloadId?: string | null;
  /** What went wrong (default "plugin"); plugins may use kinds outside `SCAN_ERROR_KINDS`. */
  kind?: ScanErrorKind | (string & Record<never, never>);
}

/** One error recorded during a scan (stoQ's `Error`). */
export class ScanError {
  /** The message. */
  readonly error: string;
  /** The plugin the error is about, if any. */
  readonly pluginName: string | null;
  /** The payload the error is about, if any. */
  readonly payloadId: string | null;
  /** What went wrong. */
  readonly kind: string;

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ScanError } from "./scan_error.ts";
   * const err = new ScanError("Test error please ignore", { pluginName: "simple_worker" });
   * assert.equal(
   *   JSON.stringify(err),
   *   '{"error":"Test error please ignore","plugin_name":"simple_worker","payload_id":null,"kind":"plugin"}',
   * );
   * ```
   */
  constructor(error: string, init: ScanErrorInit = {}) {
    this.error = error;
    this.pluginName = init.pluginName ?? null;
    this.payloadId = init.payloadId ?? null;
    this.kind = init.kind ?? "plugin";
  }

  /** stoQ's JSON shape, plus `kind`. */
  toJSON(): ScanErrorJson {
    return {
      error: this.error,
      plugin_name: this.pluginName,
      payload_id: this.payloadId,
      kind: this.kind,
    };
  }

  /** Rebuild from JSON. */
  static fromJSON(json: ScanErrorJson): ScanError {
    return new ScanError(json.error, {
      pluginName: json.plugin_name,
      payloadId: json.payload_id,
      kind: json.kind,
    });
  }

  /** JSON with an indent of 4, as stoQ's `str()` gives it. */
  toString(): string {
    return dumps(this);
  }
}
