/**
 * Run stoq's command line as a user does (`deno task stoq`), in a subprocess.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** `deno` arguments that run cli.ts with the flags of `deno task stoq`. */
export const CLI: readonly string[] = [
  "run",
  "-A",
  "--no-remote",
  "--cached-only",
  fileURLToPath(new URL("../cli.ts", import.meta.url)),
];

/**
 * Run `stoq ...args`, with `stdin` as its standard input (else none); returns the exit code and the
 * decoded output.
 */
export async function runCli(
  args: readonly string[],
  options: { signal?: AbortSignal; stdin?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [...CLI, ...args],
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    signal: options.signal,
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
