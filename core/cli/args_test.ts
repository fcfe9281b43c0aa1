import assert from "node:assert/strict";
import { helpText, parseArgs, UsageError } from "./args.ts";
import { parsePluginOpts, requestMetaOf } from "./setup.ts";

const NOTHING_EXISTS = () => false;

Deno.test("parseArgs() takes list flags as words, comma lists or repeats, in any mix", () => {
  const args = parseArgs(
    ["scan", "-a", "hash", "yara", "-a", "entropy,mimetype", "-R", "yara", "--", "x.bin"],
    NOTHING_EXISTS,
  );
  assert.equal(args.command, "scan");
  assert.deepEqual(args.lists.alwaysDispatch, ["hash", "yara", "entropy", "mimetype"]);
  assert.deepEqual(args.lists.dispatchers, ["yara"]);
  assert.deepEqual(args.positionals, ["x.bin"]);
});

Deno.test("parseArgs() gives back the files a list flag before them swallowed, and only existing ones", () => {
  const exists = (path: string) => path.endsWith(".txt");
  const args = parseArgs(["scan", "-a", "hash", "yara", "a.txt", "b.txt"], exists);
  assert.deepEqual(args.lists.alwaysDispatch, ["hash", "yara"]);
  assert.deepEqual(args.positionals, ["a.txt", "b.txt"]);
  // A word that is no path stays a plugin name (and a missing plugin is reported later, by name).
  const missing = parseArgs(["scan", "-a", "hash", "nosuch.bin"], exists);
  assert.deepEqual(missing.lists.alwaysDispatch, ["hash", "nosuch.bin"]);
  assert.deepEqual(missing.positionals, []);
  // The same option earlier keeps its names.
  const repeated = parseArgs(
    ["scan", "-a", "entropy", "-R", "yara", "-a", "hash", "a.txt"],
    exists,
  );
  assert.deepEqual(repeated.lists.alwaysDispatch, ["entropy", "hash"]);
  assert.deepEqual(repeated.positionals, ["a.txt"]);
  // Other options may follow the list that swallowed the files.
  const later = parseArgs(
    ["scan", "-a", "hash", "a.txt", "-R", "yara", "--log-level", "info"],
    exists,
  );
  assert.deepEqual(later.lists.alwaysDispatch, ["hash"]);
  assert.deepEqual(later.lists.dispatchers, ["yara"]);
  assert.deepEqual(later.positionals, ["a.txt"]);
  // The list keeps at least its first word, even when it names an existing path.
  const first = parseArgs(["scan", "-a", "x.txt"], exists);
  assert.deepEqual(first.lists.alwaysDispatch, ["x.txt"]);
});

Deno.test("parseArgs() reads inline values, short and long, and `_` in long names as `-`", () => {
  const args = parseArgs(
    ["scan", "-ahash", "--max-recursion=3", "--deep_dispatchers", "d1", "--log-level", "ERROR"],
    NOTHING_EXISTS,
  );
  assert.deepEqual(args.lists.alwaysDispatch, ["hash"]);
  assert.equal(args.values.maxRecursion, "3");
  assert.deepEqual(args.lists.deepDispatchers, ["d1"]);
  assert.equal(args.values.logLevel, "error");
  const install = parseArgs(["install", "plugin", "--install-dir", "/p", "--upgrade"], () => true);
  assert.equal(install.values.installDir, "/p");
  assert.ok(install.flags.has("upgrade"));
});

Deno.test("parseArgs() keeps commas inside --plugin-opts and --request-extra values", () => {
  const args = parseArgs(
    ["scan", "--plugin-opts", "yara:worker_rules=a,b.yar", "--request-extra", "tags=x,y", "f"],
    (path) => path === "f",
  );
  assert.deepEqual(args.lists.pluginOpts, ["yara:worker_rules=a,b.yar"]);
  assert.deepEqual(args.lists.requestExtra, ["tags=x,y"]);
  assert.deepEqual(args.positionals, ["f"]);
  // Words after --plugin-opts of the form NAME:KEY=VALUE are options even if they name files;
  // existing paths of another form are given back as files.
  const swallowed = parseArgs(
    ["scan", "--plugin-opts", "hash:x=1", "yara:rules=r.yar", "a.txt", "b.txt"],
    () => true,
  );
  assert.deepEqual(swallowed.lists.pluginOpts, ["hash:x=1", "yara:rules=r.yar"]);
  assert.deepEqual(swallowed.positionals, ["a.txt", "b.txt"]);
  const missing = parseArgs(["scan", "--plugin-opts", "hash:x=1", "gone.txt"], () => false);
  assert.deepEqual(missing.lists.pluginOpts, ["hash:x=1", "gone.txt"]);
  assert.deepEqual(missing.positionals, []);
});

Deno.test("parseArgs() throws a UsageError naming the option or command that is wrong", () => {
  const cases: [string[], string][] = [
    [["scan", "--no-such"], 'Unknown option "--no-such"'],
    [["frobnicate"], 'Unknown command "frobnicate"'],
    [["scan", "-P", "dirmon"], 'Option "-P" does not apply to "scan"'],
    [["scan", "--max-recursion"], 'Option "--max-recursion" needs a'],
    [["scan", "-a", "-R", "yara"], 'Option "-a" needs at least one NAME'],
    [["scan", "--log-level", "loud"], 'Option "--log-level" must be one of'],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseArgs(argv, NOTHING_EXISTS),
      (err: unknown) => err instanceof UsageError && err.message.startsWith(message),
      argv.join(" "),
    );
  }
  assert.equal(
    (() => {
      try {
        parseArgs(["run", "--format", "text"], NOTHING_EXISTS);
      } catch (err) {
        return (err as UsageError).command;
      }
    })(),
    "run",
  );
});

Deno.test("helpText() lists each command's options and only those", () => {
  const scan = helpText("scan");
  assert.ok(scan.includes("--always-dispatch"), scan);
  assert.ok(!scan.includes("--providers"), scan);
  assert.ok(helpText("run").includes("--providers"));
  for (const command of ["scan", "run", "list", "install", "submit"]) {
    assert.ok(helpText().includes(command), command);
  }
});

Deno.test("parsePluginOpts() splits at the first `:` and then the first `=`, keeping the rest", () => {
  const args = parseArgs(["scan"], NOTHING_EXISTS);
  assert.deepEqual(
    parsePluginOpts(["yara:worker_rules=/r:1=2.yar", "hash:x=", "yara:strings_limit=5"], args),
    { yara: { worker_rules: "/r:1=2.yar", strings_limit: "5" }, hash: { x: "" } },
  );
  for (const bad of ["yara", "yara:rules", ":x=1", "yara:=1"]) {
    assert.throws(
      () => parsePluginOpts([bad], args),
      (err: unknown) =>
        err instanceof UsageError && err.message.includes(`NAME:KEY=VALUE, got "${bad}"`),
      bad,
    );
  }
});

Deno.test("requestMetaOf() reads --request-source and --request-extra, with true/false as booleans", () => {
  const args = parseArgs(
    ["scan", "--request-source", "mail", "--request-extra", "a=1", "b=TRUE", "c=false", "d=x=y"],
    NOTHING_EXISTS,
  );
  const meta = requestMetaOf(args).toJSON();
  assert.equal(meta.source, "mail");
  assert.deepEqual(meta.extra_data, { a: "1", b: true, c: false, d: "x=y" });
  assert.throws(
    () => requestMetaOf(parseArgs(["scan", "--request-extra", "novalue"], NOTHING_EXISTS)),
    (err: unknown) => err instanceof UsageError && err.message.includes('got "novalue"'),
  );
});
