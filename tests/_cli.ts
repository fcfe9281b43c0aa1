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

/** Run `stoq ...args`; returns the exit code and the decoded output. */
export async function runCli(
  args: readonly string[],
  options: { signal?: AbortSignal } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...CLI, ...args],
    stdout: "piped",
    stderr: "piped",
    signal: options.signal,
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
