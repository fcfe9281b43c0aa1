/**
 * `Stoq`, the orchestrator: loads plugins, scans requests in rounds (stoQ v3's algorithm), archives,
 * decorates and saves the response, and runs providers in provider mode.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { AsyncQueue } from "./async_queue.ts";
import { ContentIndex } from "./content_index.ts";
import { DEFAULT_SHARE_THRESHOLD } from "./shared_bytes.ts";
import { type IniFile, readIniFile } from "./config.ts";
import {
  ConfigError,
  PermissionDeniedError,
  PluginCrashError,
  PluginError,
  PluginNotFoundError,
  PluginTimeoutError,
  StoqError,
} from "./errors.ts";
import { formatExc } from "./format_exc.ts";
import { Gate } from "./gate.ts";
import {
  createLogger,
  fileSink,
  type Logger,
  type LogSink,
  parseLogLevel,
  stderrSink,
} from "./log.ts";
import { mergeOptions, type RawOption, type RawOptions, splitList } from "./options.ts";
import { Payload, PayloadMeta, type PayloadMetaInit } from "./payload.ts";
import type { Kind } from "./plugin.ts";
import {
  type ContentMode,
  PluginHandle,
  type RequestScope,
  type WorkerOutcome,
} from "./plugin_handle.ts";
import { discoverPlugins, isPluginLocation, manifestAt, type PluginEntry } from "./registry.ts";
import { Request, RequestMeta, type RequestMetaInit } from "./request.ts";
import { StoqResponse } from "./response.ts";
import { ScanError } from "./scan_error.ts";
import type { HostFactory, IsolationMode, PluginSpec } from "./sandbox/host.ts";
import { startInProcess } from "./sandbox/in_process.ts";
import { computePermissions, NO_PERMISSIONS, type Permissions } from "./sandbox/permissions.ts";
import { startSandboxed } from "./sandbox/sandbox_host.ts";
import type { ProviderItemWire } from "./sandbox/protocol.ts";
import { STOQ_VERSION } from "./sandbox/runtime.ts";

/**
 * Requests scanned at once unless `max_in_flight` says otherwise: enough to keep the plugins' queues
 * full, few enough that the collector stays cheap (README "Benchmark").
 */
export const DEFAULT_MAX_IN_FLIGHT = 128;

/** Options of `Stoq.create()`. Each falls back to stoq.cfg's `[core]`, then to stoQ's default. */
export interface StoqOptions {
  /** Base directory (default the current directory). */
  baseDir?: string;
  /** stoq.cfg to read (default `<baseDir>/stoq.cfg`, read only if it exists). */
  configFile?: string;
  /** An already parsed stoq.cfg; wins over `configFile`. */
  config?: IniFile;
  /** Write `stoq.log` here; `null` or "" for no file log (the default). */
  logDir?: string | null;
  /** debug, info (default), warning, error or critical. */
  logLevel?: string;
  /** Where log lines go (default standard error, plus the file log). */
  logSinks?: LogSink[];
  /** Plugin directories, searched recursively; a later directory wins (default `<baseDir>/plugins`). */
  pluginDirList?: string[];
  /** Options by plugin name; they win over stoq.cfg and the manifest. */
  pluginOpts?: Record<string, Record<string, unknown>>;
  /** How errors about `pluginOpts` say where they were set (default `plugin_opts`). */
  pluginOptsOrigin?: string;
  /** Provider plugins for `run()`. */
  providers?: string[];
  /** Consumers of the provider queue (default 2). */
  providerConsumers?: number;
  /** Source archivers, turning provider tasks into payloads. */
  sourceArchivers?: string[];
  /** Dest archivers, run on every payload after the scan. */
  destArchivers?: string[];
  /** Connectors, saving each response. */
  connectors?: string[];
  /** Dispatchers, run on every payload every round. */
  dispatchers?: string[];
  /**
   * Deep dispatchers: run on a payload after a pass of workers, seeing their results, and may send
   * it to more workers (see README "Deep dispatchers").
   */
  deepDispatchers?: string[];
  /** Deep dispatch passes per payload per round (default 1). */
  maxDispatchPasses?: number;
  /** Decorators, run on each response. */
  decorators?: string[];
  /** Workers every payload goes to. */
  alwaysDispatch?: string[];
  /** Size of the provider queue (default 100). */
  maxQueue?: number;
  /** Maximum number of worker rounds (default 10). */
  maxRecursion?: number;
  /**
   * Requests scanned at once (default 128; 0: no limit); more wait their turn, in the order they
   * came. Each one scanned holds its payloads and results in the core's heap, and the collector's
   * cost grows with them.
   */
  maxInFlight?: number;
  /** Maximum nesting of required_workers (default 10). */
  maxRequiredWorkerDepth?: number;
  /** Largest payload scanned, in bytes, initial or extracted (default 0: no limit). */
  maxPayloadSize?: number;
  /**
   * Payloads of at least this many bytes are shared (not copied) with the sandboxed plugins whose
   * stoq.cfg section says `share_content = True` (default 64 KiB; 0: always).
   */
  shareThreshold?: number;
  /**
   * How plugins are isolated unless their stoq.cfg section says otherwise: `worker` (default), `process`
   * or `none` (in-process, for trusted plugins and debugging).
   */
  isolation?: IsolationMode;
  /** Starts each plugin (default: the sandbox, as `isolation` says). */
  hostFactory?: HostFactory;
}

/** Options of `scan()`. */
export interface ScanOptions {
  /** The payload's metadata. */
  payloadMeta?: PayloadMeta | PayloadMetaInit;
  /** The request's metadata (a `RequestMeta`, or the plain object one is made from). */
  requestMeta?: RequestMeta | RequestMetaInit;
  /** Workers the initial payload goes to in the first round. */
  addStartDispatch?: string[];
  /** Workers the initial payload goes to in the first deep dispatch pass. */
  addStartDeepDispatch?: string[];
  /** `"COUNT/SECONDS"`: at most COUNT scans per SECONDS from this instance. */
  ratelimit?: string;
}

/** Options of `run()`. */
export interface RunOptions {
  /** Metadata of requests made from provider payloads (and of requests with default metadata). */
  requestMeta?: RequestMeta | RequestMetaInit;
  /** Workers each request's initial payloads go to in the first round. */
  addStartDispatch?: string[];
  /** Workers each request's initial payloads go to in the first deep dispatch pass. */
  addStartDeepDispatch?: string[];
  /**
   * Stop taking items when it aborts: a provider's next `put` is refused (which ends its `ingest`
   * as an error would; what it had not put stays with it, e.g. pending in Redis), the items already
   * queued are scanned, saved and acknowledged, plugins' buffers are flushed, and `run()` returns.
   */
  signal?: AbortSignal;
}

/** Options of `scanRequest()` and `scanPayload()`. */
export interface ScanRequestOptions {
  /** Workers the initial payloads go to in the first round. */
  addStartDispatch?: string[];
  /** Workers the initial payloads go to in the first deep dispatch pass. */
  addStartDeepDispatch?: string[];
}

/** What `listPlugins()` reports of each discovered plugin. */
export interface PluginListing {
  /** Kinds declared in the manifest, or `["UNKNOWN"]`. */
  kinds: string[];
  /** `[Documentation] Version`. */
  version: string;
  /** `[Documentation] Description`. */
  description: string;
  /** Where the manifest is. */
  manifest: string;
  /** How it would be isolated. */
  isolation: IsolationMode;
  /** What it would be allowed to do, or why it cannot load. */
  permissions: Permissions | { error: string };
}

type Task = { payload: Payload; name: string };
/** What became of one provider item: its responses, and why it is not done, if it is not. */
type Consumed = { responses: StoqResponse[]; failures: string[] };
type RoleName =
  | "providers"
  | "sourceArchivers"
  | "destArchivers"
  | "connectors"
  | "dispatchers"
  | "deepDispatchers"
  | "decorators";
type V3RoleName = Exclude<RoleName, "deepDispatchers">;

const ROLE_KINDS: Record<RoleName, Kind> = {
  providers: "provider",
  sourceArchivers: "archiver",
  destArchivers: "archiver",
  connectors: "connector",
  dispatchers: "dispatcher",
  deepDispatchers: "dispatcher",
  decorators: "decorator",
};
const ROLE_KEYS: Record<RoleName, string> = {
  providers: "providers",
  sourceArchivers: "source_archivers",
  destArchivers: "dest_archivers",
  connectors: "connectors",
  dispatchers: "dispatchers",
  deepDispatchers: "deep_dispatchers",
  decorators: "decorators",
};

const DEFAULT_WORKER_TIMEOUT_S = 60;

/** The stoq framework: plugins, scans and provider mode. */
export class Stoq {
  /** The version of stoq. */
  static readonly version: string = STOQ_VERSION;
  /** The base directory. */
  readonly baseDir: string;
  /** The parsed stoq.cfg, if any. */
  readonly config: IniFile | undefined;
  /** The core logger (`stoq`). */
  readonly log: Logger;
  /** Size of the provider queue. */
  readonly maxQueue: number;
  /** Consumers of the provider queue. */
  readonly providerConsumers: number;
  /** Maximum number of worker rounds. */
  readonly maxRecursion: number;
  /** Requests scanned at once (0: no limit). */
  readonly maxInFlight: number;
  /** Maximum nesting of required_workers. */
  readonly maxRequiredWorkerDepth: number;
  /** Largest payload scanned, in bytes (0: no limit). */
  readonly maxPayloadSize: number;
  /** Payloads of at least this many bytes go in shared memory to plugins with `share_content`. */
  readonly shareThreshold: number;
  /** Deep dispatch passes per payload per round. */
  readonly maxDispatchPasses: number;
  /** Workers every payload goes to. */
  readonly alwaysDispatch: readonly string[];
  /** Plugin directories searched. */
  readonly pluginDirList: readonly string[];
  /** How plugins are isolated unless their own section says otherwise. */
  readonly isolation: IsolationMode;
  /** Loaded plugins by role (stoQ v3's roles), in configured order. */
  readonly roles: Readonly<Record<V3RoleName, ReadonlyMap<string, PluginHandle>>>;
  /** Loaded deep dispatchers, in configured order. */
  readonly deepDispatchers: ReadonlyMap<string, PluginHandle>;

  readonly #plugins: Map<string, PluginEntry>;
  readonly #loaded = new Map<string, Promise<PluginHandle>>();
  /** The handles of `#loaded` that are ready, so a scan looks them up without awaiting. */
  readonly #ready = new Map<string, PluginHandle>();
  readonly #pluginOpts: Record<string, Record<string, unknown>>;
  readonly #pluginOptsOrigin: string;
  readonly #hostFactory: HostFactory;
  readonly #roleNames: Record<RoleName, string[]>;
  #ratelimitChain: Promise<void> = Promise.resolve();
  /** Admits `maxInFlight` requests at once. */
  readonly #gate: Gate;
  /** Set by `close()`: no new scan starts. */
  #closing?: Promise<void>;
  /** Set once `close()` has seen the last scan end: no plugin loads any more. */
  #stopped = false;
  #lastScan = 0;
  /** Responses a connector failed to save, with why (for a provider's `nack`). */
  readonly #unsaved = new WeakMap<StoqResponse, string>();

  private constructor(options: StoqOptions) {
    this.baseDir = resolve(options.baseDir ?? Deno.cwd());
    this.config = options.config ?? readConfig(options.configFile, this.baseDir);
    const cfg = new CoreConfig(this.config);
    cfg.checkKeys();

    const level = options.logLevel ?? cfg.text("log_level") ?? "info";
    const logLevel = parseLogLevel(level);
    if (!logLevel) {
      throw new ConfigError(
        `Invalid log level "${level}"${
          cfg.where("log_level")
        }: use debug, info, warning, error or critical`,
        { file: this.config?.file },
      );
    }
    // A copy: the file sink below must not end up in the caller's array.
    const sinks = [...(options.logSinks ?? [stderrSink(logLevel)])];
    const logDir = options.logDir !== undefined ? options.logDir : cfg.text("log_dir");
    if (logDir) {
      sinks.push(fileSink(resolve(this.baseDir, logDir), {
        level: logLevel,
        maxBytes: cfg.integer("log_maxbytes", 1_500_000, 0),
        backupCount: cfg.integer("log_backup_count", 5, 0),
      }));
    }
    this.log = createLogger("stoq", sinks);

    this.maxQueue = options.maxQueue ?? cfg.integer("max_queue", 100, 1);
    this.providerConsumers = options.providerConsumers ?? cfg.integer("provider_consumers", 2, 1);
    this.maxRecursion = options.maxRecursion ?? cfg.integer("max_recursion", 10, 1);
    this.maxInFlight = options.maxInFlight ??
      cfg.integer("max_in_flight", DEFAULT_MAX_IN_FLIGHT, 0);
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 0) {
      throw new ConfigError(
        `Invalid option "maxInFlight": expected an integer of at least 0, got ${this.maxInFlight}`,
      );
    }
    this.#gate = new Gate(this.maxInFlight);
    this.maxRequiredWorkerDepth = options.maxRequiredWorkerDepth ??
      cfg.integer("max_required_worker_depth", 10, 0);
    this.maxPayloadSize = options.maxPayloadSize ?? cfg.integer("max_payload_size", 0, 0);
    this.shareThreshold = options.shareThreshold ??
      cfg.integer("share_threshold", DEFAULT_SHARE_THRESHOLD, 0);
    this.maxDispatchPasses = options.maxDispatchPasses ?? cfg.integer("max_dispatch_passes", 1, 1);
    for (
      const [name, value] of Object.entries({
        maxQueue: this.maxQueue,
        providerConsumers: this.providerConsumers,
        maxRecursion: this.maxRecursion,
        maxDispatchPasses: this.maxDispatchPasses,
      })
    ) {
      if (!Number.isInteger(value) || value < 1) {
        throw new ConfigError(
          `Invalid option "${name}": expected an integer of at least 1, got ${value}`,
        );
      }
    }
    this.alwaysDispatch = cleanNames(options.alwaysDispatch ?? cfg.list("always_dispatch") ?? []);
    const cfgDir = this.config?.file ? dirname(this.config.file) : this.baseDir;
    this.pluginDirList = options.pluginDirList?.map((d) => resolve(d)) ??
      cfg.list("plugin_dir_list")?.map((d) => resolve(cfgDir, d)) ??
      [resolve(this.baseDir, "plugins")];
    this.#pluginOpts = options.pluginOpts ?? {};
    this.#pluginOptsOrigin = options.pluginOptsOrigin ?? "plugin_opts";
    const isolation = options.isolation ?? cfg.text("isolation") ?? "worker";
    this.isolation = parseIsolation(isolation, cfg.where("isolation"));
    this.#hostFactory = options.hostFactory ?? ((spec) => startHost(spec, this.log));
    this.#plugins = discoverPlugins(this.pluginDirList, this.log);
    this.#roleNames = {} as Record<RoleName, string[]>;
    const roles = {} as Record<RoleName, Map<string, PluginHandle>>;
    for (const role of Object.keys(ROLE_KINDS) as RoleName[]) {
      this.#roleNames[role] = cleanNames(options[role] ?? cfg.list(ROLE_KEYS[role]) ?? []);
      roles[role] = new Map();
    }
    const { deepDispatchers, ...v3Roles } = roles;
    this.roles = v3Roles;
    this.deepDispatchers = deepDispatchers;
  }

  /**
   * Read the configuration, discover plugins and load every plugin named in a role. Throws
   * `PluginNotFoundError` for a missing plugin, `PluginError` for one that cannot load, and
   * `ConfigError` for a bad configuration.
   *
   * @example
   * ```ts ignore
   * import { Stoq } from "./stoq.ts";
   * const stoq = await Stoq.create({ alwaysDispatch: ["hash"] });
   * const response = await stoq.scan(new TextEncoder().encode("The quick brown fox"));
   * console.log(response.toString());
   * await stoq.close();
   * ```
   */
  static async create(options: StoqOptions = {}): Promise<Stoq> {
    const stoq = new Stoq(options);
    try {
      for (const role of Object.keys(ROLE_KINDS) as RoleName[]) {
        const map = (role === "deepDispatchers" ? stoq.deepDispatchers : stoq.roles[role]) as Map<
          string,
          PluginHandle
        >;
        for (const name of stoq.#roleNames[role]) {
          const handle = await stoq.loadPlugin(name);
          if (!handle.is(ROLE_KINDS[role])) {
            throw new PluginError(
              name,
              `Plugin "${name}" cannot be used as one of the ${ROLE_KEYS[role]}: it is not ${
                /^[aeiou]/.test(ROLE_KINDS[role]) ? "an" : "a"
              } ${ROLE_KINDS[role]} (it implements ${handle.kinds.join(", ")})`,
            );
          }
          map.set(handle.name, handle);
        }
      }
      for (const name of stoq.alwaysDispatch) await stoq.loadPlugin(name);
    } catch (err) {
      await stoq.close();
      throw err;
    }
    return stoq;
  }

  /** Every discovered plugin, without loading any. */
  listPlugins(): Record<string, PluginListing> {
    const out: Record<string, PluginListing> = {};
    for (const [name, entry] of [...this.#plugins].sort(([a], [b]) => a.localeCompare(b))) {
      let permissions: PluginListing["permissions"];
      let isolation = this.isolation;
      try {
        const prepared = this.#prepare(entry);
        permissions = prepared.spec.permissions!;
        isolation = prepared.spec.isolation!;
      } catch (err) {
        permissions = { error: err instanceof Error ? err.message : String(err) };
      }
      out[name] = {
        kinds: entry.kinds ? [...entry.kinds] : ["UNKNOWN"],
        version: entry.doc.version,
        description: entry.doc.description,
        manifest: entry.manifest,
        isolation,
        permissions,
      };
    }
    return out;
  }

  /**
   * Load a plugin by name, or by path or URL of its folder or manifest. A loaded plugin is cached:
   * the same handle serves every role.
   */
  loadPlugin(reference: string): Promise<PluginHandle> {
    // Scans that were under way when close() was called may still load what they need.
    if (this.#stopped) return Promise.reject(this.#closedError(`load plugin "${reference}"`));
    const key = reference.trim();
    const cached = this.#loaded.get(key);
    if (cached) return cached;
    const loading = this.#load(key);
    this.#loaded.set(key, loading);
    loading.then((handle) => {
      if (this.#loaded.get(key) === loading) this.#ready.set(key, handle);
    }, () => {
      if (this.#loaded.get(key) === loading) this.#loaded.delete(key);
    });
    return loading;
  }

  /** A loaded plugin at once, else one that loads: what the scan loop uses. */
  #plugin(name: string): PluginHandle | Promise<PluginHandle> {
    return this.#ready.get(name.trim()) ?? this.loadPlugin(name);
  }

  async #load(reference: string): Promise<PluginHandle> {
    let entry: PluginEntry | undefined;
    if (isPluginLocation(reference)) {
      entry = await manifestAt(reference);
      const existing = this.#loaded.get(entry.name);
      if (existing && this.#plugins.get(entry.name)?.manifest === entry.manifest) return existing;
      this.#plugins.set(entry.name, entry);
      const loading = this.#load(entry.name);
      this.#loaded.set(entry.name, loading);
      return loading;
    }
    entry = this.#plugins.get(reference);
    if (!entry) {
      throw new PluginNotFoundError(
        `The plugin "${reference}" is invalid or does not exist in your plugin path`,
      );
    }
    const {
      spec,
      timeoutMs,
      requiredWorkers,
      maxTlp,
      heartbeatMs,
      requestScope,
      dispatchOnce,
      content,
    } = this.#prepare(entry);
    this.#checkVersion(entry, spec.options);
    const host = await this.#hostFactory(spec);
    return new PluginHandle(entry, host, {
      requiredWorkers,
      timeoutMs,
      requestScope,
      dispatchOnce,
      content,
      shareThreshold: this.shareThreshold,
      maxTlp,
      heartbeatMs,
      log: this.log,
    });
  }

  /**
   * Everything about a plugin that is decided before its module is imported: merged options,
   * isolation, permissions and timeout. Throws `ConfigError` or `PermissionDeniedError`.
   */
  #prepare(entry: PluginEntry): {
    spec: PluginSpec;
    timeoutMs: number | undefined;
    requiredWorkers: string[];
    maxTlp: number | undefined;
    heartbeatMs: number | undefined;
    requestScope: RequestScope;
    dispatchOnce: boolean;
    content: ContentMode;
  } {
    const merged = mergeOptions(
      entry.options,
      this.#cfgOptions(entry.name),
      codeOptions(this.#pluginOpts[entry.name], this.#pluginOptsOrigin),
    );
    const timeout = merged.timeout;
    const seconds = timeout === undefined ? DEFAULT_WORKER_TIMEOUT_S : Number(timeout.value);
    if (timeout !== undefined && (!Number.isFinite(seconds) || seconds < 0)) {
      throw new ConfigError(
        `Invalid option "timeout" for plugin "${entry.name}" (${timeout.origin}): expected seconds, got ${
          JSON.stringify(timeout.value)
        }`,
      );
    }
    const isolationOption = merged.isolation;
    let isolation = this.isolation;
    if (isolationOption !== undefined) {
      isolation = parseIsolation(String(isolationOption.value), ` (${isolationOption.origin})`);
      if (isolation === "none" && isolationOption.source === "manifest") {
        throw new PermissionDeniedError(
          entry.name,
          `Plugin "${entry.name}" asks to run outside the sandbox (${isolationOption.origin}): only the operator can allow that, in stoq.cfg with "[${entry.name}] isolation = none"`,
        );
      }
    }
    const positive = (key: string) => {
      const option = merged[key];
      if (option === undefined) return undefined;
      const n = Number(option.value);
      if (!Number.isInteger(n) || n < 1) {
        throw new ConfigError(
          `Invalid option "${key}" for plugin "${entry.name}" (${option.origin}): expected a whole number of at least 1, got ${
            JSON.stringify(option.value)
          }`,
        );
      }
      return n;
    };
    const { permissions, options } = computePermissions({
      entry,
      options: merged,
      kinds: entry.kinds && entry.kinds.length > 0 ? entry.kinds : ["worker"],
    });
    const required = options.required_workers?.value;
    const timeoutMs = seconds > 0 ? seconds * 1000 : undefined;
    const tlpOption = merged.max_tlp;
    let maxTlp: number | undefined;
    if (tlpOption !== undefined && String(tlpOption.value).trim() !== "") {
      maxTlp = TLP_LEVELS[normalizeTlp(tlpOption.value)];
      if (maxTlp === undefined) {
        throw new ConfigError(
          `Invalid option "max_tlp" for plugin "${entry.name}" (${tlpOption.origin}): expected one of ${
            Object.keys(TLP_LEVELS).join(", ")
          }, got ${JSON.stringify(tlpOption.value)}`,
        );
      }
    }
    const beat = merged.heartbeat_interval;
    const beatSeconds = beat === undefined ? 0 : Number(beat.value);
    if (beat !== undefined && (!Number.isFinite(beatSeconds) || beatSeconds < 0)) {
      throw new ConfigError(
        `Invalid option "heartbeat_interval" for plugin "${entry.name}" (${beat.origin}): expected seconds, got ${
          JSON.stringify(beat.value)
        }`,
      );
    }
    const content: ContentMode = isolation === "none"
      ? "direct"
      : shareOf(entry.name, merged.share_content) && isolation === "worker"
      ? "share"
      : "copy";
    return {
      spec: {
        name: entry.name,
        moduleUrl: entry.moduleUrl,
        dir: entry.dir,
        options,
        declaredKinds: entry.kinds,
        isolation,
        permissions,
        concurrency: positive("concurrency"),
        memoryLimitMb: positive("memory_limit"),
        loadTimeoutMs: Math.max(timeoutMs ?? 0, DEFAULT_WORKER_TIMEOUT_S * 1000),
        shareContent: content === "share",
      },
      timeoutMs,
      maxTlp,
      heartbeatMs: beatSeconds > 0 ? beatSeconds * 1000 : undefined,
      requestScope: scopeOf(entry.name, merged.request_scope),
      dispatchOnce: flagOf(entry.name, "dispatch_once", merged.dispatch_once),
      content,
      requiredWorkers: Array.isArray(required)
        ? required.map(String)
        : typeof required === "string"
        ? splitList(required)
        : [],
    };
  }

  #cfgOptions(name: string): RawOptions {
    const out: RawOptions = {};
    if (!this.config?.hasSection(name)) return out;
    for (const [key, value, line] of this.config.entries(name)) {
      out[key] = {
        value: value ?? "",
        origin: this.config.where(line),
        source: "config",
        baseDir: this.config.file ? dirname(this.config.file) : this.baseDir,
      };
    }
    return out;
  }

  #checkVersion(entry: PluginEntry, options: RawOptions) {
    const min = options.min_stoq_version?.value;
    const max = options.max_stoq_version?.value;
    if (typeof min === "string" && compareVersions(STOQ_VERSION, min) < 0) {
      this.log.warning(
        `Plugin "${entry.name}" wants stoq ${min} or later (min_stoq_version), this is stoq ${STOQ_VERSION}: it may not work as expected`,
      );
    }
    if (typeof max === "string" && compareVersions(STOQ_VERSION, max) > 0) {
      this.log.warning(
        `Plugin "${entry.name}" supports stoq up to ${max} (max_stoq_version), this is stoq ${STOQ_VERSION}: it may not work as expected`,
      );
    }
  }

  /** Scan one piece of content (stoQ's `scan`): wraps it in a payload and calls `scanPayload()`. */
  scan(content: Uint8Array | string, options: ScanOptions = {}): Promise<StoqResponse> {
    try {
      return this.scanPayload(new Payload(content, { payloadMeta: options.payloadMeta }), options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Scan a payload (stoQ's `scan_payload`): wraps it in a request and calls `scanRequest()`. */
  scanPayload(
    payload: Payload,
    options: Omit<ScanOptions, "payloadMeta"> = {},
  ): Promise<StoqResponse> {
    // `options` holds addStartDispatch and addStartDeepDispatch, which is all scanRequest reads.
    const scan = () =>
      this.scanRequest(
        new Request({ payloads: [payload], requestMeta: options.requestMeta }),
        options,
      );
    try {
      return options.ratelimit ? this.#ratelimit(options.ratelimit).then(scan) : scan();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Scan a request: worker rounds (each followed by its deep dispatch passes), then dest archivers,
   * decorators and connectors. Plugin failures become `ScanError` entries; this never throws
   * because of a plugin. At most `maxInFlight` requests are scanned at once; the others wait their
   * turn, in the order they came.
   */
  scanRequest(request: Request, options: ScanRequestOptions = {}): Promise<StoqResponse> {
    if (this.#closing) return Promise.reject(this.#closedError("scan"));
    const waiting = this.#gate.enter();
    if (waiting === undefined) return this.#scanAdmitted(request, options);
    return waiting.then(() => this.#scanAdmitted(request, options));
  }

  /** `scanRequest()` once the request has its place at the gate, which it gives back at the end. */
  async #scanAdmitted(request: Request, options: ScanRequestOptions): Promise<StoqResponse> {
    try {
      const start = options.addStartDispatch?.length
        ? cleanNames(options.addStartDispatch)
        : NO_NAMES;
      const startDeep = options.addStartDeepDispatch?.length
        ? cleanNames(options.addStartDeepDispatch)
        : NO_NAMES;
      // The payloads the request came with (extracted ones are only ever appended after them).
      const initialCount = request.payloads.length;
      let initial: Set<Payload> | undefined;
      // Built when the first payload is extracted: most requests extract nothing.
      let index: ContentIndex | undefined;
      const reported = new Set<string>();
      let dispatches: Task[] = [];
      for (const payload of request.payloads) {
        if (!this.#sizeAllowed(payload, request)) continue;
        for (const name of start) dispatches.push({ payload, name });
        for (const name of payload.payloadMeta.dispatchTo) dispatches.push({ payload, name });
      }
      // Tasks left when the rounds end; those in `deferred` were waiting for their required workers.
      let pending: { tasks: Task[]; deferred: TaskSet } = { tasks: [], deferred: new TaskSet() };
      for (let round = 1; round <= this.maxRecursion; round++) {
        const total = new TaskSet(dispatches);
        if (this.roles.dispatchers.size === 0) {
          for (const payload of request.payloads) {
            if (!payload.payloadMeta.shouldScan) continue;
            for (const name of this.alwaysDispatch) total.add({ payload, name });
          }
        } else {
          const scannable = request.payloads.filter((p) => p.payloadMeta.shouldScan);
          const names = await Promise.all(
            scannable.map((p) => this.#dispatch(p, request, { deep: false, reported })),
          );
          scannable.forEach((payload, i) => {
            for (const name of names[i].names) total.add({ payload, name });
            request.errors.push(...names[i].errors);
          });
        }

        const canRun = new TaskSet();
        const deferred = new TaskSet();
        for (const task of total.tasks) {
          // A worker that ran on the payload is done with it (the name of a plugin that ran is the
          // name it was loaded by): skip the resolution, which would find the same.
          if (task.payload.results.pluginsRun.workers.includes(task.name)) continue;
          if (this.#resolveLoaded(task, canRun)) continue;
          await this.#resolve(task, request, { canRun, deferred, reported });
        }
        const ordered = canRun.ordered(request.payloads);
        const next = new TaskSet(deferred.tasks);
        const extracted: Payload[] = [];
        if (ordered.length > 0) await this.#runPass(ordered, request, { next, extracted });
        const deepRan = (this.deepDispatchers.size > 0 || (round === 1 && startDeep.length > 0)) &&
          await this.#deepPasses(request, {
            ran: ordered,
            startDeep: round === 1 ? startDeep : NO_NAMES,
            initial: initial ??= new Set(request.payloads.slice(0, initialCount)),
            next,
            deferred,
            extracted,
            reported,
          });
        if (ordered.length === 0 && !deepRan) {
          pending = { tasks: [...deferred.tasks], deferred };
          break;
        }
        if (next.size === 0 && extracted.length === 0 && this.#settled(request)) {
          // The next round would find nothing to run: skip it.
          pending = { tasks: [], deferred };
          break;
        }
        for (const child of extracted) {
          index ??= new ContentIndex(request.payloads);
          this.#ingestExtracted(child, request, { index, round, next });
        }
        dispatches = [...next.tasks];
        if (round === this.maxRecursion) pending = { tasks: dispatches, deferred };
      }
      this.#reportPending(pending, request);

      if (request.requestMeta.archivePayloads && this.roles.destArchivers.size > 0) {
        await this.#archive(request);
      }
      const response = new StoqResponse(request);
      if (this.roles.decorators.size > 0) await this.#decorate(response);
      if (this.roles.connectors.size > 0) await this.#connect(response);
      return response;
    } finally {
      this.#gate.leave();
    }
  }

  /**
   * True when another round could run nothing: no dispatcher could name a worker, and every
   * payload to scan has run every `alwaysDispatch` worker (by the names they were loaded by).
   */
  #settled(request: Request): boolean {
    if (this.roles.dispatchers.size > 0 || this.deepDispatchers.size > 0) return false;
    for (const payload of request.payloads) {
      if (!payload.payloadMeta.shouldScan) continue;
      const ran = payload.results.pluginsRun.workers;
      for (const name of this.alwaysDispatch) if (!ran.includes(name)) return false;
    }
    return true;
  }

  /** Run one pass of worker tasks at once; record their outcomes in task order. */
  async #runPass(
    ordered: Task[],
    request: Request,
    state: { next: TaskSet; extracted: Payload[] },
  ): Promise<void> {
    const outcomes = ordered.length === 1
      ? [await this.#runWorker(ordered[0], request)]
      : await Promise.all(ordered.map((task) => this.#runWorker(task, request)));
    for (let i = 0; i < ordered.length; i++) {
      const { payload, name } = ordered[i];
      const outcome = outcomes[i];
      payload.results.pluginsRun.workers.push(name);
      if (!outcome.response) {
        if (outcome.error) request.errors.push(outcome.error);
        continue;
      }
      const response = outcome.response;
      if (response.results !== null) payload.results.workers[name] = response.results;
      if (response.errors.length > 0) request.errors.push(...response.errors);
      for (const target of response.dispatchTo) state.next.add({ payload, name: target });
      for (const child of response.extracted) {
        state.extracted.push(
          new Payload(child.content, {
            payloadMeta: child.payloadMeta,
            extractedBy: name,
            extractedFrom: payload.payloadId,
          }),
        );
      }
    }
  }

  /**
   * The deep dispatch passes of one round (README "Deep dispatchers"): the payloads that just ran
   * workers go to the deep dispatchers, which see those results; the workers they name (and, in
   * the first pass of the first round, `addStartDeepDispatch` for the initial payloads) run at
   * once; the payloads that ran workers in a pass go to the next pass, up to `maxDispatchPasses`.
   * Returns true when a worker ran.
   */
  async #deepPasses(
    request: Request,
    state: {
      ran: Task[];
      startDeep: readonly string[];
      initial: Set<Payload>;
      next: TaskSet;
      deferred: TaskSet;
      extracted: Payload[];
      reported: Set<string>;
    },
  ): Promise<boolean> {
    if (this.deepDispatchers.size === 0 && state.startDeep.length === 0) return false;
    let touched = new Set(state.ran.map((task) => task.payload));
    if (state.startDeep.length > 0) { for (const payload of state.initial) touched.add(payload); }
    let ran = false;
    for (let pass = 1; pass <= this.maxDispatchPasses && touched.size > 0; pass++) {
      const payloads = request.payloads.filter((p) => touched.has(p) && p.payloadMeta.shouldScan);
      const names = await Promise.all(
        payloads.map((p) => this.#dispatch(p, request, { deep: true, reported: state.reported })),
      );
      const total = new TaskSet();
      payloads.forEach((payload, i) => {
        if (pass === 1 && state.initial.has(payload)) {
          for (const name of state.startDeep) total.add({ payload, name });
        }
        for (const name of names[i].names) total.add({ payload, name });
        request.errors.push(...names[i].errors);
      });
      const canRun = new TaskSet();
      const deferred = new TaskSet();
      for (const task of total) {
        await this.#resolve(task, request, { canRun, deferred, reported: state.reported });
      }
      for (const task of deferred) {
        state.deferred.add(task);
        state.next.add(task);
      }
      if (canRun.size === 0) break;
      const ordered = canRun.ordered(request.payloads);
      await this.#runPass(ordered, request, state);
      ran = true;
      touched = new Set(ordered.map((task) => task.payload));
    }
    return ran;
  }

  async #dispatch(
    payload: Payload,
    request: Request,
    mode: { deep: boolean; reported: Set<string> },
  ): Promise<{ names: string[]; errors: ScanError[] }> {
    const role = mode.deep ? "deep_dispatcher" : "dispatcher";
    const errors: ScanError[] = [];
    const dispatchers = [...(mode.deep ? this.deepDispatchers : this.roles.dispatchers)
      .values()].filter((d) => this.#tlpAllows(d, payload, request, mode.reported, errors));
    const outcomes = await Promise.all(dispatchers.map(async (dispatcher) => {
      try {
        return { outcome: await dispatcher.getDispatches(payload, request, { deep: mode.deep }) };
      } catch (err) {
        return {
          error: this.#pluginError(
            err,
            `${role}:failed to dispatch`,
            dispatcher.name,
            payload,
            "dispatcher",
          ),
        };
      }
    }));
    const names = mode.deep ? [] : [...this.alwaysDispatch];
    outcomes.forEach(({ outcome, error }, i) => {
      if (error) errors.push(error);
      if (!outcome) return;
      names.push(...outcome.pluginNames);
      if (outcome.meta !== null) payload.dispatchMeta[dispatchers[i].name] = outcome.meta;
      errors.push(...outcome.errors);
    });
    return { names, errors };
  }

  /**
   * True when `plugin` may see `payload` (its `max_tlp` is at or above the payload's TLP); else
   * false, with an error of kind `tlp` added once per payload and plugin.
   */
  #tlpAllows(
    plugin: PluginHandle,
    payload: Payload,
    request: Request,
    reported: Set<string>,
    errors: ScanError[] = request.errors,
  ): boolean {
    if (plugin.maxTlp === undefined) return true;
    const tlp = payloadTlp(payload, request);
    if (tlp.level <= plugin.maxTlp) return true;
    const key = `tlp\0${payload.payloadId}\0${plugin.name}`;
    if (!reported.has(key)) {
      reported.add(key);
      errors.push(tlpError(plugin, tlp.label, payload.payloadId));
    }
    return false;
  }

  /**
   * `#resolve()` without waiting, for the common task: a loaded worker with no required workers
   * and no TLP limit. False when the task needs `#resolve()`.
   */
  #resolveLoaded(task: Task, canRun: TaskSet): boolean {
    const plugin = this.#ready.get(task.name);
    if (
      plugin === undefined || plugin.requiredWorkers.size > 0 || plugin.maxTlp !== undefined ||
      !plugin.is("worker")
    ) return false;
    if (!task.payload.results.pluginsRun.workers.includes(plugin.name)) {
      canRun.add(plugin.name === task.name ? task : { payload: task.payload, name: plugin.name });
    }
    return true;
  }

  async #resolve(
    task: Task,
    request: Request,
    sets: { canRun: TaskSet; deferred: TaskSet; reported: Set<string> },
  ): Promise<void> {
    // Collected apart, so that a cycle or a too deep chain adds nothing of this task.
    const canRun: Task[] = [];
    const deferred: Task[] = [];
    const visit = async (name: string, chain: string[], depth: number): Promise<void> => {
      if (chain.includes(name)) {
        throw new RequiredWorkersError(
          `Circular required plugin dependency found, unable to process plugin ${name}`,
          "required_workers_cycle",
        );
      }
      if (depth > this.maxRequiredWorkerDepth) {
        throw new RequiredWorkersError(
          `Max required plugin depth ${this.maxRequiredWorkerDepth} reached, unable to generate additional tasks`,
          "required_workers_depth",
        );
      }
      let plugin: PluginHandle;
      try {
        plugin = await this.#plugin(name);
        if (!plugin.is("worker")) {
          throw new PluginError(
            name,
            `Plugin "${name}" is not a worker (it implements ${plugin.kinds.join(", ")})`,
          );
        }
      } catch (err) {
        const key = `${task.payload.payloadId}\0${name}`;
        if (!sets.reported.has(key)) {
          sets.reported.add(key);
          request.errors.push(
            new ScanError(formatExc(err, `Worker plugin ${name} failed to load`), {
              pluginName: name,
              payloadId: task.payload.payloadId,
              kind: "plugin_load",
            }),
          );
        }
        return;
      }
      const ran = task.payload.results.pluginsRun.workers;
      if (ran.includes(plugin.name)) return;
      if (!this.#tlpAllows(plugin, task.payload, request, sets.reported)) return;
      const ready = plugin.requiredWorkers.size === 0 ||
        [...plugin.requiredWorkers].every((required) => ran.includes(required));
      (ready ? canRun : deferred).push({ payload: task.payload, name: plugin.name });
      for (const required of plugin.requiredWorkers) {
        await visit(required, [...chain, name], depth + 1);
      }
    };
    try {
      await visit(task.name, [], 0);
    } catch (err) {
      if (!(err instanceof RequiredWorkersError)) throw err;
      request.errors.push(
        new ScanError(formatExc(err), {
          pluginName: task.name,
          payloadId: task.payload.payloadId,
          kind: err.kind,
        }),
      );
      return;
    }
    for (const t of canRun) sets.canRun.add(t);
    for (const t of deferred) sets.deferred.add(t);
  }

  #runWorker(task: Task, request: Request): Promise<WorkerRun> {
    const loaded = this.#plugin(task.name);
    if (loaded instanceof Promise) {
      return loaded.then((worker) => this.#runLoaded(worker, task, request));
    }
    return this.#runLoaded(loaded, task, request);
  }

  #runLoaded(worker: PluginHandle, task: Task, request: Request): Promise<WorkerRun> {
    const failed = (err: unknown): WorkerRun => ({
      error: this.#pluginError(err, "worker:failed to scan", task.name, task.payload, "worker"),
    });
    try {
      return worker.scan(task.payload, request).then((response) => ({ response }), failed);
    } catch (err) {
      return Promise.resolve(failed(err));
    }
  }

  #ingestExtracted(
    child: Payload,
    request: Request,
    state: { index: ContentIndex; round: number; next: TaskSet },
  ) {
    const existing = state.index.find(child.content);
    const parentPayload = request.payloads.find((p) =>
      p.payloadId === child.results.extractedFrom[0]
    );
    // TLP is inherited: a payload is at least as restricted as the payload it came out of.
    const inherited = parentPayload ? payloadTlp(parentPayload, request) : undefined;
    const raise = (payload: Payload) => {
      if (inherited && inherited.level > payloadTlp(payload, request).level) {
        payload.payloadMeta.extraData.tlp = inherited.label;
      }
    };
    if (existing.length > 0) {
      const parent = child.results.extractedFrom[0];
      const meta = child.payloadMeta.extraData;
      for (const index of existing) {
        const kept = request.payloads[index];
        if (kept.payloadId === parent) continue; // a payload extracted from itself
        raise(kept);
        kept.results.extractedBy.push(...child.results.extractedBy);
        kept.results.extractedFrom.push(...child.results.extractedFrom);
        if (
          Object.keys(meta).length > 0 &&
          JSON.stringify(meta) !== JSON.stringify(kept.payloadMeta.extraData)
        ) {
          const aliases = kept.payloadMeta.extraData.also_known_as;
          const list = Array.isArray(aliases) ? aliases : [];
          list.push(meta);
          kept.payloadMeta.extraData.also_known_as = list;
        }
      }
      return;
    }
    raise(child);
    request.payloads.push(child);
    state.index.add(request.payloads.length - 1);
    if (!this.#sizeAllowed(child, request)) return;
    if (state.round >= this.maxRecursion) {
      request.errors.push(
        new ScanError(`Final worker round (${state.round}) reached, unable to process payload`, {
          payloadId: child.payloadId,
          kind: "max_recursion",
        }),
      );
    } else if (child.payloadMeta.shouldScan) {
      for (const name of child.payloadMeta.dispatchTo) state.next.add({ payload: child, name });
    }
  }

  /** False (and the payload is not scanned, with an error) when it is above `maxPayloadSize`. */
  #sizeAllowed(payload: Payload, request: Request): boolean {
    if (!payload.payloadMeta.shouldScan) return false;
    if (this.maxPayloadSize <= 0 || payload.content.length <= this.maxPayloadSize) return true;
    payload.payloadMeta.shouldScan = false;
    request.errors.push(
      new ScanError(
        `Payload of ${payload.content.length} bytes not scanned: larger than max_payload_size (${this.maxPayloadSize})`,
        { payloadId: payload.payloadId, kind: "max_payload_size" },
      ),
    );
    return false;
  }

  #reportPending(pending: { tasks: Task[]; deferred: TaskSet }, request: Request) {
    for (const task of pending.tasks) {
      const { payload, name } = task;
      if (payload.results.pluginsRun.workers.includes(name)) continue;
      // Whether the worker was loaded says nothing about why it did not run; being deferred does.
      const unmet = pending.deferred.has(task);
      const message = unmet
        ? `Worker "${name}" did not run: its required workers did not run before the last round`
        : `Worker "${name}" did not run: the last round (${this.maxRecursion}) was reached`;
      request.errors.push(
        new ScanError(message, {
          pluginName: name,
          payloadId: payload.payloadId,
          kind: unmet ? "required_workers_unmet" : "max_recursion",
        }),
      );
    }
  }

  async #archive(request: Request) {
    const reported = new Set<string>();
    const pairs = request.payloads
      .filter((payload) => payload.payloadMeta.shouldArchive)
      .flatMap((payload) =>
        [...this.roles.destArchivers.values()]
          .filter((archiver) => this.#tlpAllows(archiver, payload, request, reported))
          .map((archiver) => ({ payload, archiver }))
      );
    const outcomes = await Promise.all(pairs.map(async ({ payload, archiver }) => {
      try {
        return { outcome: await archiver.archive(payload, request) };
      } catch (err) {
        return {
          error: this.#pluginError(
            err,
            "archiver:failed to archive",
            archiver.name,
            payload,
            "archiver",
          ),
        };
      }
    }));
    pairs.forEach(({ payload, archiver }, i) => {
      const { outcome, error } = outcomes[i];
      payload.results.pluginsRun.archivers.push(archiver.name);
      if (error) request.errors.push(error);
      if (!outcome) return;
      request.errors.push(...outcome.errors);
      if (outcome.results !== null) payload.results.archivers[archiver.name] = outcome.results;
    });
  }

  async #decorate(response: StoqResponse) {
    const decorators = [...this.roles.decorators.values()].filter((decorator) =>
      this.#tlpAllowsResponse(decorator, response)
    );
    const outcomes = await Promise.all(decorators.map(async (decorator) => {
      try {
        return { outcome: await decorator.decorate(response) };
      } catch (err) {
        return {
          error: this.#pluginError(err, "decorator", decorator.name, undefined, "decorator"),
        };
      }
    }));
    outcomes.forEach(({ outcome, error }, i) => {
      if (error) response.errors.push(error);
      if (!outcome) return;
      if (outcome.results !== null) response.decorators[decorators[i].name] = outcome.results;
      response.errors.push(...outcome.errors);
    });
  }

  async #connect(response: StoqResponse) {
    const connectors = [...this.roles.connectors.values()].filter((connector) =>
      this.#tlpAllowsResponse(connector, response)
    );
    const failures = await Promise.all(connectors.map(async (connector) => {
      try {
        await connector.save(response);
      } catch (err) {
        this.log.error(`Failed to save results using ${connector.name}`, err);
        return this.#pluginError(
          err,
          "connector:failed to save",
          connector.name,
          undefined,
          "connector",
        );
      }
    }));
    for (const failure of failures) if (failure) response.errors.push(failure);
    const failed = failures.filter((f) => f !== undefined);
    if (failed.length > 0) this.#unsaved.set(response, failed.map((f) => f.error).join("; "));
  }

  /**
   * True when `plugin` may see the whole response (its `max_tlp` is at or above every payload's
   * TLP); else false, with an error of kind `tlp` added to the response.
   */
  #tlpAllowsResponse(plugin: PluginHandle, response: StoqResponse): boolean {
    if (plugin.maxTlp === undefined) return true;
    let top = tlpOf(response.requestMeta.extraData.tlp);
    for (const result of response.results) {
      const own = tlpOf(result.payloadMeta.extraData.tlp);
      if (own.level > top.level) top = own;
    }
    if (top.level <= plugin.maxTlp) return true;
    response.errors.push(tlpError(plugin, top.label, null));
    return false;
  }

  #pluginError(
    err: unknown,
    prefix: string,
    plugin: string,
    payload: Payload | undefined,
    kind: string,
  ): ScanError {
    const resolvedKind = err instanceof PluginTimeoutError
      ? "timeout"
      : err instanceof PluginCrashError
      ? "crash"
      : err instanceof PluginError && err.name === "InvalidResponseError"
      ? "invalid_response"
      : kind;
    return new ScanError(formatExc(err, prefix), {
      pluginName: plugin,
      payloadId: payload?.payloadId,
      kind: resolvedKind,
    });
  }

  async #ratelimit(spec: string) {
    const match = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(spec);
    if (!match || Number(match[1]) <= 0) {
      throw new StoqError(`Invalid ratelimit "${spec}": expected "COUNT/SECONDS", e.g. "1/3"`);
    }
    const interval = (Number(match[2]) / Number(match[1])) * 1000;
    const turn = this.#ratelimitChain.then(async () => {
      const wait = this.#lastScan + interval - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      this.#lastScan = performance.now();
    });
    this.#ratelimitChain = turn;
    await turn;
  }

  /**
   * Provider mode: start every provider and `providerConsumers` consumers on a queue of `maxQueue`
   * items; return when every provider has finished (or `signal` aborted) and the queue is drained.
   * A provider that fails is logged and the items it queued are still scanned; no item, good or
   * bad, stalls `run()`.
   */
  async run(options: RunOptions = {}): Promise<void> {
    if (this.#closing) throw this.#closedError("run providers");
    const providers = [...this.roles.providers.values()];
    if (providers.length === 0) throw new StoqError("No activated provider plugins");
    const queue = new AsyncQueue<{ provider: string; item: ProviderItemWire }>(this.maxQueue);
    const consumers = Array.from({ length: this.providerConsumers }, async () => {
      for (let next = await queue.get(); next !== undefined; next = await queue.get()) {
        const done: Consumed = { responses: [], failures: [] };
        try {
          await this.#consume(next.provider, next.item, options, done);
        } catch (err) {
          this.log.error(`Cannot process an item from provider "${next.provider}"`, err);
          done.failures.push(
            `it could not be scanned: ${err instanceof Error ? err.message : err}`,
          );
        }
        await this.#settle(next.provider, next.item, done);
      }
    });
    const signal = options.signal;
    let stopping = false;
    // Stopped before it started: no provider is asked for items it would then be refused.
    const started = signal?.aborted ? [] : providers;
    const ingesting = Promise.all(started.map(async (provider) => {
      try {
        await provider.ingest((item) =>
          stopping
            ? Promise.reject(new StoqError("stoq is stopping: it takes no more items"))
            : queue.put({ provider: provider.name, item })
        );
      } catch (err) {
        const message = `Provider "${provider.name}" failed: ${
          err instanceof Error ? err.message : err
        }`;
        // A refused put ends a provider's ingest as an error: expected once stopping.
        if (stopping) this.log.debug(message);
        else this.log.error(message, err);
      }
    }));
    if (signal && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const onAbort = () => {
          stopping = true;
          resolve();
        };
        signal.addEventListener("abort", onAbort, { once: true });
        ingesting.then(() => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        });
      });
    } else {
      await ingesting;
    }
    // Puts still waiting for room are refused now; what the queue holds is scanned.
    queue.close();
    await Promise.all(consumers);
    await this.flush();
  }

  /**
   * Call the heartbeat of every loaded plugin that has one (`heartbeat_interval`) now, so that
   * what a plugin buffers is written. `run()` does this before it returns, `close()` before it
   * stops the plugins.
   */
  async flush(): Promise<void> {
    await Promise.all([...this.#loaded.values()].map(async (loading) => {
      let handle: PluginHandle;
      try {
        handle = await loading;
      } catch {
        return; // it failed to load
      }
      await handle.beat();
    }));
  }

  /**
   * Tell the provider an item is finished: `ack` when every response was saved by every connector,
   * else `nack` with why. Providers without those handlers ignore both.
   */
  async #settle(provider: string, item: ProviderItemWire, done: Consumed) {
    const handle = this.roles.providers.get(provider);
    if (!handle) return;
    const failures = [...done.failures];
    for (const response of done.responses) {
      const why = this.#unsaved.get(response);
      if (why !== undefined) failures.push(`a connector failed to save: ${why}`);
    }
    if (failures.length === 0 && done.responses.length === 0) failures.push("nothing was scanned");
    const receipt = {
      requestMeta: item.type === "request"
        ? item.requestMeta as Record<string, unknown>
        : done.responses[0]?.requestMeta.toJSON() as Record<string, unknown> ?? null,
      scanIds: done.responses.map((response) => response.scanId),
      errors: done.responses.flatMap((response) =>
        response.errors.map((error) => error.toJSON() as unknown as Record<string, unknown>)
      ),
    };
    try {
      if (failures.length === 0) await handle.ack(receipt);
      else await handle.nack({ ...receipt, error: failures.join("; ") });
    } catch (err) {
      this.log.error(`Provider "${provider}" failed to ${failures.length ? "nack" : "ack"}`, err);
    }
  }

  async #consume(provider: string, item: ProviderItemWire, options: RunOptions, done: Consumed) {
    const given = options.requestMeta;
    const meta = () =>
      given instanceof RequestMeta
        ? RequestMeta.fromJSON(structuredClone(given.toJSON()))
        : new RequestMeta(structuredClone(given));
    const { addStartDispatch, addStartDeepDispatch } = options;
    switch (item.type) {
      case "payload": {
        const payload = new Payload(item.payload.content, {
          payloadMeta: PayloadMeta.fromJSON(item.payload.payloadMeta),
        });
        done.responses.push(
          await this.scanRequest(new Request({ payloads: [payload], requestMeta: meta() }), {
            addStartDispatch,
            addStartDeepDispatch,
          }),
        );
        return;
      }
      case "request": {
        const requestMeta = RequestMeta.fromJSON(item.requestMeta);
        const payloads = item.payloads.map((p) =>
          new Payload(p.content, { payloadMeta: PayloadMeta.fromJSON(p.payloadMeta) })
        );
        this.log.debug(`Request received: RequestMeta: ${JSON.stringify(requestMeta)}`);
        done.responses.push(
          await this.scanRequest(
            new Request({ payloads, requestMeta: requestMeta.isDefault() ? meta() : requestMeta }),
            { addStartDispatch, addStartDeepDispatch },
          ),
        );
        return;
      }
      case "task": {
        for (const [name, task] of Object.entries(item.task)) {
          const archiver = this.roles.sourceArchivers.get(name);
          if (!archiver) {
            this.log.warning(
              `"${
                JSON.stringify(task)
              }" failed with archiver "${name}": it is not one of the source_archivers`,
            );
            done.failures.push(`archiver "${name}" is not one of the source_archivers`);
            continue;
          }
          let payload: Payload | null;
          try {
            payload = await archiver.get(task);
          } catch (err) {
            this.log.warning(
              `"${JSON.stringify(task)}" failed with archiver "${name}": ${
                err instanceof Error ? err.message : err
              }`,
            );
            done.failures.push(
              `archiver "${name}" failed: ${err instanceof Error ? err.message : err}`,
            );
            continue;
          }
          if (payload) {
            done.responses.push(
              await this.scanRequest(new Request({ payloads: [payload], requestMeta: meta() }), {
                addStartDispatch,
                addStartDeepDispatch,
              }),
            );
          }
        }
        return;
      }
      case "invalid":
        this.log.error(
          `Provider "${provider}" put ${item.description} on the queue: expected a Payload, a Request or {archiver_name: task}`,
        );
        done.failures.push(`it is ${item.description}, not a Payload, a Request or a task`);
    }
  }

  /**
   * One response per result of `response`: that payload as the root plus everything extracted from
   * it (transitively), each with freshly applied decorators, sharing the scan id.
   */
  async *reconstructAllSubresponses(response: StoqResponse): AsyncGenerator<StoqResponse> {
    const json = response.toJSON();
    for (let i = 0; i < json.results.length; i++) {
      const ids = new Set([json.results[i].payload_id]);
      const results = [json.results[i]];
      for (const result of json.results.slice(i + 1)) {
        if (result.extracted_from.some((id) => ids.has(id)) && !ids.has(result.payload_id)) {
          ids.add(result.payload_id);
          results.push(result);
        }
      }
      const sub = StoqResponse.fromJSON({
        ...structuredClone(json),
        results,
        errors: [],
        decorators: {},
      });
      await this.#decorate(sub);
      yield sub;
    }
  }

  #closedError(what: string): StoqError {
    return new StoqError(`Cannot ${what}: this stoq instance is closed (close() was called)`);
  }

  /**
   * Stop: new scans are refused at once (a `StoqError`), the scans already asked for (running or
   * waiting at `maxInFlight`) finish, then every loaded plugin is stopped. Calling it again returns
   * the same promise. Plugin calls end within their `timeout`; a plugin given `timeout = 0` (no
   * limit) whose call never ends keeps `close()` waiting.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#close();
  }

  async #close(): Promise<void> {
    await this.#gate.idle();
    this.#stopped = true;
    const loaded = [...this.#loaded.values()];
    this.#loaded.clear();
    this.#ready.clear();
    await Promise.all(loaded.map(async (loading) => {
      try {
        await (await loading).shutdown();
      } catch { /* it failed to load, or is gone already */ }
    }));
  }
}

class RequiredWorkersError extends StoqError {
  readonly kind: string;
  constructor(message: string, kind: string) {
    super(message);
    this.name = "RecursionError";
    this.kind = kind;
  }
}

/** How a worker's scan of a payload ended. */
interface WorkerRun {
  response?: WorkerOutcome | null;
  error?: ScanError;
}

/** Tasks a `TaskSet` holds before it indexes them. */
const TASK_SET_LINEAR = 8;

/** An insertion-ordered set of (payload, worker) tasks. */
class TaskSet {
  readonly #tasks: Task[] = [];
  /** Names by payload, built once the set outgrows a linear search (most sets hold a task or two). */
  #names?: Map<Payload, Set<string>>;

  constructor(tasks: Iterable<Task> = []) {
    for (const task of tasks) this.add(task);
  }

  get size(): number {
    return this.#tasks.length;
  }

  /** The tasks in insertion order (not to be changed). */
  get tasks(): readonly Task[] {
    return this.#tasks;
  }

  add(task: Task) {
    if (this.#names === undefined) {
      if (this.has(task)) return;
      this.#tasks.push(task);
      if (this.#tasks.length > TASK_SET_LINEAR) this.#index();
      return;
    }
    const names = this.#names.get(task.payload);
    if (names === undefined) this.#names.set(task.payload, new Set([task.name]));
    else if (!names.has(task.name)) names.add(task.name);
    else return;
    this.#tasks.push(task);
  }

  has(task: Task): boolean {
    if (this.#names !== undefined) return this.#names.get(task.payload)?.has(task.name) ?? false;
    for (const t of this.#tasks) {
      if (t.payload === task.payload && t.name === task.name) return true;
    }
    return false;
  }

  #index() {
    const index = new Map<Payload, Set<string>>();
    for (const t of this.#tasks) {
      const names = index.get(t.payload);
      if (names === undefined) index.set(t.payload, new Set([t.name]));
      else names.add(t.name);
    }
    this.#names = index;
  }

  /** True when every task is about the same payload. */
  #onePayload(): boolean {
    if (this.#names !== undefined) return this.#names.size <= 1;
    for (const t of this.#tasks) if (t.payload !== this.#tasks[0].payload) return false;
    return true;
  }

  /** Tasks grouped by payload order, insertion order within a payload. */
  ordered(payloads: Payload[]): Task[] {
    if (this.#onePayload()) return [...this.#tasks];
    const position = new Map(payloads.map((p, i) => [p, i]));
    // Array.prototype.sort is stable: equal positions keep their insertion order.
    return [...this.#tasks].sort((a, b) => position.get(a.payload)! - position.get(b.payload)!);
  }

  [Symbol.iterator](): Iterator<Task> {
    return this.#tasks.values();
  }
}

const CORE_KEYS = [
  "plugin_dir_list",
  "log_level",
  "log_dir",
  "log_maxbytes",
  "log_backup_count",
  ...Object.values(ROLE_KEYS),
  "always_dispatch",
  "max_queue",
  "provider_consumers",
  "max_recursion",
  "max_required_worker_depth",
  "max_payload_size",
  "max_dispatch_passes",
  "isolation",
  "share_threshold",
  "max_in_flight",
];

class CoreConfig {
  readonly #ini: IniFile | undefined;
  constructor(ini: IniFile | undefined) {
    this.#ini = ini;
  }
  text(key: string): string | undefined {
    return this.#ini?.hasSection("core") ? this.#ini.get("core", key) ?? undefined : undefined;
  }
  list(key: string): string[] | undefined {
    return this.#ini?.hasSection("core") ? this.#ini.getList("core", key) : undefined;
  }
  /** A typo (or a line without "=") must not silently leave a default in force. */
  checkKeys() {
    for (const [key, option] of this.#ini?.sections.get("core")?.options ?? []) {
      if (CORE_KEYS.includes(key)) continue;
      throw new ConfigError(
        `Unknown option "${key}" in [core]${this.where(key)}${
          option.value === null ? ' (a line without "=")' : ""
        }: known options are ${CORE_KEYS.map((k) => `"${k}"`).join(", ")}`,
        { file: this.#ini?.file, line: option.line },
      );
    }
  }
  where(key: string): string {
    const line = this.#ini?.sections.get("core")?.options.get(key)?.line;
    return line && this.#ini ? ` (${this.#ini.where(line)})` : "";
  }
  integer(key: string, fallback: number, min: number): number {
    const text = this.text(key);
    if (text === undefined || text.trim() === "") return fallback;
    const value = Number(text.trim());
    if (!Number.isInteger(value) || value < min) {
      throw new ConfigError(
        `Invalid option "${key}"${
          this.where(key)
        }: expected an integer of at least ${min}, got "${text}"`,
        { file: this.#ini?.file, line: this.#ini?.sections.get("core")?.options.get(key)?.line },
      );
    }
    return value;
  }
}

function readConfig(configFile: string | undefined, baseDir: string): IniFile | undefined {
  const path = resolve(baseDir, configFile ?? "stoq.cfg");
  try {
    Deno.statSync(path);
  } catch {
    if (configFile !== undefined) {
      throw new ConfigError(`Cannot read "${path}": no such file`, { file: path });
    }
    return undefined;
  }
  return readIniFile(path, { allowNoValue: true });
}

/** Start a plugin as its spec says: in a Worker, a subprocess or in-process. */
function startHost(spec: PluginSpec, log: Logger) {
  const isolation = spec.isolation ?? "worker";
  if (isolation === "none") return startInProcess(spec, log);
  return startSandboxed(spec, log, {
    isolation,
    permissions: spec.permissions ?? NO_PERMISSIONS,
    concurrency: spec.concurrency,
    memoryLimitMb: spec.memoryLimitMb,
    loadTimeoutMs: spec.loadTimeoutMs,
  });
}

function shareOf(plugin: string, option: RawOption | undefined): boolean {
  if (option?.source === "manifest") {
    throw new PermissionDeniedError(
      plugin,
      `Plugin "${plugin}" asks for shared payload memory (${option.origin}): only the operator can allow that, in stoq.cfg with "[${plugin}] share_content = True"`,
    );
  }
  return flagOf(plugin, "share_content", option);
}

/** A core option that is True or False (configparser's spellings; a boolean from plugin_opts). */
function flagOf(plugin: string, name: string, option: RawOption | undefined): boolean {
  if (option === undefined) return false;
  const value = String(option.value).trim().toLowerCase();
  if (["true", "yes", "on", "1"].includes(value)) return true;
  if (["false", "no", "off", "0"].includes(value)) return false;
  throw new ConfigError(
    `Invalid option "${name}" for plugin "${plugin}" (${option.origin}): use True or False, got ${
      JSON.stringify(option.value)
    }`,
  );
}

function scopeOf(plugin: string, option: RawOption | undefined): RequestScope {
  if (option === undefined) return "payload";
  const value = String(option.value).trim().toLowerCase();
  if (value === "payload" || value === "full") return value;
  throw new ConfigError(
    `Invalid option "request_scope" for plugin "${plugin}" (${option.origin}): use payload or full, got ${
      JSON.stringify(option.value)
    }`,
  );
}

function parseIsolation(value: string, where: string): IsolationMode {
  const text = value.trim().toLowerCase();
  if (text === "worker" || text === "process" || text === "none") return text;
  if (text === "off" || text === "in-process") return "none";
  throw new ConfigError(
    `Invalid isolation "${value}"${where}: use worker, process or none`,
  );
}

function codeOptions(options: Record<string, unknown> | undefined, origin: string): RawOptions {
  const out: RawOptions = {};
  for (const [key, value] of Object.entries(options ?? {})) {
    out[key.toLowerCase()] = {
      value: typeof value === "boolean" ? (value ? "True" : "False") : value,
      origin,
      source: "code",
    };
  }
  return out;
}

/** No worker names, shared (never changed). */
const NO_NAMES: readonly string[] = Object.freeze([]);

function cleanNames(names: readonly string[]): string[] {
  if (names.length === 0) return [];
  return names.map((name) => name.trim()).filter((name) => name !== "");
}

/** Compare dotted versions numerically: negative when a < b. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((n) => parseInt(n, 10) || 0);
  const pb = b.split(/[.+-]/).map((n) => parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * TLP levels, lowest first: TLP 1.0's white, green, amber, red and TLP 2.0's clear (= white) and
 * amber+strict (between amber and red).
 */
export const TLP_LEVELS: Readonly<Record<string, number>> = {
  clear: 0,
  white: 0,
  green: 1,
  amber: 2,
  "amber+strict": 3,
  red: 4,
};

/** `"TLP:AMBER+STRICT"`, `"amber strict"` and `"Amber+Strict"` all become `"amber+strict"`. */
export function normalizeTlp(value: unknown): string {
  return String(value).trim().toLowerCase().replace(/^tlp\s*[:\s]\s*/, "").replace(
    /\s*[+\s_-]\s*strict$/,
    "+strict",
  );
}

/**
 * A TLP label as a level: absent (or empty) is clear; an unknown label is red (closed, not open).
 */
export function tlpOf(value: unknown): { level: number; label: string } {
  if (value === undefined || value === null || String(value).trim() === "") {
    return { level: 0, label: "clear" };
  }
  const label = normalizeTlp(value);
  const level = TLP_LEVELS[label];
  return level === undefined ? { level: TLP_LEVELS.red, label: "red" } : { level, label };
}

/** A payload's TLP: the higher of its own (`extra_data.tlp`) and its request's. */
export function payloadTlp(payload: Payload, request: Request): { level: number; label: string } {
  const own = tlpOf(payload.payloadMeta.extraData.tlp);
  const inherited = tlpOf(request.requestMeta.extraData.tlp);
  return own.level >= inherited.level ? own : inherited;
}

function tlpError(plugin: PluginHandle, label: string, payloadId: string | null): ScanError {
  const max = Object.entries(TLP_LEVELS).find(([, level]) => level === plugin.maxTlp)?.[0];
  return new ScanError(
    `Plugin "${plugin.name}" did not see ${
      payloadId === null ? "the response" : "the payload"
    }: its TLP is ${label.toUpperCase()}, above the plugin's max_tlp (${max?.toUpperCase()})`,
    { pluginName: plugin.name, payloadId, kind: "tlp" },
  );
}
