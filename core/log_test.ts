import assert from "node:assert/strict";
import {
  createLogger,
  fileSink,
  LOG_LEVELS,
  type LogLevel,
  type LogSink,
  parseLogLevel,
  stderrSink,
} from "./log.ts";

function memorySink(level: LogLevel): LogSink & { lines: string[] } {
  const lines: string[] = [];
  return { level, lines, write: (line) => lines.push(line) };
}

function readLines(path: string): string[] {
  return Deno.readTextFileSync(path).split("\n").filter((line) => line !== "");
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("LOG_LEVELS lists the levels lowest first", () => {
  assert.deepEqual([...LOG_LEVELS], ["debug", "info", "warning", "error", "critical"]);
});

Deno.test("createLogger() writes stoQ's LEVEL:name:message lines", () => {
  const sink = memorySink("debug");
  const log = createLogger("stoq", [sink]);
  log.debug("d");
  log.info("i");
  log.warning("w");
  log.error("e");
  assert.deepEqual(sink.lines, ["DEBUG:stoq:d", "INFO:stoq:i", "WARNING:stoq:w", "ERROR:stoq:e"]);
});

Deno.test("createLogger() drops lines below each sink's level", () => {
  const info = memorySink("info");
  const error = memorySink("error");
  const log = createLogger("stoq", [info, error]);
  log.debug("hidden");
  log.info("started");
  log.warning("careful");
  log.error("Failed to save results using dummy_connector");
  assert.deepEqual(info.lines, [
    "INFO:stoq:started",
    "WARNING:stoq:careful",
    "ERROR:stoq:Failed to save results using dummy_connector",
  ]);
  assert.deepEqual(error.lines, ["ERROR:stoq:Failed to save results using dummy_connector"]);
});

Deno.test("createLogger() writes nothing to a critical sink below critical", () => {
  const sink = memorySink("critical");
  const log = createLogger("stoq", [sink]);
  log.error("e");
  log.warning("w");
  assert.deepEqual(sink.lines, []);
});

Deno.test("Logger.error() appends the cause's stack", () => {
  const sink = memorySink("info");
  const cause = new Error("Test exception, please ignore");
  cause.stack = "Error: Test exception, please ignore\n    at ingest (file:///p.ts:1:1)";
  createLogger("stoq", [sink]).error("Provider failed", cause);
  assert.deepEqual(sink.lines, [
    "ERROR:stoq:Provider failed\nError: Test exception, please ignore\n    at ingest (file:///p.ts:1:1)",
  ]);
});

Deno.test("Logger.error() ignores a cause that is not an Error", () => {
  const sink = memorySink("info");
  createLogger("stoq", [sink]).error("Provider failed", "just text");
  assert.deepEqual(sink.lines, ["ERROR:stoq:Provider failed"]);
});

Deno.test("Logger.child() names the child <parent>.<child> and shares the sinks", () => {
  const sink = memorySink("info");
  const log = createLogger("stoq", [sink]);
  const child = log.child("hash");
  const grandchild = child.child("inner");
  assert.equal(log.name, "stoq");
  assert.equal(child.name, "stoq.hash");
  assert.equal(grandchild.name, "stoq.hash.inner");
  child.info("hashed");
  grandchild.warning("deep");
  child.debug("hidden");
  assert.deepEqual(sink.lines, ["INFO:stoq.hash:hashed", "WARNING:stoq.hash.inner:deep"]);
});

Deno.test("parseLogLevel() accepts level names in any case, with spaces", () => {
  assert.equal(parseLogLevel("DEBUG"), "debug");
  assert.equal(parseLogLevel(" Info "), "info");
  assert.equal(parseLogLevel("warning"), "warning");
  assert.equal(parseLogLevel("ERROR"), "error");
  assert.equal(parseLogLevel("critical"), "critical");
});

Deno.test("parseLogLevel() accepts warn, crit and fatal as aliases", () => {
  assert.equal(parseLogLevel("WARN"), "warning");
  assert.equal(parseLogLevel("crit"), "critical");
  assert.equal(parseLogLevel("fatal"), "critical");
});

Deno.test("parseLogLevel() returns undefined for an unknown level", () => {
  assert.equal(parseLogLevel("errorcrtical"), undefined);
  assert.equal(parseLogLevel(""), undefined);
});

Deno.test("stderrSink() defaults to info and keeps a given level", () => {
  assert.equal(stderrSink().level, "info");
  assert.equal(stderrSink("debug").level, "debug");
});

Deno.test("fileSink() creates the directory and appends lines to stoq.log", () => {
  const tmp = Deno.makeTempDirSync({ prefix: "stoq_log_test_" });
  try {
    const dir = `${tmp}/nested/logs`;
    const sink = fileSink(dir, { level: "debug" });
    assert.equal(sink.level, "debug");
    const log = createLogger("stoq", [sink]);
    log.debug("one");
    log.info("two");
    assert.deepEqual(readLines(`${dir}/stoq.log`), ["DEBUG:stoq:one", "INFO:stoq:two"]);
    assert.equal(fileSink(dir).level, "info");
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("fileSink() rotates stoq.log into numbered backups and keeps backupCount of them", () => {
  const tmp = Deno.makeTempDirSync({ prefix: "stoq_log_test_" });
  try {
    const sink = fileSink(tmp, { maxBytes: 10, backupCount: 2 });
    // Each line is 5 bytes with its newline, so two fit in a file.
    for (const letter of "abcdefg") sink.write(letter.repeat(4));
    assert.deepEqual(readLines(`${tmp}/stoq.log`), ["gggg"]);
    assert.deepEqual(readLines(`${tmp}/stoq.log.1`), ["eeee", "ffff"]);
    assert.deepEqual(readLines(`${tmp}/stoq.log.2`), ["cccc", "dddd"]);
    assert.equal(exists(`${tmp}/stoq.log.3`), false);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("fileSink() counts an existing stoq.log towards the rotation size", () => {
  const tmp = Deno.makeTempDirSync({ prefix: "stoq_log_test_" });
  try {
    Deno.writeTextFileSync(`${tmp}/stoq.log`, "old line\n");
    const sink = fileSink(tmp, { maxBytes: 13 }); // 9 bytes already there, 4 for "new\n"
    sink.write("new");
    assert.deepEqual(readLines(`${tmp}/stoq.log`), ["old line", "new"]);
    sink.write("next");
    assert.deepEqual(readLines(`${tmp}/stoq.log`), ["next"]);
    assert.deepEqual(readLines(`${tmp}/stoq.log.1`), ["old line", "new"]);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("fileSink() rotates at maxBytes when several sinks append to the same stoq.log", () => {
  const tmp = Deno.makeTempDirSync({ prefix: "stoq_log_test_" });
  try {
    // Two engines' sinks: each counts the other's lines, so the file never passes maxBytes.
    const first = fileSink(tmp, { maxBytes: 10, backupCount: 3 });
    const second = fileSink(tmp, { maxBytes: 10, backupCount: 3 });
    for (const letter of "abcdef") (letter < "d" ? first : second).write(letter.repeat(4));
    assert.deepEqual(readLines(`${tmp}/stoq.log`), ["eeee", "ffff"]);
    assert.deepEqual(readLines(`${tmp}/stoq.log.1`), ["cccc", "dddd"]);
    assert.deepEqual(readLines(`${tmp}/stoq.log.2`), ["aaaa", "bbbb"]);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("fileSink() never rotates when maxBytes is 0", () => {
  const tmp = Deno.makeTempDirSync({ prefix: "stoq_log_test_" });
  try {
    const sink = fileSink(tmp, { maxBytes: 0 });
    for (let i = 0; i < 5; i++) sink.write(`line ${i}`);
    assert.equal(readLines(`${tmp}/stoq.log`).length, 5);
    assert.equal(exists(`${tmp}/stoq.log.1`), false);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});

Deno.test("fileSink() writes a line longer than maxBytes to an empty file without rotating", () => {
  const tmp = Deno.makeTempDirSync({ prefix: "stoq_log_test_" });
  try {
    const sink = fileSink(tmp, { maxBytes: 4 });
    sink.write("a long line");
    assert.deepEqual(readLines(`${tmp}/stoq.log`), ["a long line"]);
    assert.equal(exists(`${tmp}/stoq.log.1`), false);
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
});
