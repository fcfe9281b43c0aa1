/**
 * `stoq run`: take payloads from providers until they are done; connectors save the responses.
 * SIGINT or SIGTERM stops it gracefully: no more items are taken, those taken are finished, and
 * what plugins buffer is written; a second signal ends the process at once.
 *
 * @module
 */
import { Stoq } from "../stoq.ts";
import type { ParsedArgs } from "./args.ts";
import type { Output } from "./scan.ts";
import { loadCliConfig, requestMetaOf, stoqOptions } from "./setup.ts";

/** The exit status after a signal: 128 + its number, as a shell reports a command it ended. */
const SIGNAL_STATUS = { SIGINT: 130, SIGTERM: 143 } as const;

/** Run `stoq run`; returns the exit code. */
export async function runCommand(args: ParsedArgs, output: Output): Promise<number> {
  // Listening before the plugins load: a signal while they load stops the run before it starts.
  const stop = new AbortController();
  let received: keyof typeof SIGNAL_STATUS | undefined;
  const listeners = (Object.keys(SIGNAL_STATUS) as (keyof typeof SIGNAL_STATUS)[]).map(
    (name) => {
      const listener = () => {
        if (received) Deno.exit(SIGNAL_STATUS[name]);
        received = name;
        output.err(
          `stoq run: ${name}: stopping; finishing the items taken (${name} again to stop at once)`,
        );
        stop.abort();
      };
      Deno.addSignalListener(name, listener);
      return [name, listener] as const;
    },
  );
  let stoq: Stoq | undefined;
  try {
    stoq = await Stoq.create(stoqOptions(args, loadCliConfig(args)));
    await stoq.run({
      requestMeta: requestMetaOf(args),
      addStartDispatch: args.lists.startDispatch,
      addStartDeepDispatch: args.lists.startDeepDispatch,
      signal: stop.signal,
    });
    // Stopped as asked: a service manager reads a clean exit; a terminal's Ctrl-C, its usual 130.
    return received === "SIGINT" ? SIGNAL_STATUS.SIGINT : 0;
  } finally {
    await stoq?.close();
    for (const [name, listener] of listeners) Deno.removeSignalListener(name, listener);
  }
}
