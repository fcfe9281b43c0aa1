/**
 * A small Redis client speaking RESP2 over `Deno.connect`: pipelined commands, binary-safe values,
 * and reconnection with backoff. It needs nothing but net access to the server, so it runs in the
 * sandbox with the one grant the redis plugin gets.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CRLF = encoder.encode("\r\n");

/** A value Redis returned. Bulk strings are text, or bytes when asked for with `callBytes`. */
export type Reply = string | number | null | Uint8Array | Reply[];

/** An argument of a command. */
export type Arg = string | number | Uint8Array;

/** Error replies that mean "try again shortly", retried like a lost connection. */
const TRANSIENT_REPLIES: ReadonlySet<string> = new Set(["LOADING", "TRYAGAIN", "MASTERDOWN"]);

/** Redis answered a command with an error (`-ERR ...`, `-NOGROUP ...`). */
export class RedisReplyError extends Error {
  /** The first word of the reply, e.g. `ERR`, `NOGROUP`, `BUSYGROUP`. */
  readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = "RedisReplyError";
    this.code = message.split(" ", 1)[0];
  }
}

/** The connection was lost or could not be made; the command may or may not have run. */
export class RedisConnectionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RedisConnectionError";
  }
}

/** Where a Redis server is, from a `redis://[user:password@]host[:port][/db]` URL. */
export interface RedisAddress {
  hostname: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
}

/** Parse a `redis://` URL. Throws on anything else. */
export function parseRedisUrl(url: string): RedisAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`Invalid Redis URL "${url}": expected redis://host:port[/db]`);
  }
  if (parsed.protocol !== "redis:") {
    throw new Error(`Invalid Redis URL "${url}": only redis:// is supported (no TLS)`);
  }
  const db = parsed.pathname.replace(/^\//, "");
  return {
    hostname: parsed.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1",
    port: parsed.port ? Number(parsed.port) : 6379,
    db: db === "" ? 0 : Number(db),
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
  };
}

interface Waiter {
  bytes: boolean;
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
}

/** One connection. Commands are pipelined; replies come back in order. */
export class RedisConnection {
  readonly #conn: Deno.Conn;
  readonly #waiters: Waiter[] = [];
  #buf = new Uint8Array(64 * 1024);
  #start = 0;
  #end = 0;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;
  /** Resolves when the connection is gone. */
  readonly closed: Promise<void>;

  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.closed = this.#readLoop();
  }

  /** Connect, authenticate and select the database. */
  static async open(address: RedisAddress): Promise<RedisConnection> {
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: address.hostname, port: address.port });
    } catch (err) {
      if (err instanceof Deno.errors.PermissionDenied) throw err;
      throw new RedisConnectionError(
        `Cannot connect to Redis at ${address.hostname}:${address.port}: ${messageOf(err)}`,
        { cause: err },
      );
    }
    conn.setNoDelay(true);
    const connection = new RedisConnection(conn);
    try {
      if (address.password !== undefined) {
        await connection.call(
          ...(address.username ? ["AUTH", address.username, address.password] : [
            "AUTH",
            address.password,
          ]),
        );
      }
      if (address.db) await connection.call("SELECT", address.db);
    } catch (err) {
      connection.close();
      throw err;
    }
    return connection;
  }

  /** True once the connection is gone. */
  get isClosed(): boolean {
    return this.#closed;
  }

  /** Run a command; bulk strings come back as text. */
  call(...args: Arg[]): Promise<Reply> {
    return this.#send([args], false)[0];
  }

  /** Run a command; bulk strings come back as bytes. */
  callBytes(...args: Arg[]): Promise<Reply> {
    return this.#send([args], true)[0];
  }

  /**
   * Send several commands in one write, so nothing another caller sends comes between them (what
   * MULTI/EXEC needs); one promise per command.
   */
  pipeline(commands: Arg[][]): Promise<Reply>[] {
    return this.#send(commands, false);
  }

  /** Close the connection; pending commands fail. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    this.#failAll(new RedisConnectionError("The Redis connection was closed"));
  }

  #send(commands: Arg[][], bytes: boolean): Promise<Reply>[] {
    if (this.#closed) {
      return commands.map(() =>
        Promise.reject(new RedisConnectionError("The Redis connection is closed"))
      );
    }
    const promises = commands.map(() =>
      new Promise<Reply>((resolve, reject) => {
        this.#waiters.push({ bytes, resolve, reject });
      })
    );
    const frame = encodeCommands(commands);
    this.#writing = this.#writing.then(async () => {
      if (this.#closed) return;
      try {
        let written = 0;
        while (written < frame.length) written += await this.#conn.write(frame.subarray(written));
      } catch (err) {
        this.#lost(err);
      }
    });
    return promises;
  }

  async #readLoop() {
    const chunk = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.#conn.read(chunk);
        if (n === null) break;
        this.#append(chunk.subarray(0, n));
        this.#drain();
      }
      this.#lost(new Error("the server closed the connection"));
    } catch (err) {
      this.#lost(err);
    }
  }

  #lost(err: unknown) {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
    this.#failAll(
      new RedisConnectionError(`Lost the Redis connection: ${messageOf(err)}`, { cause: err }),
    );
  }

  #failAll(err: Error) {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(err);
  }

  #append(data: Uint8Array) {
    if (this.#end + data.length > this.#buf.length) {
      const live = this.#end - this.#start;
      const size = Math.max(this.#buf.length, (live + data.length) * 2);
      const next = size > this.#buf.length ? new Uint8Array(size) : this.#buf;
      next.set(this.#buf.subarray(this.#start, this.#end), 0);
      this.#buf = next;
      this.#start = 0;
      this.#end = live;
    }
    this.#buf.set(data, this.#end);
    this.#end += data.length;
  }

  #drain() {
    while (this.#start < this.#end && this.#waiters.length > 0) {
      const waiter = this.#waiters[0];
      const parsed = parseReply(this.#buf, this.#start, this.#end, waiter.bytes);
      if (!parsed) return;
      this.#start = parsed.offset;
      this.#waiters.shift();
      if (parsed.value instanceof RedisReplyError) waiter.reject(parsed.value);
      else waiter.resolve(parsed.value as Reply);
    }
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }
}

function encodeCommands(commands: Arg[][]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (part: Uint8Array) => {
    parts.push(part);
    size += part.length;
  };
  for (const args of commands) {
    push(encoder.encode(`*${args.length}\r\n`));
    for (const arg of args) {
      const bytes = arg instanceof Uint8Array ? arg : encoder.encode(String(arg));
      push(encoder.encode(`$${bytes.length}\r\n`));
      push(bytes);
      push(CRLF);
    }
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

type Parsed = { value: Reply | RedisReplyError; offset: number } | undefined;

function lineEnd(buf: Uint8Array, from: number, end: number): number {
  for (let i = from; i < end - 1; i++) if (buf[i] === 13 && buf[i + 1] === 10) return i;
  return -1;
}

/** Parse one reply at `offset`; undefined when it is not complete yet. */
function parseReply(buf: Uint8Array, offset: number, end: number, bytes: boolean): Parsed {
  if (offset >= end) return undefined;
  const eol = lineEnd(buf, offset + 1, end);
  if (eol < 0) return undefined;
  const type = buf[offset];
  const line = decoder.decode(buf.subarray(offset + 1, eol));
  const next = eol + 2;
  switch (type) {
    case 43: // +
      return { value: line, offset: next };
    case 45: // -
      return { value: new RedisReplyError(line), offset: next };
    case 58: // :
      return { value: Number(line), offset: next };
    case 36: { // $
      const length = Number(line);
      if (length < 0) return { value: null, offset: next };
      if (next + length + 2 > end) return undefined;
      const data = buf.subarray(next, next + length);
      return { value: bytes ? data.slice() : decoder.decode(data), offset: next + length + 2 };
    }
    case 42: { // *
      const count = Number(line);
      if (count < 0) return { value: null, offset: next };
      const items: Reply[] = [];
      let at = next;
      let error: RedisReplyError | undefined;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at, end, bytes);
        if (!item) return undefined;
        if (item.value instanceof RedisReplyError) error ??= item.value;
        else items.push(item.value);
        at = item.offset;
      }
      // An EXEC reply may hold errors; the first one fails the command.
      return { value: error ?? items, offset: at };
    }
    default:
      throw new RedisConnectionError(`Unexpected byte ${type} in a Redis reply`);
  }
}

/** Options of `RedisClient`. */
export interface ClientOptions {
  /** First wait after a lost connection, in milliseconds (default 100). */
  minBackoffMs?: number;
  /** Longest wait between attempts, in milliseconds (default 5000). */
  maxBackoffMs?: number;
  /** Give up after this many milliseconds without a connection (default: never). */
  retryForMs?: number;
  /** Told about each failed attempt. */
  onRetry?: (err: Error, waitMs: number) => void;
}

/**
 * A connection that comes back: a command that fails because the connection is lost waits (with
 * exponential backoff) for Redis to come back and runs again. Use it only for commands that may run
 * twice (the caller decides); `RedisReplyError`s are not retried, except LOADING, TRYAGAIN and
 * MASTERDOWN (a Redis still loading its data after a restart), which are waited out the same way.
 */
export class RedisClient {
  readonly address: RedisAddress;
  readonly #options: ClientOptions;
  #connection: Promise<RedisConnection> | undefined;
  #closed = false;
  #sleeps = new Set<() => void>();

  constructor(address: RedisAddress | string, options: ClientOptions = {}) {
    this.address = typeof address === "string" ? parseRedisUrl(address) : address;
    this.#options = options;
  }

  /** Run a command (text replies), retrying while the connection is lost. */
  call(...args: Arg[]): Promise<Reply> {
    return this.#retry((c) => c.call(...args));
  }

  /** Run a command (byte replies), retrying while the connection is lost. */
  callBytes(...args: Arg[]): Promise<Reply> {
    return this.#retry((c) => c.callBytes(...args));
  }

  /** Run MULTI, the commands and EXEC in one write; returns EXEC's replies. Retried as a whole. */
  transaction(commands: Arg[][]): Promise<Reply[]> {
    return this.#retry(async (c) => {
      const replies = c.pipeline([["MULTI"], ...commands, ["EXEC"]]);
      const settled = await Promise.allSettled(replies);
      const exec = settled[settled.length - 1];
      if (exec.status === "rejected") throw exec.reason;
      for (const s of settled) if (s.status === "rejected") throw s.reason;
      return exec.value as Reply[];
    });
  }

  /** Stop: the connection closes and waiting commands fail. */
  close() {
    this.#closed = true;
    for (const wake of this.#sleeps) wake();
    this.#connection?.then((c) => c.close(), () => {});
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.#closed;
  }

  async #retry<T>(run: (c: RedisConnection) => Promise<T>): Promise<T> {
    const min = this.#options.minBackoffMs ?? 100;
    const max = this.#options.maxBackoffMs ?? 5000;
    const started = Date.now();
    let wait = min;
    while (true) {
      if (this.#closed) throw new RedisConnectionError("The Redis client is closed");
      try {
        return await run(await this.#connect());
      } catch (err) {
        // A Redis that is still loading its data after a restart answers LOADING: wait as for a
        // lost connection (a write refused then would otherwise fail a save and lose a result).
        const transient = err instanceof RedisConnectionError ||
          (err instanceof RedisReplyError && TRANSIENT_REPLIES.has(err.code));
        if (!transient || this.#closed) throw err;
        this.#connection = undefined;
        const limit = this.#options.retryForMs;
        if (limit !== undefined && Date.now() - started + wait > limit) throw err;
        this.#options.onRetry?.(err, wait);
        await this.#sleep(wait);
        wait = Math.min(max, wait * 2);
      }
    }
  }

  #connect(): Promise<RedisConnection> {
    const current = this.#connection;
    if (current) {
      return current.then((c) => {
        if (!c.isClosed) return c;
        if (this.#connection === current) this.#connection = undefined;
        return this.#connect();
      });
    }
    const opening = RedisConnection.open(this.address);
    this.#connection = opening;
    opening.catch(() => {
      if (this.#connection === opening) this.#connection = undefined;
    });
    return opening;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleeps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleeps.add(wake);
    });
  }
}

/** Redis fields `[k1, v1, k2, v2, ...]` as a map (values as they came: text or bytes). */
export function fieldsOf(reply: Reply): Map<string, Reply> {
  const out = new Map<string, Reply>();
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) {
    const key = reply[i];
    out.set(key instanceof Uint8Array ? decoder.decode(key) : String(key), reply[i + 1]);
  }
  return out;
}

/** A reply as text. */
export function text(reply: Reply | undefined): string {
  if (reply instanceof Uint8Array) return decoder.decode(reply);
  return reply == null ? "" : String(reply);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
