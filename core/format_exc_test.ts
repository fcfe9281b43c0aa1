import assert from "node:assert/strict";
import { formatExc } from "./format_exc.ts";

const THIS_FILE = decodeURIComponent(new URL(import.meta.url).pathname);

/** The line this is called from, read off a fresh stack (no file access needed). */
function callerLine(): number {
  const frames = new Error().stack?.split("\n") ?? [];
  const match = /format_exc_test\.ts:(\d+):\d+\)?$/.exec(frames[2] ?? "");
  if (!match) throw new Error(`Cannot find the caller's line in ${frames[2]}`);
  return Number(match[1]);
}

const RAISE_LINE = callerLine() + 2;
function raiseTypeError(): never {
  throw new TypeError("bad input");
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("Expected the function to throw");
}

function withStack(error: Error, stack: string): Error {
  error.stack = stack;
  return error;
}

Deno.test("formatExc() writes the innermost frame, then the error's name and message", () => {
  const text = formatExc(caught(raiseTypeError));
  assert.equal(
    text,
    `File "${THIS_FILE}", line ${RAISE_LINE}, in raiseTypeError ; TypeError: bad input`,
  );
});

Deno.test("formatExc() puts a prefix and a colon before the text", () => {
  const text = formatExc(caught(raiseTypeError), "worker:failed to scan");
  assert.ok(text.startsWith(`worker:failed to scan: File "${THIS_FILE}", line `), text);
  assert.ok(text.endsWith(", in raiseTypeError ; TypeError: bad input"), text);
});

Deno.test("formatExc() uses the first frame of the stack, not a later one", () => {
  const err = withStack(
    new Error("Test exception"),
    [
      "Error: Test exception",
      "    at scan (file:///opt/plugins/simple_worker/mod.ts:42:11)",
      "    at run (file:///opt/stoq/core/stoq.ts:500:3)",
    ].join("\n"),
  );
  assert.equal(
    formatExc(err),
    'File "/opt/plugins/simple_worker/mod.ts", line 42, in scan ; Error: Test exception',
  );
});

Deno.test("formatExc() skips stack lines that are not frames", () => {
  const err = withStack(
    new Error("two\nlines"),
    "Error: two\nlines\n    at <anonymous>\n    at scan (file:///a.ts:7:1)",
  );
  assert.equal(formatExc(err), 'File "/a.ts", line 7, in scan ; Error: two\nlines');
});

Deno.test("formatExc() decodes percent-escaped file URLs to paths", () => {
  const err = withStack(
    new Error("x"),
    "Error: x\n    at scan (file:///opt/my%20plugins/w.ts:3:9)",
  );
  assert.equal(formatExc(err), 'File "/opt/my plugins/w.ts", line 3, in scan ; Error: x');
});

Deno.test("formatExc() names an anonymous top-level frame <module>", () => {
  const err = withStack(new RangeError("x"), "RangeError: x\n    at file:///main.ts:1:5");
  assert.equal(formatExc(err), 'File "/main.ts", line 1, in <module> ; RangeError: x');
});

Deno.test("formatExc() keeps a non-file location as written", () => {
  const err = withStack(
    new Error("x"),
    "Error: x\n    at Object.readFileSync (ext:deno_fs/30_fs.js:10:20)",
  );
  assert.equal(
    formatExc(err),
    'File "ext:deno_fs/30_fs.js", line 10, in Object.readFileSync ; Error: x',
  );
});

Deno.test("formatExc() gives only the name and message when there is no frame", () => {
  const err = withStack(new SyntaxError("no frames"), "SyntaxError: no frames");
  assert.equal(formatExc(err, "decorator"), "decorator: SyntaxError: no frames");
  const bare = new Error("no stack");
  bare.stack = undefined;
  assert.equal(formatExc(bare), "Error: no stack");
});

Deno.test("formatExc() uses an error subclass's name", () => {
  class PluginNotFoundError extends Error {
    override name = "PluginNotFoundError";
  }
  const err = withStack(
    new PluginNotFoundError("missing"),
    "PluginNotFoundError: missing\n    at load (file:///r.ts:2:2)",
  );
  assert.equal(formatExc(err), 'File "/r.ts", line 2, in load ; PluginNotFoundError: missing');
});

Deno.test("formatExc() writes a thrown non-error as text", () => {
  assert.equal(formatExc("plain string"), "plain string");
  assert.equal(formatExc(42, "worker:failed to scan"), "worker:failed to scan: 42");
  assert.equal(formatExc(undefined), "undefined");
});
