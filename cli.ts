/**
 * The `stoq` command line: `scan`, `run` and `list`, with stoQ v3's flags.
 *
 * Usage errors print the help and exit 2; expected failures (a missing file, a bad configuration, an
 * unknown plugin) print one line and exit 1; standard output closed by its reader (`| head`) ends
 * the command quietly with 141, as SIGPIPE would; anything else is a bug and prints its stack.
 *
 * @example
 * ```sh
 * deno run -A cli.ts scan README.md
 * ```
 *
 * @module
 */
import { helpText, parseArgs, UsageError } from "./core/cli/args.ts";

const encoder = new TextEncoder();

/** 128 + SIGPIPE (13). */
const EXIT_OUTPUT_CLOSED = 141;

/** Standard output was closed by its reader. */
class OutputClosed extends Error {
  constructor(options?: ErrorOptions) {
    super("Standard output was closed", options);
    this.name = this.constructor.name;
  }
}

/** Run the command line; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const output = {
    out: (text: string) => {
      try {
        writeAll(Deno.stdout, text + "\n");
      } catch (err) {
        throw err instanceof Deno.errors.BrokenPipe ? new OutputClosed({ cause: err }) : err;
      }
    },
    err: (text: string) => writeAll(Deno.stderr, text + "\n"),
  };
  let command: string | undefined;
  try {
    const args = parseArgs(argv, exists);
    command = args.command;
    if (argv.includes("--version")) {
      const { Stoq } = await import("./core/stoq.ts");
      output.out(`stoq ${Stoq.version}`);
      return 0;
    }
    if (!args.command || args.flags.has("help")) {
      output.out(helpText(args.command));
      return args.command || args.flags.has("help") ? 0 : 2;
    }
    switch (args.command) {
      case "scan":
        return await (await import("./core/cli/scan.ts")).scanCommand(args, output);
      case "run":
        return await (await import("./core/cli/run.ts")).runCommand(args, output);
      case "list":
        return await (await import("./core/cli/list.ts")).listCommand(args, output);
      case "install":
        return await (await import("./core/cli/install.ts")).installCommand(args, output);
      case "submit":
        return await (await import("./core/cli/submit.ts")).submitCommand(args, output);
    }
  } catch (err) {
    // What reads the output has gone (`stoq scan DIR | head`): stop quietly, with the status a
    // shell gives a command SIGPIPE ended.
    if (err instanceof OutputClosed) return EXIT_OUTPUT_CLOSED;
    if (err instanceof UsageError) {
      output.err(`Error: ${err.message}\n`);
      output.err(helpText(err.command));
      return 2;
    }
    const { StoqError, ConfigError } = await import("./core/errors.ts");
    if (
      err instanceof StoqError || err instanceof ConfigError || err instanceof Deno.errors.NotFound
    ) {
      output.err(`Error: ${(err as Error).message}`);
      return 1;
    }
    output.err(`stoq ${command ?? ""}: unexpected error (a bug):`);
    output.err(err instanceof Error ? err.stack ?? err.message : String(err));
    return 1;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string) {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
