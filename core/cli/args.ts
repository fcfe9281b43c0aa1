/**
 * The command line's grammar: subcommands, stoQ's flags, and generated help. Kept free of heavy
 * imports so `--help` is instant.
 *
 * @module
 */

/** How an option takes values. */
type Arity = "flag" | "value" | "list";

/** One option of the command line. */
export interface OptionSpec {
  /** Key in the parsed result. */
  readonly key: string;
  /** Long name without dashes. */
  readonly long: string;
  /** Short letter, if any. */
  readonly short?: string;
  /** How it takes values. */
  readonly arity: Arity;
  /** Placeholder in the help. */
  readonly metavar?: string;
  /** One line of help. */
  readonly help: string;
  /** Commands that accept it. */
  readonly commands: readonly Command[];
  /** Allowed values. */
  readonly choices?: readonly string[];
}

/** The subcommands. */
export const COMMANDS = ["scan", "run", "list", "install", "submit"] as const;
/** A subcommand. */
export type Command = typeof COMMANDS[number];

const SCAN_RUN: readonly Command[] = ["scan", "run"];
const ALL: readonly Command[] = ["scan", "run", "list"];

/** Every option, in help order. */
export const OPTIONS: readonly OptionSpec[] = [
  {
    key: "startDispatch",
    short: "s",
    long: "start-dispatch",
    arity: "list",
    metavar: "NAME",
    help: "workers the initial payloads go to in the first round",
    commands: SCAN_RUN,
  },
  {
    key: "alwaysDispatch",
    short: "a",
    long: "always-dispatch",
    arity: "list",
    metavar: "NAME",
    help: "workers every payload goes to",
    commands: SCAN_RUN,
  },
  {
    key: "dispatchers",
    short: "R",
    long: "dispatchers",
    arity: "list",
    metavar: "NAME",
    help: "dispatchers, run on every payload every round",
    commands: SCAN_RUN,
  },
  {
    key: "deepDispatchers",
    short: "E",
    long: "deep-dispatchers",
    arity: "list",
    metavar: "NAME",
    help: "deep dispatchers, run on a payload after each pass of workers",
    commands: SCAN_RUN,
  },
  {
    key: "startDeepDispatch",
    long: "start-deep-dispatch",
    arity: "list",
    metavar: "NAME",
    help: "workers the initial payloads go to in the first deep dispatch pass",
    commands: SCAN_RUN,
  },
  {
    key: "decorators",
    short: "D",
    long: "decorators",
    arity: "list",
    metavar: "NAME",
    help: "decorators, run on each response",
    commands: SCAN_RUN,
  },
  {
    key: "destArchivers",
    short: "A",
    long: "dest-archivers",
    arity: "list",
    metavar: "NAME",
    help: "archivers that store each payload after the scan",
    commands: SCAN_RUN,
  },
  {
    key: "sourceArchivers",
    short: "S",
    long: "source-archivers",
    arity: "list",
    metavar: "NAME",
    help: "archivers that fetch the payloads provider tasks point at",
    commands: SCAN_RUN,
  },
  {
    key: "connectors",
    short: "C",
    long: "connectors",
    arity: "list",
    metavar: "NAME",
    help: "connectors that save each response (default: print it)",
    commands: SCAN_RUN,
  },
  {
    key: "providers",
    short: "P",
    long: "providers",
    arity: "list",
    metavar: "NAME",
    help: "providers to take payloads from",
    commands: ["run"],
  },
  {
    key: "maxRecursion",
    long: "max-recursion",
    arity: "value",
    metavar: "N",
    help: "maximum number of worker rounds (default 10)",
    commands: SCAN_RUN,
  },
  {
    key: "maxDispatchPasses",
    long: "max-dispatch-passes",
    arity: "value",
    metavar: "N",
    help: "deep dispatch passes per payload per round (default 1)",
    commands: SCAN_RUN,
  },
  {
    key: "maxPayloadSize",
    long: "max-payload-size",
    arity: "value",
    metavar: "BYTES",
    help: "largest payload scanned, initial or extracted (default 0: no limit)",
    commands: SCAN_RUN,
  },
  {
    key: "pluginOpts",
    long: "plugin-opts",
    arity: "list",
    metavar: "NAME:KEY=VALUE",
    help: "set a plugin option; wins over stoq.cfg and the manifest",
    commands: SCAN_RUN,
  },
  {
    key: "requestSource",
    long: "request-source",
    arity: "value",
    metavar: "TEXT",
    help: "the request's source (request_meta.source)",
    commands: [...SCAN_RUN, "submit"],
  },
  {
    key: "requestExtra",
    long: "request-extra",
    arity: "list",
    metavar: "KEY=VALUE",
    help: "add to request_meta.extra_data",
    commands: [...SCAN_RUN, "submit"],
  },
  {
    key: "format",
    long: "format",
    arity: "value",
    metavar: "FORMAT",
    help: "json (default) or text: a tree of payloads with type, size, sha256 and hits",
    commands: ["scan"],
    choices: ["json", "text"],
  },
  {
    key: "engines",
    long: "engines",
    arity: "value",
    metavar: "N",
    help: "pipelines the files are spread over (default: cores if isolation = none, else 1)",
    commands: ["scan"],
  },
  {
    key: "template",
    short: "T",
    long: "template",
    arity: "value",
    metavar: "NAME",
    help: "print each response through template NAME (e.g. text, or a .tpl file)",
    commands: ["scan"],
  },
  {
    key: "pluginDir",
    long: "plugin-dir",
    arity: "list",
    metavar: "DIR",
    help: "more plugin directories (searched after stoq.cfg's; the last wins)",
    commands: ALL,
  },
  {
    key: "configFile",
    long: "config-file",
    arity: "value",
    metavar: "PATH",
    help: "stoq.cfg to use (default $STOQ_HOME/stoq.cfg, else the built-in one)",
    commands: ALL,
  },
  {
    key: "logLevel",
    long: "log-level",
    arity: "value",
    metavar: "LEVEL",
    help: "debug, info, warning, error or critical",
    commands: ALL,
    choices: ["debug", "info", "warning", "error", "critical"],
  },
  {
    key: "installDir",
    long: "install_dir",
    arity: "value",
    metavar: "DIR",
    help: "where to install (default $STOQ_HOME/plugins, else ~/.stoq/plugins)",
    commands: ["install"],
  },
  {
    key: "upgrade",
    long: "upgrade",
    arity: "flag",
    help: "replace an installed plugin of the same name",
    commands: ["install"],
  },
  {
    key: "to",
    long: "to",
    arity: "value",
    metavar: "URL",
    help: "the Redis server: redis://[user:password@]host:port[/db]",
    commands: ["submit"],
  },
  {
    key: "stream",
    long: "stream",
    arity: "value",
    metavar: "NAME",
    help: "the work stream (default stoq; the redis plugin's stream option)",
    commands: ["submit"],
  },
  {
    key: "prefix",
    long: "prefix",
    arity: "value",
    metavar: "TEXT",
    help: "prefix of payload and result keys (default stoq:; the plugin's prefix option)",
    commands: ["submit"],
  },
  {
    key: "payloadTtl",
    long: "payload-ttl",
    arity: "value",
    metavar: "SECONDS",
    help: "keep the stored bytes this long (default 604800, a week; 0: forever)",
    commands: ["submit"],
  },
  {
    key: "wait",
    long: "wait",
    arity: "flag",
    help: "wait for each response and print it (one JSON line per file, in order)",
    commands: ["submit"],
  },
  {
    key: "waitTimeout",
    long: "wait-timeout",
    arity: "value",
    metavar: "SECONDS",
    help: "with --wait, give up after this long (default: wait for ever)",
    commands: ["submit"],
  },
  {
    key: "help",
    short: "h",
    long: "help",
    arity: "flag",
    help: "show this help",
    commands: [...ALL, "install", "submit"],
  },
];

/** The parsed command line. */
export interface ParsedArgs {
  /** The subcommand, if one was given. */
  command?: Command;
  /** Positional arguments (files to scan). */
  positionals: string[];
  /** List options by key. */
  lists: Record<string, string[]>;
  /** Value options by key. */
  values: Record<string, string>;
  /** Flags given. */
  flags: Set<string>;
}

/** A command line that does not follow the grammar: exit 2 after printing help. */
export class UsageError extends Error {
  /** The subcommand, for the help to print. */
  readonly command?: Command;
  /**
   * @example
   * ```ts
   * import { UsageError } from "./args.ts";
   * console.assert(new UsageError("bad", "scan").command === "scan");
   * ```
   */
  constructor(message: string, command?: Command) {
    super(message);
    this.name = this.constructor.name;
    this.command = command;
  }
}

/**
 * Parse a command line. List options take every following word up to the next option, and accept
 * comma lists; if they swallowed the files of `scan` (`scan -a hash file.txt --log-level debug`),
 * the words at the end of the last list that took words and that are existing paths are given
 * back as files (the list keeps its first word).
 *
 * @example
 * ```ts
 * import { parseArgs } from "./args.ts";
 * const args = parseArgs(["scan", "-a", "hash,yara", "--max-recursion", "3", "x.bin"], () => false);
 * console.assert(args.command === "scan" && args.lists.alwaysDispatch.length === 2);
 * console.assert(args.positionals[0] === "x.bin" && args.values.maxRecursion === "3");
 * ```
 */
export function parseArgs(argv: readonly string[], exists: (path: string) => boolean): ParsedArgs {
  const out: ParsedArgs = { positionals: [], lists: {}, values: {}, flags: new Set() };
  // Each list option as given, with the words it took; the lists are built from them at the end,
  // once the files some of them swallowed are given back.
  const taken: { spec: OptionSpec; words: string[]; inline: boolean }[] = [];
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!onlyPositionals && token === "--") {
      onlyPositionals = true;
      continue;
    }
    if (!onlyPositionals && token.startsWith("-") && token !== "-") {
      const [name, inline] = splitInline(token);
      const spec = findOption(name);
      if (!spec) throw new UsageError(`Unknown option "${name}"`, out.command);
      if (out.command && !spec.commands.includes(out.command)) {
        throw new UsageError(`Option "${name}" does not apply to "${out.command}"`, out.command);
      }
      if (spec.arity === "flag") {
        out.flags.add(spec.key);
        continue;
      }
      if (spec.arity === "value") {
        const value = inline ?? argv[++i];
        if (value === undefined) {
          throw new UsageError(`Option "${name}" needs a ${spec.metavar}`, out.command);
        }
        if (spec.choices && !spec.choices.includes(value.toLowerCase())) {
          throw new UsageError(
            `Option "${name}" must be one of ${spec.choices.join(", ")}, got "${value}"`,
            out.command,
          );
        }
        out.values[spec.key] = spec.choices ? value.toLowerCase() : value;
        continue;
      }
      if (inline !== undefined) {
        taken.push({ spec, words: [inline], inline: true });
        continue;
      }
      const words: string[] = [];
      while (i + 1 < argv.length && !(argv[i + 1].startsWith("-") && argv[i + 1] !== "-")) {
        words.push(argv[++i]);
      }
      if (words.length === 0) {
        throw new UsageError(`Option "${name}" needs at least one ${spec.metavar}`, out.command);
      }
      taken.push({ spec, words, inline: false });
      continue;
    }
    if (out.command === undefined && !onlyPositionals) {
      if (!(COMMANDS as readonly string[]).includes(token)) {
        throw new UsageError(`Unknown command "${token}"`);
      }
      out.command = token as Command;
      continue;
    }
    out.positionals.push(token);
  }
  if (out.command === "scan" && out.positionals.length === 0) {
    // `scan -a hash file.txt`: give back the files a list swallowed.
    for (let t = taken.length - 1; t >= 0; t--) {
      const { spec, words, inline } = taken[t];
      if (inline) continue;
      // A plugin option is NAME:KEY=VALUE: a word of that form stays one even if it names a file.
      const isFile = (word: string) =>
        exists(word) && !(spec.key === "pluginOpts" && isPluginOpt(word));
      let keep = words.length;
      while (keep > 1 && isFile(words[keep - 1])) keep--;
      if (keep < words.length) {
        out.positionals.push(...words.splice(keep));
        break;
      }
    }
  }
  for (const { spec, words } of taken) {
    const list = out.lists[spec.key] ??= [];
    for (const word of words) addListItems(list, word, spec);
  }
  return out;
}

/** `NAME:KEY=VALUE`, as `--plugin-opts` takes it: split at the first `:`, then the first `=`. */
export function isPluginOpt(word: string): boolean {
  const colon = word.indexOf(":");
  return colon > 0 && word.indexOf("=", colon + 1) > colon + 1;
}

function splitInline(token: string): [string, string | undefined] {
  if (token.startsWith("--")) {
    const eq = token.indexOf("=");
    return eq < 0 ? [token, undefined] : [token.slice(0, eq), token.slice(eq + 1)];
  }
  return token.length > 2 ? [token.slice(0, 2), token.slice(2)] : [token, undefined];
}

function findOption(name: string): OptionSpec | undefined {
  // Long names match with `-` or `_` alike: stoQ's `--install_dir`, the seeds' `--deep_dispatchers`.
  const long = name.slice(2).replaceAll("_", "-");
  return name.startsWith("--")
    ? OPTIONS.find((o) => o.long.replaceAll("_", "-") === long)
    : OPTIONS.find((o) => o.short === name.slice(1));
}

function addListItems(list: string[], token: string, spec: OptionSpec) {
  // Plugin options and request extras may contain commas in their values.
  if (spec.key === "pluginOpts" || spec.key === "requestExtra") list.push(token);
  else list.push(...token.split(",").map((t) => t.trim()).filter(Boolean));
}

/** The help text of the program, or of one command. */
export function helpText(command?: Command): string {
  const lines: string[] = [];
  if (!command) {
    lines.push(
      "stoq: an automated analysis framework",
      "",
      "Usage: stoq <command> [options]",
      "",
      "Commands:",
      "  scan [FILE|DIR ...]  scan files, every file under a folder, or standard input",
      "  run                  take payloads from providers until they are done, or SIGINT/SIGTERM",
      "  list                 list the plugins found in the plugin directories",
      "  install PLUGIN       install a plugin from a folder or URL, pinned (never fetched at scan time)",
      "  submit FILE... --to redis://HOST:PORT",
      "                       queue files for `stoq run -P redis` consumers (see the redis plugin)",
      "",
      "Run `stoq <command> --help` for a command's options.",
    );
    return lines.join("\n");
  }
  const usage = {
    scan: "stoq scan [options] [FILE|DIR ...]",
    run: "stoq run -P NAME... [options]",
    list: "stoq list [options]",
    install: "stoq install PLUGIN [--install_dir DIR] [--upgrade]",
    submit: "stoq submit FILE|DIR... --to redis://HOST:PORT [--wait] [options]",
  }[command];
  lines.push(`Usage: ${usage}`, "", "Options:");
  const rows = OPTIONS.filter((o) => o.commands.includes(command)).map((o) => {
    const names = [o.short ? `-${o.short},` : "   ", `--${o.long}`].join(" ");
    const meta = o.arity === "flag"
      ? ""
      : o.arity === "list"
      ? ` ${o.metavar}...`
      : ` ${o.metavar}`;
    return [`  ${names}${meta}`, o.help];
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  for (const [left, right] of rows) lines.push(left.padEnd(width) + right);
  if (command === "install") {
    lines.push(
      "",
      "PLUGIN is a plugin folder, its .stoq manifest, or the https: URL of a manifest. A remote",
      "plugin's module, the modules it imports by relative path and the files its manifest lists",
      "under [Install] Files are downloaded now and pinned by SHA-256 in the installed manifest.",
    );
  }
  if (command === "scan") {
    lines.push(
      "",
      "List options take several names (`-a hash yara` or `-a hash,yara`); files may come before or",
      "after them. With no file, standard input is scanned.",
    );
  }
  return lines.join("\n");
}
