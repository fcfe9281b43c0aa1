/**
 * The sandboxed host: a plugin runs in its own permission-scoped Worker (`isolation = worker`, the
 * default) or subprocess (`isolation = process`), as a pool of up to `concurrency` instances. A
 * call that times out or an instance that dies costs that call a typed error; the instance is
 * discarded and a fresh one is started for the next call.
 *
 * @module
 */
import { deserialize, serialize } from "node:v8";
import { fileURLToPath } from "node:url";
import { PluginCrashError, PluginError, PluginTimeoutError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Kind } from "../plugin.ts";
import { frame, FrameReader } from "./frames.ts";
import type { CallOptions, PluginHost, PluginSpec } from "./host.ts";
import { permissionFlags, type Permissions, workerPermissions } from "./permissions.ts";
import {
  type Call,
  type CallResult,
  type GuestMessage,
  GuestMessageSchema,
  type HostMessage,
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
}

/** The default number of instances of a plugin: one per core. */
export const DEFAULT_CONCURRENCY: number = Math.max(1, navigator.hardwareConcurrency || 1);
/** The default heap cap of a subprocess, in MiB. */
export const DEFAULT_MEMORY_LIMIT_MB = 1024;
const CLOSE_GRACE_MS = 5_000;

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

class Pool implements PluginHost {
  readonly name: string;
  kinds: readonly Kind[] = [];
  readonly #spec: PluginSpec;
  readonly #log: Logger;
  readonly #options: SandboxOptions;
  readonly #limit: number;
  readonly #idle: Instance[] = [];
  readonly #all = new Set<Instance>();
  readonly #waiting: Array<{ resolve: (i: Instance) => void; reject: (e: Error) => void }> = [];
  #starting = 0;
  #closed = false;

  constructor(spec: PluginSpec, log: Logger, options: SandboxOptions) {
    this.name = spec.name;
    this.#spec = spec;
    this.#log = log.child(spec.name);
    this.#options = options;
    this.#limit = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  }

  async start() {
    const first = await this.#spawn();
    this.kinds = first.kinds;
    this.#idle.push(first);
  }

  async call(call: Call, options: CallOptions = {}): Promise<CallResult> {
    if (this.#closed) throw new PluginError(this.name, `Plugin "${this.name}" is shut down`);
    if (call.method === "ingest") {
      // A provider's ingest runs for as long as it has items; it shares an instance with other
      // calls instead of holding one, so a multiclass plugin can still save and archive meanwhile.
      let instance = [...this.#all].find((i) => i.alive);
      if (!instance) {
        instance = await this.#spawn();
        this.#idle.push(instance);
      }
      return await instance.call(call, options);
    }
    const instance = await this.#acquire();
    try {
      return await instance.call(call, options);
    } finally {
      this.#release(instance);
    }
  }

  async shutdown() {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0)) {
      waiter.reject(new PluginError(this.name, `Plugin "${this.name}" is shut down`));
    }
    await Promise.all([...this.#all].map((instance) => instance.close()));
    this.#all.clear();
    this.#idle.length = 0;
  }

  async #acquire(): Promise<Instance> {
    while (this.#idle.length > 0) {
      const instance = this.#idle.pop()!;
      if (instance.alive) return instance;
      this.#all.delete(instance);
    }
    if (this.#live() + this.#starting < this.#limit) {
      this.#starting++;
      try {
        const instance = await this.#spawn();
        if (this.#closed) {
          await instance.close();
          throw new PluginError(this.name, `Plugin "${this.name}" is shut down`);
        }
        return instance;
      } finally {
        this.#starting--;
      }
    }
    return await new Promise<Instance>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
    });
  }

  #release(instance: Instance) {
    if (!instance.alive) {
      this.#all.delete(instance);
      // A waiter may now start a fresh instance in the dead one's place.
      const waiter = this.#waiting.shift();
      if (waiter) this.#acquire().then(waiter.resolve, waiter.reject);
      return;
    }
    const waiter = this.#waiting.shift();
    if (waiter) waiter.resolve(instance);
    else this.#idle.push(instance);
  }

  #live(): number {
    let n = 0;
    for (const instance of this.#all) if (instance.alive) n++;
    return n;
  }

  async #spawn(): Promise<Instance> {
    const instance = new Instance(this.#spec, this.#log, this.#options);
    await instance.load();
    this.#all.add(instance);
    return instance;
  }
}

interface Pending {
  method: string;
  resolve: (result: CallResult) => void;
  reject: (err: Error) => void;
  onPut?: CallOptions["onPut"];
  timer?: ReturnType<typeof setTimeout>;
}

/** One Worker or subprocess running the plugin. */
class Instance {
  kinds: Kind[] = [];
  alive = true;
  readonly #spec: PluginSpec;
  readonly #log: Logger;
  readonly #options: SandboxOptions;
  readonly #transport: Transport;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #onLoad?: { resolve: (kinds: Kind[]) => void; reject: (err: Error) => void };
  #onClosed?: () => void;

  constructor(spec: PluginSpec, log: Logger, options: SandboxOptions) {
    this.#spec = spec;
    this.#log = log;
    this.#options = options;
    const events: TransportEvents = {
      message: (data) => this.#receive(data),
      exit: (reason) => this.#died(reason),
      log: (line) => this.#log.info(line),
    };
    this.#transport = options.isolation === "process"
      ? new ProcessTransport(options, events)
      : new WorkerTransport(spec, options.permissions, events);
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

  call(call: Call, options: CallOptions): Promise<CallResult> {
    if (!this.alive) {
      return Promise.reject(
        new PluginCrashError(this.#spec.name, `Plugin "${this.#spec.name}" is not running`),
      );
    }
    const id = ++this.#nextId;
    return new Promise<CallResult>((resolve, reject) => {
      const pending: Pending = { method: call.method, resolve, reject, onPut: options.onPut };
      if (options.timeoutMs) {
        pending.timer = setTimeout(() => {
          this.#pending.delete(id);
          reject(
            new PluginTimeoutError(
              this.#spec.name,
              `Plugin "${this.#spec.name}" did not finish "${call.method}" within ${
                options.timeoutMs! / 1000
              } s; it was stopped and will be restarted`,
            ),
          );
          this.#died(`another call ("${call.method}") timed out`);
        }, options.timeoutMs);
      }
      this.#pending.set(id, pending);
      try {
        this.#transport.send({ type: "call", id, call });
      } catch (err) {
        this.#pending.delete(id);
        clearTimeout(pending.timer);
        reject(
          new PluginError(this.#spec.name, `Cannot send "${call.method}": ${messageOf(err)}`, {
            cause: err,
          }),
        );
      }
    });
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
    const parsed = GuestMessageSchema.safeParse(data);
    if (!parsed.success) {
      const exit = data as { type?: unknown; code?: unknown } | null;
      if (exit && exit.type === "exit") {
        this.#died(`it called Deno.exit(${Number(exit.code) || 0})`);
      } else {
        this.#died(`it sent a malformed message (${parsed.error.issues[0]?.message})`);
      }
      return;
    }
    this.#handle(parsed.data);
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
        const pending = this.#pending.get(message.id);
        if (!pending) return;
        this.#pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.type === "result") {
          pending.resolve(
            message.payloadMeta === undefined
              ? { value: message.value }
              : { value: message.value, payloadMeta: message.payloadMeta },
          );
        } else {
          pending.reject(errorFromWire(message.error, this.#spec.name));
        }
        return;
      }
      case "put": {
        const pending = this.#pending.get(message.call);
        const ack = (error?: string) => {
          if (this.alive) this.#transport.send({ type: "put-ack", id: message.id, error });
        };
        if (!pending?.onPut) {
          ack("This call does not take items");
          return;
        }
        pending.onPut(message.item).then(() => ack(), (err) => ack(messageOf(err)));
        return;
      }
      case "log":
        this.#log[message.level === "critical" ? "error" : message.level](message.message);
        return;
      case "closed":
        this.#onClosed?.();
        return;
    }
  }

  /** The instance is gone (or must go): fail what it was doing and stop it. */
  #died(reason: string) {
    if (!this.alive) return;
    this.alive = false;
    this.#kill();
    const error = () =>
      new PluginCrashError(
        this.#spec.name,
        `Plugin "${this.#spec.name}" crashed: ${reason}; it will be restarted`,
      );
    this.#onLoad?.reject(
      new PluginError(this.#spec.name, `Cannot load plugin "${this.#spec.name}": ${reason}`),
    );
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(error());
    }
    this.#onClosed?.();
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
  send(message: HostMessage): void;
  kill(): void;
}

class WorkerTransport implements Transport {
  readonly #worker: Worker;

  constructor(spec: PluginSpec, permissions: Permissions, events: TransportEvents) {
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

  send(message: HostMessage) {
    this.#worker.postMessage(message);
  }

  kill() {
    this.#worker.terminate();
  }
}

const GUEST_PATH = fileURLToPath(new URL("./process_guest.ts", import.meta.url));
const CONFIG_PATH = fileURLToPath(new URL("../../deno.json", import.meta.url));
/** Environment variables a subprocess needs to find Deno's cache; nothing else is passed. */
const PASSED_ENV = ["DENO_DIR", "HOME", "XDG_CACHE_HOME", "PATH", "NO_COLOR"];

class ProcessTransport implements Transport {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
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

  send(message: HostMessage) {
    this.#stdin.write(frame(serialize(message))).catch(() => {/* the exit is reported */});
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
