/**
 * A payload, its metadata and its results: stoQ's `Payload`, `PayloadMeta`, `PayloadResults` and
 * `ExtractedPayload`. Fields are camelCase; `toJSON()` gives stoQ v3's snake_case keys in stoQ's order.
 *
 * @module
 */
import { dumps } from "./dumps.ts";
import type { PayloadMetaJson, PayloadResultsJson } from "./schemas.ts";
import { isShared, toShared } from "./shared_bytes.ts";

const encoder = new TextEncoder();

/** Options of `PayloadMeta`. */
export interface PayloadMetaInit {
  /** Archive this payload with the dest archivers (default true). */
  shouldArchive?: boolean;
  /** Scan this payload with workers (default true). */
  shouldScan?: boolean;
  /** Free-form metadata, e.g. `filename`. */
  extraData?: Record<string, unknown>;
  /** Workers to send this payload to. */
  dispatchTo?: string[];
}

/** Metadata about a payload. */
export class PayloadMeta {
  /** Archive this payload with the dest archivers. */
  shouldArchive: boolean;
  /** Scan this payload with workers. */
  shouldScan: boolean;
  /** Free-form metadata, e.g. `filename`. */
  extraData: Record<string, unknown>;
  /** Workers to send this payload to. */
  dispatchTo: string[];

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PayloadMeta } from "./payload.ts";
   * const meta = new PayloadMeta({ extraData: { filename: "a.txt" } });
   * assert.equal(meta.shouldScan, true);
   * assert.equal(meta.toJSON().extra_data.filename, "a.txt");
   * ```
   */
  constructor(init: PayloadMetaInit = {}) {
    this.shouldArchive = init.shouldArchive ?? true;
    this.shouldScan = init.shouldScan ?? true;
    this.extraData = init.extraData ?? {};
    this.dispatchTo = init.dispatchTo ?? [];
  }

  /** stoQ's JSON shape. */
  toJSON(): PayloadMetaJson {
    return {
      should_archive: this.shouldArchive,
      should_scan: this.shouldScan,
      extra_data: this.extraData,
      dispatch_to: this.dispatchTo,
    };
  }

  /** Rebuild from stoQ's JSON shape. */
  static fromJSON(json: PayloadMetaJson): PayloadMeta {
    return new PayloadMeta({
      shouldArchive: json.should_archive,
      shouldScan: json.should_scan,
      extraData: json.extra_data,
      dispatchTo: json.dispatch_to,
    });
  }

  /** JSON with an indent of 4, as stoQ's `str()` gives it. */
  toString(): string {
    return dumps(this);
  }
}

/** Options of `PayloadResults`. */
export interface PayloadResultsInit {
  /** Size of the content in bytes. */
  size: number;
  /** The payload's id (default: a new UUID). */
  payloadId?: string;
  /** The payload's metadata. */
  payloadMeta?: PayloadMeta;
  /** Ids of the payloads this one was extracted from. */
  extractedFrom?: string | string[];
  /** Names of the workers that extracted this payload. */
  extractedBy?: string | string[];
}

/** What the scan learnt about one payload; one entry of a response's `results`. */
export class PayloadResults {
  /** Size of the content in bytes. */
  size: number;
  /** The payload's id. */
  payloadId: string;
  /** The payload's metadata (the same object as `Payload.payloadMeta`). */
  payloadMeta: PayloadMeta;
  /** Names of the plugins that ran on the payload, in task order. */
  pluginsRun: { workers: string[]; archivers: string[] };
  /** Ids of the payloads this one was extracted from. */
  extractedFrom: string[];
  /** Names of the workers that extracted this payload. */
  extractedBy: string[];
  /** Worker results by worker name. */
  workers: Record<string, unknown>;
  /** Dest archiver results by archiver name. */
  archivers: Record<string, unknown>;

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { PayloadResults } from "./payload.ts";
   * const results = new PayloadResults({ size: 3, extractedBy: "hash" });
   * assert.equal(results.extractedBy[0], "hash");
   * ```
   */
  constructor(init: PayloadResultsInit) {
    this.size = init.size;
    this.payloadId = init.payloadId ?? crypto.randomUUID();
    this.payloadMeta = init.payloadMeta ?? new PayloadMeta();
    this.pluginsRun = { workers: [], archivers: [] };
    this.extractedFrom = toList(init.extractedFrom);
    this.extractedBy = toList(init.extractedBy);
    this.workers = {};
    this.archivers = {};
  }

  /** stoQ's JSON shape. */
  toJSON(): PayloadResultsJson {
    return {
      size: this.size,
      payload_id: this.payloadId,
      payload_meta: this.payloadMeta.toJSON(),
      plugins_run: {
        workers: [...this.pluginsRun.workers],
        archivers: [...this.pluginsRun.archivers],
      },
      extracted_from: [...this.extractedFrom],
      extracted_by: [...this.extractedBy],
      workers: { ...this.workers },
      archivers: { ...this.archivers },
    };
  }

  /** Rebuild from stoQ's JSON shape. */
  static fromJSON(json: PayloadResultsJson): PayloadResults {
    const results = new PayloadResults({
      size: json.size,
      payloadId: json.payload_id,
      payloadMeta: PayloadMeta.fromJSON(json.payload_meta),
      extractedFrom: json.extracted_from,
      extractedBy: json.extracted_by,
    });
    results.pluginsRun = {
      workers: [...json.plugins_run.workers],
      archivers: [...json.plugins_run.archivers],
    };
    results.workers = { ...json.workers };
    results.archivers = { ...json.archivers };
    return results;
  }

  /** JSON with an indent of 4, as stoQ's `str()` gives it. */
  toString(): string {
    return dumps(this);
  }
}

/** Options of `Payload`. */
export interface PayloadInit {
  /** Metadata (default: `new PayloadMeta()`). */
  payloadMeta?: PayloadMeta | PayloadMetaInit;
  /** Name(s) of the worker(s) that extracted it. */
  extractedBy?: string | string[];
  /** Id(s) of the payload(s) it was extracted from. */
  extractedFrom?: string | string[];
  /** The payload's id (default: a new UUID). */
  payloadId?: string;
}

/** Content to scan, with its metadata and results. */
export class Payload {
  /**
   * The bytes. A string given to the constructor is UTF-8 encoded. The core may move them into
   * shared memory (`share()`); they are never changed. They can be a view into a larger buffer (in
   * a plugin's Worker, small payloads sent together share one): read `content.buffer` only from
   * `byteOffset` for `byteLength` bytes, or hand an API `content.slice()`.
   */
  readonly content: Uint8Array;
  /** Metadata each dispatcher returned for this payload, by dispatcher name. Not in the JSON. */
  dispatchMeta: Record<string, unknown>;
  /** What the scan learnt about this payload. */
  readonly results: PayloadResults;

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Payload } from "./payload.ts";
   * const payload = new Payload("猫", { payloadMeta: { extraData: { filename: "cat.txt" } } });
   * assert.equal(payload.results.size, 3); // bytes, not characters
   * ```
   */
  /** Move the content into shared memory (once) and return it; see `core/shared_bytes.ts`. */
  share(): Uint8Array {
    if (!isShared(this.content)) {
      (this as { content: Uint8Array }).content = toShared(this.content);
    }
    return this.content;
  }

  constructor(content: Uint8Array | string, init: PayloadInit = {}) {
    this.content = typeof content === "string" ? encoder.encode(content) : content;
    const meta = init.payloadMeta instanceof PayloadMeta
      ? init.payloadMeta
      : new PayloadMeta(init.payloadMeta);
    this.dispatchMeta = {};
    this.results = new PayloadResults({
      size: this.content.byteLength,
      payloadId: init.payloadId,
      payloadMeta: meta,
      extractedBy: init.extractedBy,
      extractedFrom: init.extractedFrom,
    });
  }

  /** Rebuild a payload from its parts (results kept as given, not recomputed). */
  static fromParts(
    content: Uint8Array,
    results: PayloadResults,
    dispatchMeta: Record<string, unknown> = {},
  ): Payload {
    const payload = Object.create(Payload.prototype) as Payload;
    Object.assign(payload, { content, dispatchMeta, results });
    return payload;
  }

  /** The payload's id. */
  get payloadId(): string {
    return this.results.payloadId;
  }

  /** The payload's metadata. */
  get payloadMeta(): PayloadMeta {
    return this.results.payloadMeta;
  }
}

/** A payload a worker pulled out of the one it scanned. */
export class ExtractedPayload {
  /** The bytes. */
  readonly content: Uint8Array | string;
  /** Its metadata. */
  readonly payloadMeta: PayloadMeta;

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ExtractedPayload } from "./payload.ts";
   * const child = new ExtractedPayload("Lorem ipsum", { dispatchTo: ["hash"] });
   * assert.equal(child.payloadMeta.dispatchTo[0], "hash");
   * ```
   */
  constructor(content: Uint8Array | string, payloadMeta?: PayloadMeta | PayloadMetaInit) {
    this.content = content;
    this.payloadMeta = payloadMeta instanceof PayloadMeta
      ? payloadMeta
      : new PayloadMeta(payloadMeta);
  }
}

function toList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === "string" ? [value] : [...value];
}
