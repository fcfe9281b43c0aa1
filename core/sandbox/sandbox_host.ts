/**
 * The sandboxed host: a plugin runs in its own permission-scoped Worker (`isolation = worker`, the
 * default) or subprocess (`isolation = process`), as a pool of up to `concurrency` instances. A
 * call that times out or an instance that dies costs that call a typed error; the instance is
 * discarded and a fresh one is started for the next call.
 *
 * @module
 */
import process from "node:process";
import { setImmediate } from "node:timers";
import { deserialize, serialize } from "node:v8";
import { fileURLToPath } from "node:url";
import { PluginCrashError, PluginError, PluginTimeoutError } from "../errors.ts";
import { IdTable } from "../id_table.ts";
import type { Logger } from "../log.ts";
import type { Kind } from "../plugin.ts";
import { callDeadlines } from "./deadlines.ts";
import { frame, FrameReader } from "./frames.ts";
import type { CallOptions, PluginHost, PluginSpec } from "./host.ts";
import { permissionFlags, type Permissions, workerPermissions } from "./permissions.ts";
import {
  batchCalls,
  type BatchOptions,
  type Call,
  type CallResult,
  type GuestMessage,
  GuestMessageSchema,
  type HostMessage,
  packCall,
  type PackedCall,
  packedFields,
  type ResultBatch,
  type WireError,
} from "./protocol.ts";

/** How a sandboxed plugin is isolated. */
export type Isolation = "worker" | "process";

/** What the sandboxed host needs beyond the plugin's spec. */
export interface SandboxOptions {
  /** Worker (default) or subprocess. */
  isolation: Isolation;
  /** What the plugin may do. */
  permissions: Permissions;
  /** At most this many instances run calls at once (default: the number of cores). */
  concurrency?: number;
  /** Subprocesses only: the V8 heap cap in MiB (default 1024). */
  memoryLimitMb?: number;
  /** Give up loading after this many milliseconds (default 60 s). */
  loadTimeoutMs?: number;
  /**
   * Whether another instance would find a core to run on and a core to feed it: by default, while
   * this process left `IDLE_CORES_TO_GROW` cores idle and its own thread (the core's) was busy at
   * most `CORE_BUSY_TO_GROW` of the time, over the last 200 ms or more (where /proc cannot be
   * read, the idle cores alone decide).
   */
  canGrow?: (now: number) => boolean;
}

/** The default number of instances of a plugin: one per core. */
export const DEFAULT_CONCURRENCY: number = Math.max(1, navigator.hardwareConcurrency || 1);
/** The default heap cap of a subprocess, in MiB. */
export const DEFAULT_MEMORY_LIMIT_MB = 1024;
const CLOSE_GRACE_MS = 5_000;
/** How long a pool waits before it tries again to start an instance that failed to start. */
const RESTART_BACKOFF_MS = 2_000;

/**
 * Start a plugin in the sandbox. Rejects with a `PluginError` naming the plugin when it cannot load.
 *
 * @example
 * ```ts ignore
 * const host = await startSandboxed(spec, log, { isolation: "worker", permissions });
 * const { value } = await host.call({ method: "scan", request }, { timeoutMs: 60_000 });
 * await host.shutdown();
 * ```
 */
export async function startSandboxed(
  spec: PluginSpec,
  log: Logger,
  options: SandboxOptions,
): Promise<PluginHost> {
  const pool = new Pool(spec, log, options);
  await pool.start();
  return pool;
}

/**
 * Calls are sent ahead to an instance, so that message latency overlaps with work: as many as run
 * in about `PIPELINE_MS` at the plugin's measured pace (at most `MAX_IN_FLIGHT`), so short calls
 * go in batches while long ones wait in the pool for whichever instance frees up first. The
 * instance still runs one call at a time, in order; calls it had not started go back to the pool
 * if it dies.
 */
const MAX_IN_FLIGHT = 256;
const PIPELINE_MS = 4;
/**
 * A pool looks at its load over windows of this length: when calls waited behind others (more
 * calls sent or queued than instances) for at least `BACKLOG_SHARE` of a window and the machine
 * has room (`canGrow`), it starts another instance. Starting one costs its `setup()` (a second of
 * compiling, for libmagic), which a short burst of calls never pays back; an instance more on
 * cores already busy, or fed by a core's thread that is busy already, only adds work (another
 * isolate, more and smaller batches of messages).
 */
const GROW_WINDOW_MS = 250;
const BACKLOG_SHARE = 0.75;
const IDLE_CORES_TO_GROW = 0.9;
const CORE_BUSY_TO_GROW = 0.5;

/** The last reading of the process's and this thread's CPU time, and what it gave. */
const cpuSample = { at: 0, processMs: 0, threadMs: 0, room: false };

/** This thread's CPU milliseconds, or undefined where /proc cannot be read. */
function threadCpuMs(): number | undefined {
  try {
    const stat = Deno.readTextFileSync("/proc/thread-self/stat");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** The default `canGrow`: read at most every 200 ms (false until a second reading). */
function machineHasRoom(now: number): boolean {
  if (now - cpuSample.at >= 200) {
    const usage = process.cpuUsage();
    const processMs = (usage.user + usage.system) / 1000;
    const threadMs = threadCpuMs() ?? 0;
    if (cpuSample.at > 0) {
      const elapsed = now - cpuSample.at;
      const idle = DEFAULT_CONCURRENCY - (processMs - cpuSample.processMs) / elapsed;
      const coreBusy = (threadMs - cpuSample.threadMs) / elapsed;
      cpuSample.room = idle >= IDLE_CORES_TO_GROW && coreBusy <= CORE_BUSY_TO_GROW;
    }
    cpuSample.at = now;
    cpuSample.processMs = processMs;
    cpuSample.threadMs = threadMs;
  }
  return cpuSample.room;
}

interface Job {
  call: Call;
  options: CallOptions;
  resolve: (result: CallResult) => void;
  reject: (err: Error) => void;
  /** True once the job was given back by a dead instance; it is not given back twice. */
  retried: boolean;
}

/**
 * A result without a payload meta change: the common message, checked without zod. Its value is
 * checked by the plugin handle, against the schema of the method's return value.
 */
function isPlainResult(item: unknown): item is Extract<GuestMessage, { type: "result" }> {
  const message = item as { type?: unknown; id?: unknown; payloadMeta?: unknown } | null;
  return message !== null && typeof message === "object" && message.type === "result" &&
    Number.isInteger(message.id) && message.payloadMeta === undefined;
}

/** A `ResultBatch` from a guest; its entries are checked one by one. */
function isResultBatch(item: unknown): item is ResultBatch {
  const message = item as { type?: unknown; json?: unknown } | null;
  return message !== null && typeof message === "object" && message.type === "results" &&
    typeof message.json === "string";
}

/** FNV-1a of a string: spreads affinity keys over a pool's instances. */
function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

class Pool implements PluginHost {
  readonly name: string;
  kinds: readonly Kind[] = [];
  readonly #spec: PluginSpec;
  readonly #log: Logger;
  readonly #options: SandboxOptions;
  readonly #limit: number;
  #instances: Instance[] = [];
  readonly #queue: Job[] = [];
  #starting = 0;
  #closed = false;
  /** After a failed start, no new instance is started before this time. */
  #growBlockedUntil = 0;
  /** Time in calls of the instances that are gone. */
  #retiredBusyMs = 0;
  /** The window's start, its time with calls waiting so far, and whether calls wait now. */
  #windowStart = 0;
  #backlogMs = 0;
  #backlogged = false;
  #loadAt = 0;
  /** Looks again at the end of a window in which calls wait and no call ends. */
  #growTimer?: ReturnType<typeof setTimeout>;
  /** See `SandboxOptions.canGrow`. */
  readonly #canGrow: (now: number) => boolean;
  #lastStartError?: Error;

  constructor(spec: PluginSpec, log: Logger, options: SandboxOptions) {
    this.name = spec.name;
    this.#spec = spec;
    this.#log = log.child(spec.name);
    this.#options = options;
    this.#limit = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
    this.#canGrow = options.canGrow ?? machineHasRoom;
  }

  async start() {
    const first = await this.#spawn();
    this.kinds = first.kinds;
    this.#instances.push(first);
  }

  call(call: Call, options: CallOptions = {}): Promise<CallResult> {
    if (this.#closed) return Promise.reject(this.#shutDown());
    if (
      call.method === "ingest" || call.method === "ack" || call.method === "nack" ||
      call.method === "heartbeat"
    ) return this.#callAside(call, options);
    // The common call: no async function around it, one promise less per call.
    return new Promise<CallResult>((resolve, reject) => {
      this.#queue.push({ call, options, resolve, reject, retried: false });
      this.#pump();
    });
  }

  /** A provider's ingest, ack and nack, and heartbeats: not queued like the other calls. */
  async #callAside(call: Call, options: CallOptions): Promise<CallResult> {
    if (call.method !== "heartbeat") {
      // A provider's ingest runs for as long as it has items; it runs beside the instance's other
      // calls instead of holding it, so a multiclass plugin can still save and archive meanwhile.
      // A provider's ack/nack goes to the same instance (the first live one), whose ingest put
      // the item and holds its state.
      let instance = this.#alive()[0];
      if (!instance) {
        instance = await this.#spawn();
        this.#instances.push(instance);
      }
      return await instance.ingest(call, options);
    }
    // Each instance holds its own state (e.g. its own buffer to flush): every live one beats,
    // after the calls already sent to it.
    const beats = this.#alive().map((instance) =>
      new Promise<CallResult>((resolve, reject) => {
        instance.submit({ call, options, resolve, reject, retried: true });
      })
    );
    const settled = await Promise.allSettled(beats);
    const failed = settled.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    return { value: null };
  }

  async shutdown() {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#growTimer);
    for (const job of this.#queue.splice(0)) job.reject(this.#shutDown());
    await Promise.all(this.#instances.map((instance) => instance.close()));
    this.#instances = [];
  }

  /**
   * Hand queued jobs to instances: a dispatcher's job to its payload's instance when it has room,
   * else the instance with the fewest calls in flight (the first of those: a light load keeps to
   * one instance). Looks at the pool's load first (see `GROW_WINDOW_MS`).
   */
  #pump() {
    const now = performance.now();
    this.#watchLoad(now);
    // Most pumps (one per settled call) find nothing queued.
    if (this.#queue.length === 0 || this.#closed) return;
    const alive = this.#alive();
    if (alive.length === 0 && this.#starting === 0) {
      this.#grow();
      return;
    }
    while (this.#queue.length > 0 && !this.#closed) {
      let best: Instance | undefined;
      const key = this.#queue[0].options.affinity;
      if (key !== undefined && alive.length > 1) {
        const preferred = alive[hashOf(key) % alive.length];
        if (preferred.hasRoom) best = preferred;
      }
      if (best === undefined) {
        for (const instance of alive) {
          if (instance.hasRoom && (best === undefined || instance.inFlight < best.inFlight)) {
            best = instance;
          }
        }
      }
      if (!best) break;
      best.submit(this.#queue.shift()!);
    }
    this.#noteLoad(now);
  }

  /** Add the time since the last look to the window's backlog, and note whether calls wait now. */
  #noteLoad(now: number) {
    if (this.#backlogged) this.#backlogMs += now - this.#loadAt;
    this.#loadAt = now;
    let calls = this.#queue.length;
    for (const instance of this.#instances) calls += instance.inFlight;
    this.#backlogged = calls > this.#instances.length;
  }

  /**
   * At the end of a window, start another instance when calls waited for `BACKLOG_SHARE` of it and
   * the machine has room (`canGrow`); while calls wait, look again at the window's end even if no
   * call ends.
   */
  #watchLoad(now: number) {
    this.#noteLoad(now);
    const elapsed = now - this.#windowStart;
    if (elapsed >= GROW_WINDOW_MS) {
      const share = this.#backlogMs / elapsed;
      this.#windowStart = now;
      this.#backlogMs = 0;
      if (share >= BACKLOG_SHARE && this.#hasRoom() && this.#canGrow(now)) this.#grow();
    }
    // Most pumps find the timer armed, or no call waiting: the pool is looked at only then.
    if (this.#backlogged && this.#growTimer === undefined && this.#hasRoom()) {
      this.#growTimer = setTimeout(() => {
        this.#growTimer = undefined;
        this.#pump();
      }, Math.max(1, this.#windowStart + GROW_WINDOW_MS - now));
      Deno.unrefTimer(this.#growTimer);
    }
  }

  /** True while the pool is open and below its limit, counting the instances starting. */
  #hasRoom(): boolean {
    return !this.#closed && this.#alive().length + this.#starting < this.#limit;
  }

  #grow() {
    if (!this.#hasRoom()) return;
    if (performance.now() < this.#growBlockedUntil) {
      // A start failed a moment ago: do not retry on every call. With no instance at all, the
      // queued jobs fail with that error instead of waiting.
      if (this.#alive().length === 0 && this.#starting === 0) {
        for (const job of this.#queue.splice(0)) job.reject(this.#lastStartError!);
      }
      return;
    }
    this.#starting++;
    this.#spawn().then(
      (instance) => {
        if (this.#closed) void instance.close();
        else this.#instances.push(instance);
      },
      (err) => {
        this.#log.error(`Cannot start another instance: ${messageOf(err)}`);
        this.#lastStartError = err instanceof Error ? err : new Error(String(err));
        this.#growBlockedUntil = performance.now() + RESTART_BACKOFF_MS;
        // With no instance left to run them, the queued jobs fail with the load error.
        if (this.#alive().length === 0) {
          for (const job of this.#queue.splice(0)) job.reject(err);
        }
      },
    ).finally(() => {
      this.#starting--;
      this.#pump();
    });
  }

  busyMs(): number {
    return this.#instances.reduce((sum, instance) => sum + instance.busyMs, this.#retiredBusyMs);
  }

  #alive(): Instance[] {
    let dead = false;
    for (const instance of this.#instances) {
      if (!instance.alive) {
        dead = true;
        break;
      }
    }
    if (dead) {
      for (const instance of this.#instances) {
        if (!instance.alive) this.#retiredBusyMs += instance.busyMs;
      }
      this.#instances = this.#instances.filter((instance) => instance.alive);
    }
    return this.#instances;
  }

  async #spawn(): Promise<Instance> {
    const instance = new Instance(this.#spec, this.#log, this.#options, {
      settled: () => this.#pump(),
      giveBack: (jobs) => {
        for (const job of jobs.reverse()) {
          if (job.retried) {
            job.reject(
              new PluginCrashError(
                this.name,
                `Plugin "${this.name}" crashed twice before it could run "${job.call.method}"`,
              ),
            );
          } else {
            job.retried = true;
            this.#queue.unshift(job);
          }
        }
        this.#pump();
      },
    });
    await instance.load();
    return instance;
  }

  #shutDown() {
    return new PluginError(this.name, `Plugin "${this.name}" is shut down`);
  }
}

interface Pending {
  job: Job;
  /** Ingest calls run beside the queue and have no timeout. */
  ingest: boolean;
}

interface InstanceEvents {
  /** A job finished (its instance may take another). */
  settled(): void;
  /** Jobs the instance had not started when it died, to run elsewhere. */
  giveBack(jobs: Job[]): void;
}

/** One Worker or subprocess running the plugin, one call at a time. */
class Instance {
  kinds: Kind[] = [];
  alive = true;
  readonly #spec: PluginSpec;
  readonly #log: Logger;
  readonly #options: SandboxOptions;
  readonly #events: InstanceEvents;
  readonly #transport: Transport;
  // Not a Map: see IdTable.
  readonly #pending = new IdTable<Pending>();
  /** Ids of the calls sent, in order; the first is the one running. */
  readonly #order: number[] = [];
  /** The running call with a timeout, and when it must end. */
  #headId?: number;
  #headDeadline = 0;
  /** When the armed deadline fires (Infinity: none is armed), and how to cancel it. */
  #armedUntil = Infinity;
  #disarm: () => void = () => {};
  /** Average milliseconds per call (with message latency), once measured. */
  #paceMs?: number;
  /** When the running call started, as far as the host can tell. */
  #busySince?: number;
  #nextId = 0;
  /** The guest's last report of its time in calls. */
  #busyMs = 0;
  #onLoad?: { resolve: (kinds: Kind[]) => void; reject: (err: Error) => void };
  #onClosed?: () => void;

  constructor(spec: PluginSpec, log: Logger, options: SandboxOptions, events: InstanceEvents) {
    this.#spec = spec;
    this.#log = log;
    this.#options = options;
    this.#events = events;
    const transportEvents: TransportEvents = {
      message: (data) => this.#receive(data),
      exit: (reason) => this.#died(reason),
      log: (line) => this.#log.info(line),
    };
    this.#transport = options.isolation === "process"
      ? new ProcessTransport(options, transportEvents)
      : new WorkerTransport(spec, options.permissions, transportEvents);
  }

  /** Calls sent and not answered, not counting a provider's ingest. */
  get inFlight(): number {
    return this.#order.length;
  }

  /** Milliseconds the plugin spent running calls, as its guest last reported. */
  get busyMs(): number {
    return this.#busyMs;
  }

  /** True when fewer calls are in flight than `depth`. */
  get hasRoom(): boolean {
    return this.inFlight < this.depth;
  }

  /** How many calls to send ahead, from the measured time per call. */
  get depth(): number {
    if (this.#paceMs === undefined) return 1;
    return Math.max(1, Math.min(MAX_IN_FLIGHT, Math.floor(PIPELINE_MS / this.#paceMs)));
  }

  /** Note a call's completion; while calls were queued, the gap between two is one call's time. */
  #measure(now: number) {
    if (this.#busySince !== undefined) {
      const took = now - this.#busySince;
      this.#paceMs = this.#paceMs === undefined ? took : this.#paceMs * 0.9 + took * 0.1;
    }
    this.#busySince = this.#order.length > 0 ? now : undefined;
  }

  async load(): Promise<void> {
    const ms = this.#options.loadTimeoutMs ?? 60_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      this.kinds = await new Promise<Kind[]>((resolve, reject) => {
        this.#onLoad = { resolve, reject };
        timer = setTimeout(() => {
          reject(
            new PluginTimeoutError(
              this.#spec.name,
              `Plugin "${this.#spec.name}" did not load within ${ms / 1000} s`,
            ),
          );
        }, ms);
        this.#transport.send({
          type: "load",
          spec: {
            name: this.#spec.name,
            moduleUrl: this.#spec.moduleUrl,
            dir: this.#spec.dir,
            options: this.#spec.options,
            declaredKinds: this.#spec.declaredKinds ? [...this.#spec.declaredKinds] : undefined,
          },
        });
      });
    } catch (err) {
      this.#kill();
      throw err;
    } finally {
      clearTimeout(timer);
      this.#onLoad = undefined;
    }
  }

  /** Send a job; it runs after the ones sent before it. */
  submit(job: Job) {
    const id = this.#send(job, false);
    if (id === undefined) return;
    this.#order.push(id);
    if (this.#order.length === 1) {
      this.#busySince = performance.now();
      this.#watch();
    }
  }

  /** Run a provider's ingest beside the queue, without a timeout. */
  ingest(call: Call, options: CallOptions): Promise<CallResult> {
    return new Promise<CallResult>((resolve, reject) => {
      this.#send({ call, options, resolve, reject, retried: true }, true);
    });
  }

  #send(job: Job, ingest: boolean): number | undefined {
    if (!this.alive) {
      job.reject(
        new PluginCrashError(this.#spec.name, `Plugin "${this.#spec.name}" is not running`),
      );
      return undefined;
    }
    const id = ++this.#nextId;
    this.#pending.set(id, { job, ingest });
    try {
      const fields = packedFields(job.call);
      if (fields !== undefined) this.#transport.send({ type: "packed", id, ...fields });
      else {
        const message = { type: "call" as const, id, call: job.call };
        this.#transport.send(packCall(message) ?? message);
      }
    } catch (err) {
      this.#pending.take(id);
      job.reject(
        new PluginError(this.#spec.name, `Cannot send "${job.call.method}": ${messageOf(err)}`, {
          cause: err,
        }),
      );
      return undefined;
    }
    return id;
  }

  /**
   * Time the running call (the first sent and not answered). Costs two fields per call: one shared
   * deadline stays armed while calls follow one another, and when it fires early (the running
   * call started later than the one it was armed for) it is armed again for the rest.
   */
  #watch(now = performance.now()) {
    const id = this.#order[0];
    const pending = id === undefined ? undefined : this.#pending.get(id);
    const ms = pending?.job.options.timeoutMs;
    if (!pending || !ms) {
      // Nothing timed runs: an armed deadline would keep the process alive for nothing.
      this.#headId = undefined;
      this.#unwatch();
      return;
    }
    this.#headId = id;
    this.#headDeadline = now + ms;
    if (this.#headDeadline < this.#armedUntil) this.#unwatch();
    if (this.#armedUntil === Infinity) this.#arm(ms);
  }

  #arm(ms: number) {
    this.#armedUntil = performance.now() + ms;
    this.#disarm = callDeadlines.add(ms, () => {
      this.#armedUntil = Infinity;
      const id = this.#headId;
      if (id === undefined || !this.alive) return;
      const left = this.#headDeadline - performance.now();
      if (left > 0) return this.#arm(left);
      if (this.#order[0] !== id || !this.#pending.get(id)) return;
      this.#order.shift();
      const pending = this.#pending.take(id)!;
      pending.job.reject(
        new PluginTimeoutError(
          this.#spec.name,
          `Plugin "${this.#spec.name}" did not finish "${pending.job.call.method}" within ${
            (pending.job.options.timeoutMs ?? 0) / 1000
          } s; it was stopped and will be restarted`,
        ),
      );
      this.#died(`a call ("${pending.job.call.method}") timed out`, true);
    });
  }

  #unwatch() {
    this.#disarm();
    this.#armedUntil = Infinity;
  }

  /** Ask the plugin to close, then stop it; a plugin that does not answer is stopped anyway. */
  async close(): Promise<void> {
    if (!this.alive) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.#onClosed = resolve;
      timer = setTimeout(resolve, CLOSE_GRACE_MS);
      try {
        this.#transport.send({ type: "close" });
      } catch {
        resolve();
      }
    });
    clearTimeout(timer);
    this.#died("it was shut down");
  }

  #receive(data: unknown) {
    for (const item of Array.isArray(data) ? data : [data]) {
      if (!this.alive) return;
      if (isPlainResult(item)) {
        this.#handle(item);
        continue;
      }
      if (isResultBatch(item)) {
        this.#receiveResults(item.json);
        continue;
      }
      const parsed = GuestMessageSchema.safeParse(item);
      if (!parsed.success) {
        const exit = item as { type?: unknown; code?: unknown } | null;
        if (exit && exit.type === "exit") {
          this.#died(`it called Deno.exit(${Number(exit.code) || 0})`);
        } else {
          this.#died(`it sent a malformed message (${parsed.error.issues[0]?.message})`);
        }
        return;
      }
      this.#handle(parsed.data);
    }
  }

  /** The entries of a `ResultBatch`, each checked as a result sent alone would be. */
  #receiveResults(json: string) {
    let items: unknown;
    try {
      items = JSON.parse(json);
    } catch (err) {
      this.#died(`it sent a malformed message (${messageOf(err)})`);
      return;
    }
    if (!Array.isArray(items) || items.length % 2 !== 0) {
      this.#died("it sent a malformed message (a batch of results that is not id, value pairs)");
      return;
    }
    for (let i = 0; i < items.length; i += 2) {
      if (!this.alive) return;
      const id = items[i];
      if (!Number.isInteger(id)) {
        this.#died("it sent a malformed message (a batched result without a call id)");
        return;
      }
      this.#handle({ type: "result", id, value: items[i + 1] });
    }
  }

  #handle(message: GuestMessage) {
    switch (message.type) {
      case "loaded":
        this.#onLoad?.resolve(message.kinds);
        return;
      case "load-error":
        this.#onLoad?.reject(errorFromWire(message.error, this.#spec.name));
        return;
      case "result":
      case "error": {
        const pending = this.#pending.take(message.id);
        if (!pending) return;
        if (!pending.ingest) {
          const at = this.#order.indexOf(message.id);
          if (at >= 0) this.#order.splice(at, 1);
          if (at === 0) {
            const now = performance.now();
            this.#measure(now);
            this.#watch(now);
          }
        }
        if (message.type === "result") {
          // The message is a CallResult already (value, payloadMeta when it changed).
          pending.job.resolve(message);
        } else {
          pending.job.reject(errorFromWire(message.error, this.#spec.name));
        }
        if (!pending.ingest) this.#events.settled();
        return;
      }
      case "put": {
        const pending = this.#pending.get(message.call);
        const ack = (error?: string) => {
          if (this.alive) this.#transport.send({ type: "put-ack", id: message.id, error });
        };
        const onPut = pending?.job.options.onPut;
        if (!onPut) {
          ack("This call does not take items");
          return;
        }
        onPut(message.item).then(() => ack(), (err) => ack(messageOf(err)));
        return;
      }
      case "log":
        this.#log[message.level === "critical" ? "error" : message.level](message.message);
        return;
      case "closed":
        this.#onClosed?.();
        return;
      case "busy":
        this.#busyMs = message.ms;
        return;
    }
  }

  /**
   * The instance is gone (or must go): the call it was running fails, the calls it had not
   * started go back to the pool, and it is stopped.
   */
  #died(reason: string, runningSettled = false) {
    if (!this.alive) return;
    this.alive = false;
    this.#unwatch();
    this.#kill();
    this.#onLoad?.reject(
      new PluginError(this.#spec.name, `Cannot load plugin "${this.#spec.name}": ${reason}`),
    );
    const crash = () =>
      new PluginCrashError(
        this.#spec.name,
        `Plugin "${this.#spec.name}" crashed: ${reason}; it will be restarted`,
      );
    const order = this.#order.splice(0);
    const unstarted: Job[] = [];
    for (const id of runningSettled ? order : order.slice(1)) {
      const pending = this.#pending.take(id);
      if (pending) unstarted.push(pending.job);
    }
    for (const [id, pending] of this.#pending.entries()) {
      this.#pending.take(id);
      pending.job.reject(crash());
    }
    this.#onClosed?.();
    if (unstarted.length > 0) this.#events.giveBack(unstarted);
    else this.#events.settled();
  }

  #kill() {
    this.alive = false;
    this.#transport.kill();
  }
}

interface TransportEvents {
  message(data: unknown): void;
  exit(reason: string): void;
  log(line: string): void;
}

interface Transport {
  /** Queue a message; messages queued in the same turn of the event loop go as one batch. */
  send(message: HostMessage | PackedCall): void;
  kill(): void;
}

/** Messages in a batch before it goes without waiting for the end of the task. */
const OUTBOX_BATCH = 32;

/** Collects messages and hands them over as one batch at the end of the current task. */
class Outbox<T> {
  #items: T[] = [];
  #scheduled = false;
  readonly #flush: (items: T[]) => void;

  constructor(flush: (items: T[]) => void) {
    this.#flush = flush;
  }

  push(item: T) {
    this.#items.push(item);
    // A full batch goes at once, so the plugin starts on it while the core queues more.
    if (this.#items.length >= OUTBOX_BATCH) return this.#send();
    if (this.#scheduled) return;
    this.#scheduled = true;
    // setImmediate, not setTimeout(0): Deno clamps a zero timeout to about 2 ms.
    setImmediate(() => {
      this.#scheduled = false;
      this.#send();
    });
  }

  #send() {
    const items = this.#items;
    this.#items = [];
    if (items.length > 0) this.#flush(items);
  }
}

class WorkerTransport implements Transport {
  readonly #worker: Worker;
  readonly #outbox = new Outbox<HostMessage | PackedCall>((batch) => {
    const { messages, transfer } = batchCalls(batch, this.#batchOptions);
    this.#worker.postMessage(messages, { transfer });
  });
  readonly #batchOptions: BatchOptions;

  constructor(spec: PluginSpec, permissions: Permissions, events: TransportEvents) {
    this.#batchOptions = { shareContent: spec.shareContent ?? false };
    this.#worker = new Worker(new URL("./worker_guest.ts", import.meta.url), {
      type: "module",
      name: `stoq:${spec.name}`,
      deno: { permissions: workerPermissions(permissions) },
    });
    this.#worker.onmessage = (event) => events.message(event.data);
    this.#worker.onmessageerror = () => events.exit("it sent a message that cannot be read");
    this.#worker.onerror = (event) => {
      event.preventDefault();
      events.exit(`uncaught ${event.message ?? "error"}`);
    };
  }

  send(message: HostMessage | PackedCall) {
    this.#outbox.push(message);
  }

  kill() {
    this.#worker.terminate();
  }
}

const GUEST_PATH = fileURLToPath(new URL("./process_guest.ts", import.meta.url));
const CONFIG_PATH = fileURLToPath(new URL("../../deno.json", import.meta.url));
/**
 * Environment variables a subprocess needs to find Deno's cache, and glibc's malloc settings (see
 * the README's Benchmark); nothing else is passed.
 */
const PASSED_ENV = ["DENO_DIR", "HOME", "XDG_CACHE_HOME", "PATH", "NO_COLOR", "GLIBC_TUNABLES"];

class ProcessTransport implements Transport {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #outbox = new Outbox<HostMessage | PackedCall>((batch) => {
    this.#stdin.write(frame(serialize(batch))).catch(() => {/* the exit is reported */});
  });
  #stderrTail = "";
  #killed = false;

  constructor(options: SandboxOptions, events: TransportEvents) {
    const memory = options.memoryLimitMb ?? DEFAULT_MEMORY_LIMIT_MB;
    const env: Record<string, string> = {};
    for (const key of PASSED_ENV) {
      const value = Deno.env.get(key);
      if (value !== undefined) env[key] = value;
    }
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-prompt",
        "--no-remote",
        "--cached-only",
        `--config=${CONFIG_PATH}`,
        `--v8-flags=--max-old-space-size=${memory}`,
        ...permissionFlags(options.permissions),
        GUEST_PATH,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      clearEnv: true,
      env,
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    void this.#readFrames(events);
    void this.#readStderr(events);
    void this.#child.status.then((status) => {
      if (this.#killed) return;
      const oom = /heap out of memory|out of memory/i.test(this.#stderrTail);
      events.exit(
        oom
          ? `it ran out of memory (memory_limit = ${memory} MiB)`
          : status.signal
          ? `its process was killed by ${status.signal}`
          : `its process exited with code ${status.code}`,
      );
    });
  }

  send(message: HostMessage | PackedCall) {
    this.#outbox.push(message);
  }

  kill() {
    if (this.#killed) return;
    this.#killed = true;
    try {
      this.#child.kill("SIGKILL");
    } catch { /* already gone */ }
    this.#stdin.close().catch(() => {});
  }

  async #readFrames(events: TransportEvents) {
    const reader = new FrameReader();
    try {
      for await (const chunk of this.#child.stdout) {
        for (const body of reader.push(chunk)) events.message(deserialize(body));
      }
    } catch (err) {
      if (!this.#killed) events.exit(`its output could not be read (${messageOf(err)})`);
    }
  }

  async #readStderr(events: TransportEvents) {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of this.#child.stderr) {
      const text = decoder.decode(chunk, { stream: true });
      this.#stderrTail = (this.#stderrTail + text).slice(-4096);
      buffered += text;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) events.log(line);
    }
    if (buffered.trim()) events.log(buffered);
  }
}

const ERROR_CLASSES: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Rebuild an error from the wire with its class (where known), message, stack and cause. */
export function errorFromWire(wire: WireError, plugin: string): Error {
  const cause = wire.cause ? errorFromWire(wire.cause, plugin) : undefined;
  const denoClass = (Deno.errors as unknown as Record<string, ErrorConstructor | undefined>)[
    wire.name
  ];
  const Class = ERROR_CLASSES[wire.name] ?? denoClass;
  let error: Error;
  if (Class) {
    error = new Class(wire.message, cause === undefined ? undefined : { cause });
  } else {
    error = new PluginError(plugin, wire.message, cause === undefined ? undefined : { cause });
    error.name = wire.name;
  }
  if (wire.stack) error.stack = wire.stack;
  return error;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
