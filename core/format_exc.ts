/**
 * `formatExc()`: the one-line error text stoQ puts in a response, from a thrown value:
 * `File "<file>", line <n>, in <function> ; <Name>: <message>`.
 *
 * @module
 */

const FRAME = /^\s*at (?:(.+?) \()?(.+?):(\d+):\d+\)?$/;

/**
 * Describe an error on one line, with the innermost stack frame, as stoQ's `format_exc` does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatExc } from "./format_exc.ts";
 * const text = formatExc(new TypeError("bad"), "worker:failed to scan");
 * assert.match(text, /^worker:failed to scan: File ".+", line \d+, in .+ ; TypeError: bad$/);
 * ```
 */
export function formatExc(error: unknown, prefix?: string): string {
  const head = prefix ? `${prefix}: ` : "";
  if (!(error instanceof Error)) return `${head}${String(error)}`;
  const frame = innermostFrame(error.stack);
  const kind = `${error.name}: ${error.message}`;
  return frame ? `${head}${frame} ; ${kind}` : `${head}${kind}`;
}

function innermostFrame(stack: string | undefined): string | undefined {
  if (!stack) return undefined;
  for (const line of stack.split("\n")) {
    const match = FRAME.exec(line);
    if (!match) continue;
    const [, fn, file, lineNo] = match;
    const where = file.startsWith("file://") ? decodeURIComponent(new URL(file).pathname) : file;
    return `File "${where}", line ${lineNo}, in ${fn ?? "<module>"}`;
  }
  return undefined;
}
