/**
 * `ScanError`: stoQ's `Error` data class, one entry of a response's `errors`.
 *
 * @module
 */
import { dumps } from "./dumps.ts";
import type { ScanErrorJson } from "./schemas.ts";

/**
 * What went wrong, stable for consumers to count. stoQ v3 has only the `error` text; the `kind`
 * field is stoq's addition.
 */
export type ScanErrorKind =
  | "plugin" // a plugin reported the error itself, in its response
  | "worker" // a worker threw
  | "dispatcher" // a dispatcher threw
  | "archiver" // a dest archiver threw
  | "decorator" // a decorator threw
  | "connector" // a connector threw
  | "plugin_load" // a dispatched plugin could not be loaded
  | "invalid_response" // a plugin returned something the core cannot use
  | "required_workers_cycle"
  | "required_workers_depth"
  | "required_workers_unmet" // a worker never ran because its required workers did not
  | "max_recursion" // an extracted payload came out of the final round
  | "timeout"
  | "crash";

/** Options of `ScanError`. */
export interface ScanErrorInit {
  /** The plugin the error is about. */
  pluginName?: string | null;
  /** The payload the error is about. */
  payloadId?: string | null;
  /** What went wrong (default "plugin"). */
  kind?: ScanErrorKind | string;
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
