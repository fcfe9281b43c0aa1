import assert from "node:assert/strict";
import { z } from "zod";
import { ConfigError } from "./errors.ts";
import {
  coerceOptions,
  CORE_OPTION_KEYS,
  mergeOptions,
  parseBoolean,
  type RawOptions,
  splitList,
} from "./options.ts";

/** Options as stoq.cfg would give them: text, each with its own line. */
function cfg(values: Record<string, unknown>): RawOptions {
  return Object.fromEntries(
    Object.entries(values).map((
      [key, value],
      i,
    ) => [key, { value, origin: `"stoq.cfg" line ${i + 1}` }]),
  );
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err;
  }
  throw new Error("Expected a ConfigError");
}

Deno.test("coerceOptions() reads configparser's boolean words", () => {
  const schema = z.object({ flag: z.boolean() });
  const cases: [string, boolean][] = [
    ["True", true],
    ["False", false],
    ["yes", true],
    ["no", false],
    ["on", true],
    ["off", false],
    ["1", true],
    ["0", false],
    ["TRUE", true],
    [" Off ", false],
  ];
  for (const [text, expected] of cases) {
    assert.equal(coerceOptions("p", schema, cfg({ flag: text })).flag, expected, text);
  }
});

Deno.test("coerceOptions() reads booleans through default and optional wrappers", () => {
  const schema = z.object({ flag: z.boolean().default(false).optional() });
  assert.equal(coerceOptions("p", schema, cfg({ flag: "yes" })).flag, true);
});

Deno.test("coerceOptions() reads numbers and integers", () => {
  const schema = z.object({ count: z.number().int(), ratio: z.number(), n: z.int() });
  const options = coerceOptions("p", schema, cfg({ count: "16", ratio: " 2.5 ", n: "-3" }));
  assert.deepEqual(options, { count: 16, ratio: 2.5, n: -3 });
});

Deno.test("coerceOptions() reads a comma list, trimming items and dropping empty ones", () => {
  const schema = z.object({ names: z.array(z.string()) });
  assert.deepEqual(coerceOptions("p", schema, cfg({ names: " a, b,,c " })).names, ["a", "b", "c"]);
});

Deno.test("coerceOptions() reads a JSON array, keeping commas inside items", () => {
  const schema = z.object({ names: z.array(z.string()) });
  assert.deepEqual(coerceOptions("p", schema, cfg({ names: '["a,b", "c"]' })).names, ["a,b", "c"]);
});

Deno.test("coerceOptions() coerces each list item to the element type", () => {
  const schema = z.object({ ports: z.array(z.number()), flags: z.array(z.boolean()) });
  const options = coerceOptions("p", schema, cfg({ ports: "80, 443", flags: '["yes", false]' }));
  assert.deepEqual(options, { ports: [80, 443], flags: [true, false] });
});

Deno.test("coerceOptions() reads JSON objects for object and record options", () => {
  const schema = z.object({
    headers: z.record(z.string(), z.string()),
    nested: z.object({ depth: z.number(), tags: z.array(z.string()) }),
  });
  const options = coerceOptions(
    "p",
    schema,
    cfg({ headers: '{"X-Key": "v"}', nested: '{"depth": 2, "tags": ["a"]}' }),
  );
  assert.deepEqual(options, { headers: { "X-Key": "v" }, nested: { depth: 2, tags: ["a"] } });
});

Deno.test("coerceOptions() leaves values given in code untouched", () => {
  const schema = z.object({ flag: z.boolean(), count: z.number(), names: z.array(z.string()) });
  const raw: RawOptions = {
    flag: { value: true, origin: "plugin_opts" },
    count: { value: 5, origin: "plugin_opts" },
    names: { value: ["x"], origin: "plugin_opts" },
  };
  assert.deepEqual(coerceOptions("p", schema, raw), { flag: true, count: 5, names: ["x"] });
});

Deno.test("coerceOptions() applies the schema's defaults to options not given", () => {
  const schema = z.object({ recursive: z.boolean().default(false), depth: z.number().default(3) });
  assert.deepEqual(coerceOptions("filedir", schema, cfg({ depth: "7" })), {
    recursive: false,
    depth: 7,
  });
});

Deno.test("coerceOptions() rejects an unknown option, naming the plugin, the option and its origin", () => {
  const schema = z.object({ recursive: z.boolean().default(false) });
  const err = configError(() =>
    coerceOptions("filedir", schema, {
      bogus: { value: "1", origin: '"stoq.cfg" line 12' },
    })
  );
  assert.match(err.message, /"bogus"/);
  assert.match(err.message, /"filedir"/);
  assert.ok(err.message.includes('"stoq.cfg" line 12'), err.message);
  assert.ok(err.message.includes('"recursive"'), err.message);
});

Deno.test("coerceOptions() rejects a value of the wrong type, naming its origin and the value", () => {
  const schema = z.object({ workers: z.number() });
  const err = configError(() =>
    coerceOptions("hash", schema, {
      workers: { value: "many", origin: "--plugin-opts" },
    })
  );
  assert.match(err.message, /"workers"/);
  assert.match(err.message, /"hash"/);
  assert.ok(err.message.includes("--plugin-opts"), err.message);
  assert.ok(err.message.includes('"many"'), err.message);
});

Deno.test("coerceOptions() rejects a word that is not a boolean, naming the value", () => {
  const schema = z.object({ flag: z.boolean() });
  const err = configError(() => coerceOptions("p", schema, cfg({ flag: "maybe" })));
  assert.ok(err.message.includes('"maybe"'), err.message);
  assert.ok(err.message.includes('"stoq.cfg" line 1'), err.message);
});

Deno.test("coerceOptions() rejects invalid JSON for an object option, naming its origin", () => {
  const schema = z.object({ headers: z.record(z.string(), z.string()) });
  const err = configError(() => coerceOptions("p", schema, cfg({ headers: "{not json" })));
  assert.ok(err.message.includes('"headers"'), err.message);
  assert.ok(err.message.includes('"stoq.cfg" line 1'), err.message);
});

Deno.test("coerceOptions() does not pass the core's keys to the plugin's schema", () => {
  assert.deepEqual(
    [...CORE_OPTION_KEYS].toSorted(),
    [
      "allow_env",
      "allow_ffi",
      "allow_net",
      "allow_read",
      "allow_run",
      "allow_sys",
      "allow_write",
      "concurrency",
      "dispatch_once",
      "heartbeat_interval",
      "isolation",
      "max_stoq_version",
      "max_tlp",
      "memory_limit",
      "min_stoq_version",
      "request_scope",
      "required_workers",
      "share_content",
      "timeout",
    ],
  );
  // A loose object would keep any key it is given, so the core keys must not reach it.
  const schema = z.looseObject({ depth: z.number().default(1) });
  const options = coerceOptions(
    "p",
    schema,
    cfg({
      required_workers: "dummy_worker",
      min_stoq_version: "3.0",
      max_stoq_version: "4",
      timeout: "9",
    }),
  );
  assert.deepEqual(options, { depth: 1 });
});

Deno.test("coerceOptions() rejects any option for a plugin with no schema", () => {
  const err = configError(() => coerceOptions("dummy_worker", undefined, cfg({ anything: "x" })));
  assert.match(err.message, /"anything"/);
  assert.match(err.message, /"dummy_worker"/);
  assert.ok(err.message.includes('"stoq.cfg" line 1'), err.message);
});

Deno.test("coerceOptions() accepts only core keys for a plugin with no schema", () => {
  assert.deepEqual(coerceOptions("dummy_worker", undefined, cfg({ required_workers: "hash" })), {});
  assert.deepEqual(coerceOptions("dummy_worker", undefined, {}), {});
});

Deno.test("mergeOptions() lets later layers win", () => {
  const manifest: RawOptions = {
    a: { value: "manifest", origin: "m" },
    b: { value: "manifest", origin: "m" },
    c: { value: "manifest", origin: "m" },
  };
  const stoqCfg: RawOptions = {
    b: { value: "cfg", origin: "s" },
    c: { value: "cfg", origin: "s" },
  };
  const pluginOpts: RawOptions = { c: { value: "opts", origin: "o" } };
  assert.deepEqual(mergeOptions(manifest, stoqCfg, pluginOpts), {
    a: { value: "manifest", origin: "m" },
    b: { value: "cfg", origin: "s" },
    c: { value: "opts", origin: "o" },
  });
});

Deno.test("mergeOptions() lower-cases keys so differently cased names override each other", () => {
  const merged = mergeOptions(
    { Depth: { value: "1", origin: "m" } },
    { DEPTH: { value: "2", origin: "s" }, Other: { value: "x", origin: "s" } },
  );
  assert.deepEqual(merged, {
    depth: { value: "2", origin: "s" },
    other: { value: "x", origin: "s" },
  });
});

Deno.test("mergeOptions() leaves its layers unchanged", () => {
  const first: RawOptions = { Key: { value: "1", origin: "m" } };
  const second: RawOptions = { key: { value: "2", origin: "s" } };
  mergeOptions(first, second);
  assert.deepEqual(first, { Key: { value: "1", origin: "m" } });
  assert.deepEqual(second, { key: { value: "2", origin: "s" } });
  assert.deepEqual(mergeOptions(), {});
});

Deno.test("parseBoolean() returns undefined for a word that is not a boolean", () => {
  assert.equal(parseBoolean("Yes"), true);
  assert.equal(parseBoolean("0"), false);
  assert.equal(parseBoolean("maybe"), undefined);
  assert.equal(parseBoolean(""), undefined);
});

Deno.test("splitList() splits on commas, trimming and dropping empty items", () => {
  assert.deepEqual(splitList("hash, yara ,,exif"), ["hash", "yara", "exif"]);
  assert.deepEqual(splitList(""), []);
  assert.deepEqual(splitList(" , "), []);
});
