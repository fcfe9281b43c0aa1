/**
 * `stoq run`: take payloads from providers until they are done; connectors save the responses.
 *
 * @module
 */
import { Stoq } from "../stoq.ts";
import type { ParsedArgs } from "./args.ts";
import type { Output } from "./scan.ts";
import { loadCliConfig, requestMetaOf, stoqOptions } from "./setup.ts";

/** Run `stoq run`; returns the exit code. */
export async function runCommand(args: ParsedArgs, _output: Output): Promise<number> {
  const stoq = await Stoq.create(stoqOptions(args, loadCliConfig(args)));
  try {
    await stoq.run({
      requestMeta: requestMetaOf(args),
      addStartDispatch: args.lists.startDispatch,
      addStartDeepDispatch: args.lists.startDeepDispatch,
    });
    return 0;
  } finally {
    await stoq.close();
  }
}
