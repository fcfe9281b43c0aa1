/**
 * `StoqResponse`, the one JSON document a scan produces, and the response classes plugins may
 * return (`WorkerResponse`, `DispatcherResponse`, `ArchiverResponse`, `DecoratorResponse`).
 *
 * @module
 */
import { dumps } from "./dumps.ts";
import { ExtractedPayload, PayloadResults } from "./payload.ts";
import { type Request, RequestMeta } from "./request.ts";
import { ScanError } from "./scan_error.ts";
import type { PayloadResultsJson, StoqResponseJson } from "./schemas.ts";

/** Options of `StoqResponse`. */
export interface StoqResponseInit {
  /** When the scan finished (default now, local time without zone, as stoQ writes it). */
  time?: string;
  /** Decorator results by decorator name. */
  decorators?: Record<string, unknown>;
  /** The scan's id (default a new UUID). */
  scanId?: string;
}

/** The result of one scan: every payload's results, the request's metadata, errors, decorators. */
export class StoqResponse {
  /** Each payload's results, in payload order. */
  readonly results: PayloadResults[];
  /** The request's metadata. */
  readonly requestMeta: RequestMeta;
  /** Every error of the scan. */
  readonly errors: ScanError[];
  /** When the scan finished. */
  readonly time: string;
  /** Decorator results by decorator name. */
  readonly decorators: Record<string, unknown>;
  /** The scan's id. */
  readonly scanId: string;

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Payload } from "./payload.ts";
   * import { Request } from "./request.ts";
   * import { StoqResponse } from "./response.ts";
   * const response = new StoqResponse(new Request({ payloads: [new Payload("x")] }));
   * assert.equal(response.results.length, 1);
   * assert.equal(response.toJSON().scan_id, response.scanId);
   * ```
   */
  constructor(request: Request, init: StoqResponseInit = {}) {
    this.results = request.payloads.map((payload) => payload.results);
    this.requestMeta = request.requestMeta;
    this.errors = request.errors;
    this.time = init.time ?? nowIsoTime();
    this.decorators = init.decorators ?? {};
    this.scanId = init.scanId ?? crypto.randomUUID();
  }

  /** stoQ's JSON shape. */
  toJSON(): StoqResponseJson {
    return {
      results: this.results.map((result) => result.toJSON()),
      request_meta: this.requestMeta.toJSON(),
      errors: this.errors.map((error) => error.toJSON()),
      time: this.time,
      decorators: this.decorators,
      scan_id: this.scanId,
    };
  }

  /** JSON with an indent of 4, as stoQ prints it. */
  toString(): string {
    return dumps(this);
  }

  /**
   * One response per (payload, worker) pair, each holding only that payload with only that
   * worker's results: for per-index backends such as Elasticsearch and Splunk.
   */
  split(): StoqResponseJson[] {
    const json = this.toJSON();
    const out: StoqResponseJson[] = [];
    for (const result of json.results) {
      for (const [name, value] of Object.entries(result.workers)) {
        const copy: PayloadResultsJson = structuredClone({ ...result, workers: { [name]: value } });
        out.push({ ...structuredClone(json), results: [copy] });
      }
    }
    return out;
  }

  /** Rebuild a response from its JSON shape (what connectors and decorators receive). */
  static fromJSON(json: StoqResponseJson): StoqResponse {
    const response = Object.create(StoqResponse.prototype) as StoqResponse;
    Object.assign(response, {
      results: json.results.map((result) => PayloadResults.fromJSON(result)),
      requestMeta: RequestMeta.fromJSON(json.request_meta),
      errors: json.errors.map((error) => ScanError.fromJSON(error)),
      time: json.time,
      decorators: { ...json.decorators },
      scanId: json.scan_id,
    });
    return response;
  }
}

/** What a worker returns from `scan()`. */
export class WorkerResponse {
  /** Results stored under the worker's name (nothing is stored when null). */
  results: Record<string, unknown> | null;
  /** Payloads pulled out of the scanned one, scanned in the next round. */
  extracted: ExtractedPayload[];
  /** Errors to add to the request. */
  errors: ScanError[];
  /** Workers to run on the same payload in the next round. */
  dispatchTo: string[];

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { WorkerResponse } from "./response.ts";
   * const response = new WorkerResponse({ results: { valuable_insight: "wow" } });
   * assert.equal(response.extracted.length, 0);
   * ```
   */
  constructor(init: {
    results?: Record<string, unknown> | null;
    extracted?: ExtractedPayload[];
    errors?: ScanError[];
    dispatchTo?: string[];
  } = {}) {
    this.results = init.results ?? null;
    this.extracted = init.extracted ?? [];
    this.errors = init.errors ?? [];
    this.dispatchTo = init.dispatchTo ?? [];
  }

  /** JSON with an indent of 4, as stoQ's `str()` gives it. */
  toString(): string {
    return dumps(this);
  }
}

/** What a dispatcher returns from `getDispatches()`. */
export class DispatcherResponse {
  /** Workers to send the payload to. */
  pluginNames: string[];
  /** Metadata stored in `payload.dispatchMeta[dispatcherName]`. */
  meta: Record<string, unknown>;
  /** Errors to add to the request (stoQ v3 dropped these). */
  errors: ScanError[];

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DispatcherResponse } from "./response.ts";
   * const response = new DispatcherResponse({ pluginNames: ["hash"] });
   * assert.equal(response.pluginNames[0], "hash");
   * ```
   */
  constructor(init: {
    pluginNames?: string[];
    meta?: Record<string, unknown>;
    errors?: ScanError[];
  } = {}) {
    this.pluginNames = init.pluginNames ?? [];
    this.meta = init.meta ?? {};
    this.errors = init.errors ?? [];
  }

  /** JSON with an indent of 4, as stoQ's `str()` gives it. */
  toString(): string {
    return dumps(this);
  }
}

/** What a dest archiver returns from `archive()`; also the task a source archiver's `get()` receives. */
export class ArchiverResponse {
  /** Where the payload was stored: fed back to `get()` to fetch it again. */
  results: Record<string, unknown> | null;
  /** Errors to add to the request. */
  errors: ScanError[];

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ArchiverResponse } from "./response.ts";
   * const task = new ArchiverResponse({ path: "/data/123" });
   * assert.equal(task.results?.path, "/data/123");
   * ```
   */
  constructor(results: Record<string, unknown> | null = null, errors: ScanError[] = []) {
    this.results = results;
    this.errors = errors;
  }

  /** JSON with an indent of 4, as stoQ's `str()` gives it. */
  toString(): string {
    return dumps(this);
  }
}

/** What a decorator returns from `decorate()`. */
export class DecoratorResponse {
  /** Results stored in `response.decorators[decoratorName]`. */
  results: Record<string, unknown> | null;
  /** Errors to add to the response. */
  errors: ScanError[];

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DecoratorResponse } from "./response.ts";
   * const response = new DecoratorResponse({ simple_decoration: 123 });
   * assert.equal(response.errors.length, 0);
   * ```
   */
  constructor(results: Record<string, unknown> | null = null, errors: ScanError[] = []) {
    this.results = results;
    this.errors = errors;
  }

  /** JSON with an indent of 4, as stoQ's `str()` gives it. */
  toString(): string {
    return dumps(this);
  }
}

/** The last time formatted, by its millisecond: scans that end in the same one share it. */
let lastTime = { ms: NaN, text: "" };

/** The current local time as `localIsoTime()` formats it. */
function nowIsoTime(): string {
  const ms = Date.now();
  if (ms !== lastTime.ms) lastTime = { ms, text: localIsoTime(new Date(ms)) };
  return lastTime.text;
}

function localIsoTime(date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.` +
    `${pad(date.getMilliseconds(), 3)}000`;
}
