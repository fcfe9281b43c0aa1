/**
 * Engines: whole copies of the pipeline, each a `Stoq` in a Worker of its own, that files are
 * spread over. With `isolation = none` a `Stoq` runs every plugin on its own thread, so one engine
 * uses one core; several use several (`stoq scan DIR --engines N`). With the sandbox, each engine
 * starts its own plugin Workers.
 *
 * An engine's Worker has the host's permissions: what runs in it is what `Stoq.create()` would
 * have run in the host, with the same rights (a sandboxed plugin still gets only its own grants).
 *
 * @module
 */
import type { PluginListing, Stoq, StoqOptions } from "./stoq.ts";
import type { RequestMetaInit } from "./request.ts";
import { dumps } from "./dumps.ts";
import { StoqError } from "./errors.ts";
import { readFileMaybeShared } from "./shared_bytes.ts";

/**
 * The options of `Stoq.create()` an engine can be given: plain data only (no parsed `config`, no
 * log sinks, no host factory), as they cross into the engine's Worker by structured clone.
 */
export type EngineStoqOptions = Omit<StoqOptions, "config" | "logSinks" | "hostFactory">;

/** Options of `Engines.create()`. */
export interface EnginesOptions {
  /** How many engines (at least 1). */
  count: number;
  /** Each engine's `Stoq.create()` options. */
  stoq: EngineStoqOptions;
  /** Plugins each engine loads before it is ready (others load at their first use). */
  preload?: string[];
}

/** What to scan a file with. */
export interface EngineScanOptions {
  /** The payload's `extra_data.filename` (default: none). */
  filename?: string | null;
  /** The request's metadata. */
  requestMeta?: RequestMetaInit;
  /** Workers the initial payload goes to in the first round. */
  addStartDispatch?: string[];
  /** Workers the initial payload goes to in the first deep dispatch pass. */
  addStartDeepDispatch?: string[];
  /** Hand back the response's JSON line (default true; when false, `line` is ""). */
  line?: boolean;
}

/** One file's response, as an engine hands it back. */
export interface EngineResult {
  /** The response as `stoq scan` prints a response per line (`dumps(response, { indent: 0 })`). */
  line: string;
  /** How many payloads it has (the initial one and those extracted). */
  payloads: number;
  /** How many errors it has. */
  errors: number;
}

/**
 * Read the file at `path` (a large one straight into shared memory) and scan it with `stoq`: what
 * an engine does with each file, and `stoq scan` with each of a folder's files without engines.
 */
export async function scanFileWith(
  stoq: Stoq,
  path: string,
  options: EngineScanOptions = {},
): Promise<EngineResult> {
  const content = await readFileMaybeShared(path, stoq.shareThreshold);
  const response = await stoq.scan(content, {
    payloadMeta: { extraData: { filename: options.filename ?? null } },
    requestMeta: options.requestMeta,
    addStartDispatch: options.addStartDispatch,
    addStartDeepDispatch: options.addStartDeepDispatch,
  });
  return {
    line: options.line === false ? "" : dumps(response, { indent: 0 }),
    payloads: response.results.length,
    errors: response.errors.length,
  };
}

/** What an engine reports once its `Stoq` is ready. */
export interface EngineInfo {
  /** How many connectors it saves responses with. */
  connectors: number;
  /** `listPlugins()` of its `Stoq`. */
  plugins: Record<string, PluginListing>;
}

/** Host to engine. */
export type EngineRequest =
  | { type: "init"; options: EngineStoqOptions; preload: string[] }
  | { type: "scan"; id: number; path: string; options: EngineScanOptions }
  | { type: "close" };

/** Engine to host. */
export type EngineReply =
  | { type: "ready"; info: EngineInfo }
  | { type: "failed"; name: string; message: string }
  | { type: "done"; id: number; result: EngineResult }
  | { type: "error"; id: number; message: string }
  | { type: "closed" };

interface Pending {
  resolve(result: EngineResult): void;
  reject(error: Error): void;
}

class Engine {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  /** Why it cannot scan any more, once it cannot. */
  broken?: string;
  #closed?: () => void;

  constructor(readonly index: number) {
    this.worker = new Worker(new URL("./engine_worker.ts", import.meta.url), {
      type: "module",
      name: `stoq:engine ${index}`,
      deno: { permissions: "inherit" },
    });
  }

  /** Start its `Stoq`; rejects with the error `Stoq.create()` threw in it. */
  start(options: EngineStoqOptions, preload: string[]): Promise<EngineInfo> {
    return new Promise<EngineInfo>((resolve, reject) => {
      this.worker.onmessage = (event: MessageEvent<EngineReply>) => {
        const reply = event.data;
        if (reply.type === "ready") resolve(reply.info);
        else if (reply.type === "failed") reject(remoteError(reply.name, reply.message));
        else this.#reply(reply);
      };
      this.worker.onerror = (event) => {
        event.preventDefault();
        const reason = `engine ${this.index} stopped: ${event.message ?? "uncaught error"}`;
        reject(new StoqError(reason));
        this.#fail(reason);
      };
      this.worker.onmessageerror = () =>
        this.#fail(`engine ${this.index} sent an unreadable reply`);
      this.worker.postMessage({ type: "init", options, preload } satisfies EngineRequest);
    });
  }

  scan(id: number, path: string, options: EngineScanOptions): Promise<EngineResult> {
    if (this.broken) return Promise.reject(new StoqError(this.broken));
    return new Promise<EngineResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: "scan", id, path, options } satisfies EngineRequest);
    });
  }

  /** Close its `Stoq` (connectors flushed, plugins stopped), then end the Worker. */
  async close(): Promise<void> {
    if (!this.broken) {
      await new Promise<void>((resolve) => {
        this.#closed = resolve;
        this.worker.postMessage({ type: "close" } satisfies EngineRequest);
      });
    }
    this.worker.terminate();
  }

  #reply(reply: EngineReply) {
    if (reply.type === "closed") {
      this.#closed?.();
      return;
    }
    if (reply.type !== "done" && reply.type !== "error") return;
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (reply.type === "done") pending.resolve(reply.result);
    else pending.reject(new StoqError(reply.message));
  }

  #fail(reason: string) {
    this.broken ??= reason;
    for (const { reject } of this.pending.values()) reject(new StoqError(reason));
    this.pending.clear();
    this.#closed?.();
  }
}

function remoteError(name: string, message: string): Error {
  const error = new StoqError(message);
  // Keep the kind (ConfigError, PluginNotFoundError, ...) for the message a user sees.
  error.name = name;
  return error;
}

/**
 * Several engines, each file scanned by the one with the fewest files in flight.
 *
 * @example
 * ```ts ignore
 * import { Engines } from "./engines.ts";
 * const engines = await Engines.create({
 *   count: navigator.hardwareConcurrency,
 *   stoq: { alwaysDispatch: ["hash"], isolation: "none" },
 * });
 * try {
 *   const { line } = await engines.scanFile("README.md", { filename: "README.md" });
 *   console.log(line);
 * } finally {
 *   await engines.close();
 * }
 * ```
 */
export class Engines {
  /** What the first engine reported when it was ready (they all run the same options). */
  readonly info: EngineInfo;
  readonly #engines: Engine[];
  #nextId = 1;
  #last = -1;

  private constructor(engines: Engine[], info: EngineInfo) {
    this.#engines = engines;
    this.info = info;
  }

  /** Start `count` engines; rejects (having stopped them all) if one cannot start. */
  static async create(options: EnginesOptions): Promise<Engines> {
    const count = Math.max(1, Math.floor(options.count));
    const engines = Array.from({ length: count }, (_, i) => new Engine(i + 1));
    const started = await Promise.allSettled(
      engines.map((e) => e.start(options.stoq, options.preload ?? [])),
    );
    const failed = started.find((s) => s.status === "rejected");
    if (failed) {
      for (const engine of engines) engine.worker.terminate();
      throw (failed as PromiseRejectedResult).reason;
    }
    return new Engines(engines, (started[0] as PromiseFulfilledResult<EngineInfo>).value);
  }

  /** How many engines there are. */
  get count(): number {
    return this.#engines.length;
  }

  /**
   * Read the file at `path` and scan it in the engine with the fewest files in flight (taking
   * turns among equals). Rejects with the reason if the file cannot be read or the engine stopped.
   */
  scanFile(path: string, options: EngineScanOptions = {}): Promise<EngineResult> {
    // The fewest in flight; among equals, the next after the last one chosen.
    const engines = this.#engines;
    let best: Engine | undefined;
    for (let i = 1; i <= engines.length; i++) {
      const engine = engines[(this.#last + i) % engines.length];
      if (engine.broken) continue;
      if (!best || engine.pending.size < best.pending.size) best = engine;
    }
    if (!best) return Promise.reject(new StoqError(engines[0].broken ?? "no engine"));
    this.#last = best.index - 1;
    return best.scan(this.#nextId++, path, options);
  }

  /** Close every engine: their connectors flushed and plugins stopped. */
  async close(): Promise<void> {
    await Promise.all(this.#engines.map((engine) => engine.close()));
  }
}
