/**
 * The one logger: lines go to standard error (and optionally a rotating file), never to standard
 * output, which belongs to the CLI and the stdout connector.
 *
 * @module
 */

/** Log levels, lowest first. */
export const LOG_LEVELS = ["debug", "info", "warning", "error", "critical"] as const;
/** A log level. */
export type LogLevel = typeof LOG_LEVELS[number];

/** A named logger. */
export interface Logger {
  /** The logger's name, e.g. `stoq` or `stoq.hash`. */
  readonly name: string;
  /** Log at DEBUG. */
  debug(message: string): void;
  /** Log at INFO. */
  info(message: string): void;
  /** Log at WARNING. */
  warning(message: string): void;
  /** Log at ERROR. */
  error(message: string, cause?: unknown): void;
  /** A child logger named `<name>.<child>`. */
  child(child: string): Logger;
}

/** Where log lines go. */
export interface LogSink {
  /** The lowest level written. */
  level: LogLevel;
  /** Write one formatted line. */
  write(line: string): void;
}

const encoder = new TextEncoder();

/**
 * A sink writing to standard error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLogger, stderrSink } from "./log.ts";
 * const sink = stderrSink("warning");
 * assert.equal(sink.level, "warning");
 * createLogger("stoq", [sink]).info("not written: below the sink's level");
 * ```
 */
export function stderrSink(level: LogLevel = "info"): LogSink {
  return { level, write: (line) => Deno.stderr.writeSync(encoder.encode(line + "\n")) };
}

/** Options of `fileSink()`. */
export interface FileSinkOptions {
  /** The lowest level written. */
  level?: LogLevel;
  /** Rotate when the file reaches this size (default 1,500,000 bytes, as stoQ). */
  maxBytes?: number;
  /** Rotated files kept: `stoq.log.1` ... (default 5). */
  backupCount?: number;
}

/** A sink appending to `<dir>/stoq.log`, rotating it like Python's RotatingFileHandler. */
export function fileSink(dir: string, options: FileSinkOptions = {}): LogSink {
  const path = `${dir}/stoq.log`;
  const maxBytes = options.maxBytes ?? 1_500_000;
  const backupCount = options.backupCount ?? 5;
  Deno.mkdirSync(dir, { recursive: true });
  // The file's size as it is now: other writers (the engines of `stoq scan --engines`, each with a
  // sink of its own) append to the same file.
  const sizeNow = () => {
    try {
      return Deno.statSync(path).size;
    } catch {
      return 0; // a new file
    }
  };
  return {
    level: options.level ?? "info",
    write(line) {
      const bytes = encoder.encode(line + "\n");
      const size = maxBytes > 0 ? sizeNow() : 0;
      if (maxBytes > 0 && size + bytes.byteLength > maxBytes && size > 0) {
        for (let i = backupCount - 1; i >= 1; i--) {
          try {
            Deno.renameSync(`${path}.${i}`, `${path}.${i + 1}`);
          } catch { /* no such backup */ }
        }
        try {
          if (backupCount > 0) Deno.renameSync(path, `${path}.1`);
          else Deno.truncateSync(path);
        } catch (err) {
          // Another writer rotated it a moment ago.
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        }
      }
      Deno.writeFileSync(path, bytes, { append: true });
    },
  };
}

/**
 * A logger writing to the given sinks. The line format is stoQ's default:
 * `LEVEL:name:message`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLogger } from "./log.ts";
 * const lines: string[] = [];
 * const log = createLogger("stoq", [{ level: "info", write: (l) => lines.push(l) }]);
 * log.debug("hidden");
 * log.warning("shown");
 * assert.deepEqual(lines, ["WARNING:stoq:shown"]);
 * ```
 */
export function createLogger(name: string, sinks: LogSink[]): Logger {
  function emit(level: LogLevel, message: string) {
    const rank = LOG_LEVELS.indexOf(level);
    for (const sink of sinks) {
      if (rank >= LOG_LEVELS.indexOf(sink.level)) {
        sink.write(`${level.toUpperCase()}:${name}:${message}`);
      }
    }
  }
  return {
    name,
    debug: (message) => emit("debug", message),
    info: (message) => emit("info", message),
    warning: (message) => emit("warning", message),
    error(message, cause) {
      const detail = cause instanceof Error ? `\n${cause.stack ?? cause.message}` : "";
      emit("error", message + detail);
    },
    child: (child) => createLogger(`${name}.${child}`, sinks),
  };
}

/**
 * Parse a level name (case-insensitive; `warn` and `crit` accepted).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLogLevel } from "./log.ts";
 * assert.equal(parseLogLevel("WARN"), "warning");
 * assert.equal(parseLogLevel("errorcrtical"), undefined);
 * ```
 */
export function parseLogLevel(value: string): LogLevel | undefined {
  const lower = value.trim().toLowerCase();
  if (lower === "warn") return "warning";
  if (lower === "crit" || lower === "fatal") return "critical";
  return (LOG_LEVELS as readonly string[]).includes(lower) ? lower as LogLevel : undefined;
}
