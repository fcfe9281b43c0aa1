/**
 * `Request` and `RequestMeta`: the state of one scan, shared with dispatchers, workers and
 * archivers.
 *
 * @module
 */
import { dumps } from "./dumps.ts";
import type { Payload } from "./payload.ts";
import type { ScanError } from "./scan_error.ts";
import type { RequestMetaJson } from "./schemas.ts";

/** Options of `RequestMeta`. */
export interface RequestMetaInit {
  /** Archive the payloads with the dest archivers (default true). */
  archivePayloads?: boolean;
  /** Where the request came from. */
  source?: string | null;
  /** Free-form metadata. */
  extraData?: Record<string, unknown>;
}

/** Metadata about a request. */
export class RequestMeta {
  /** Archive the payloads with the dest archivers. */
  archivePayloads: boolean;
  /** Where the request came from. */
  source: string | null;
  /** Free-form metadata. */
  extraData: Record<string, unknown>;

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { RequestMeta } from "./request.ts";
   * const meta = new RequestMeta({ source: "example" });
   * assert.equal(meta.isDefault(), false);
   * assert.equal(new RequestMeta().isDefault(), true);
   * ```
   */
  constructor(init: RequestMetaInit = {}) {
    this.archivePayloads = init.archivePayloads ?? true;
    this.source = init.source ?? null;
    this.extraData = init.extraData ?? {};
  }

  /** True when every field has its default value (stoQ's `== RequestMeta()`). */
  isDefault(): boolean {
    return this.archivePayloads && this.source === null &&
      Object.keys(this.extraData).length === 0;
  }

  /** stoQ's JSON shape. */
  toJSON(): RequestMetaJson {
    return {
      archive_payloads: this.archivePayloads,
      source: this.source,
      extra_data: this.extraData,
    };
  }

  /** Rebuild from stoQ's JSON shape. */
  static fromJSON(json: RequestMetaJson): RequestMeta {
    return new RequestMeta({
      archivePayloads: json.archive_payloads,
      source: json.source,
      extraData: json.extra_data,
    });
  }

  /** JSON with an indent of 4, as stoQ's `str()` gives it. */
  toString(): string {
    return dumps(this);
  }
}

/** Options of `Request`. */
export interface RequestInit {
  /** The payloads (default none). */
  payloads?: Payload[];
  /** The request's metadata (default `new RequestMeta()`); a plain object is made one. */
  requestMeta?: RequestMeta | RequestMetaInit;
  /** Errors so far (default none). */
  errors?: ScanError[];
}

/** The state of one scan: every payload so far, the request's metadata, and its errors. */
export class Request {
  /** Every payload so far: the initial ones, then the extracted ones. */
  readonly payloads: Payload[];
  /** The request's metadata. */
  requestMeta: RequestMeta;
  /** Errors so far. */
  readonly errors: ScanError[];

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Payload } from "./payload.ts";
   * import { Request } from "./request.ts";
   * const request = new Request({ payloads: [new Payload("hi")] });
   * assert.equal(request.payloads.length, 1);
   * assert.equal(request.requestMeta.archivePayloads, true);
   * ```
   */
  constructor(init: RequestInit = {}) {
    this.payloads = init.payloads ?? [];
    this.requestMeta = init.requestMeta instanceof RequestMeta
      ? init.requestMeta
      : new RequestMeta(init.requestMeta);
    this.errors = init.errors ?? [];
  }
}
