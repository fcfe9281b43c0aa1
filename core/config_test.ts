// Expected values for the subtle cases were confirmed against Python 3.11's
// configparser.ConfigParser() with default settings (and allow_no_value=True where noted).

import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError } from "./errors.ts";
import { IniFile, parseIni, readIniFile } from "./config.ts";

/** Asserts that `fn` throws a ConfigError with that exact message, file and line. */
function assertConfigError(
  fn: () => unknown,
  message: string,
  where: { file?: string; line?: number },
): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.name, "ConfigError");
    assert.equal(err.message, message);
    assert.equal(err.file, where.file);
    assert.equal(err.line, where.line);
    return true;
  });
}

Deno.test("parseIni() reads sections in file order with their lines", () => {
  const ini = parseIni("[core]\na = 1\n\n[plugin]\nb = 2\n");
  assert.ok(ini instanceof IniFile);
  assert.deepEqual(ini.sectionNames(), ["core", "plugin"]);
  assert.equal(ini.sections.get("plugin")?.line, 4);
  assert.deepEqual(ini.sections.get("core")?.options.get("a"), { value: "1", line: 2 });
  assert.equal(ini.get("plugin", "b"), "2");
  assert.equal(ini.file, undefined);
});

Deno.test("parseIni() keeps section names case-sensitive and as written", () => {
  // Python: "[ sec ]" is section " sec "; "[a]b]" is "a]b"; text after the last "]" is ignored.
  const ini = parseIni("[Core]\na=1\n[core]\na=2\n[ sec ]\nb=1\n[a]b]\nc=1\n[x] junk\nd=1\n");
  assert.deepEqual(ini.sectionNames(), ["Core", "core", " sec ", "a]b", "x"]);
  assert.equal(ini.get("Core", "a"), "1");
  assert.equal(ini.get("core", "a"), "2");
  assert.equal(ini.get("CORE", "a"), undefined);
  assert.ok(ini.hasSection(" sec "));
  assert.ok(!ini.hasSection("sec"));
});

Deno.test("parseIni() accepts both delimiters and splits on the first one", () => {
  const ini = parseIni("[s]\na = b:c\nd: e=f\ng:h=i\nempty =\nspaced   :   v  \n");
  assert.equal(ini.get("s", "a"), "b:c");
  assert.equal(ini.get("s", "d"), "e=f");
  assert.equal(ini.get("s", "g"), "h=i");
  assert.equal(ini.get("s", "empty"), "");
  assert.equal(ini.get("s", "spaced"), "v");
});

Deno.test("parseIni() lower-cases keys and get() is case-insensitive", () => {
  const ini = parseIni("[s]\nMixed_Case Key = Value\n");
  assert.deepEqual([...ini.sections.get("s")!.options.keys()], ["mixed_case key"]);
  assert.equal(ini.get("s", "MIXED_CASE KEY"), "Value");
  assert.equal(ini.get("s", "mixed_case key"), "Value");
});

Deno.test("get() returns undefined for a missing section or option", () => {
  const ini = parseIni("[s]\na = 1\n");
  assert.equal(ini.get("s", "b"), undefined);
  assert.equal(ini.get("t", "a"), undefined);
  assert.equal(ini.getList("t", "a"), undefined);
  assert.deepEqual(ini.entries("t"), []);
});

Deno.test("parseIni() inherits [DEFAULT] in every section without listing it as a section", () => {
  const ini = parseIni("[DEFAULT]\nlevel = info\nroot = /srv\n[a]\nlevel = debug\n[b]\n");
  assert.deepEqual(ini.sectionNames(), ["a", "b"]);
  assert.ok(!ini.hasSection("DEFAULT"));
  assert.equal(ini.defaults.name, "DEFAULT");
  assert.equal(ini.defaults.line, 1);
  assert.equal(ini.get("a", "level"), "debug");
  assert.equal(ini.get("b", "LEVEL"), "info");
  assert.equal(ini.get("b", "root"), "/srv");
  assert.equal(ini.get("DEFAULT", "level"), "info");
});

Deno.test("parseIni() gives an empty [DEFAULT] when absent and treats [default] as ordinary", () => {
  const ini = parseIni("[default]\nx = 1\n");
  assert.deepEqual(ini.sectionNames(), ["default"]);
  assert.equal(ini.defaults.line, 0);
  assert.equal(ini.defaults.options.size, 0);
});

Deno.test("parseIni() merges repeated [DEFAULT] sections like configparser", () => {
  const ini = parseIni("[DEFAULT]\nx = 1\n[s]\n[DEFAULT]\ny = 2\n");
  assert.equal(ini.defaults.line, 1);
  assert.equal(ini.get("s", "x"), "1");
  assert.equal(ini.get("s", "y"), "2");
});

Deno.test("parseIni() skips # and ; comment lines, indented ones too", () => {
  const ini = parseIni("# top\n; top\n[s]\n  # indented\na = 1\n    ; inside a value\n  2\n");
  assert.equal(ini.get("s", "a"), "1\n2");
  assert.deepEqual([...ini.sections.get("s")!.options.keys()], ["a"]);
});

Deno.test("parseIni() has no inline comments", () => {
  const ini = parseIni("[s]\na = b # c\nc = d ; e\nurl = http://x/#frag\n");
  assert.equal(ini.get("s", "a"), "b # c");
  assert.equal(ini.get("s", "c"), "d ; e");
  assert.equal(ini.get("s", "url"), "http://x/#frag");
});

Deno.test("parseIni() joins indented continuation lines with newlines", () => {
  const ini = parseIni("[s]\na = first\n  second\n\tthird\nb = 2\n");
  assert.deepEqual(ini.sections.get("s")!.options.get("a"), {
    value: "first\nsecond\nthird",
    line: 2,
  });
  assert.equal(ini.get("s", "b"), "2");
});

Deno.test("parseIni() keeps blank lines inside a value and drops trailing ones", () => {
  // Python: 'x\ny\n\nz' and 'w'; a comment line adds no blank line.
  const ini = parseIni("[s]\na = x\n  y\n\n  z\n\n\nb = w\n\n  # c\n\n\n");
  assert.equal(ini.get("s", "a"), "x\ny\n\nz");
  assert.equal(ini.get("s", "b"), "w");
});

Deno.test("parseIni() reads a multi-line JSON value", () => {
  const ini = parseIni(
    '[s]\nj = {\n    "a": 1,\n\n    "b": [1,\n      2]\n  }\nk = 1\n',
  );
  const json = ini.get("s", "j");
  // Python: '{\n"a": 1,\n\n"b": [1,\n2]\n}'
  assert.equal(json, '{\n"a": 1,\n\n"b": [1,\n2]\n}');
  assert.deepEqual(JSON.parse(json!), { a: 1, b: [1, 2] });
  assert.equal(ini.get("s", "k"), "1");
});

Deno.test("parseIni() continues an empty value, keeping the leading newline", () => {
  // Python: 'a =\n  x\n  y' gives '\nx\ny'.
  assert.equal(parseIni("[s]\na =\n  x\n  y\n").get("s", "a"), "\nx\ny");
});

Deno.test("parseIni() measures continuation against the indentation of the key", () => {
  // Python: {'a': '1\nb', 'c': '2'}; an indented line right after a header is a key.
  const ini = parseIni("[s]\n  a = 1\n    b\n  c = 2\n[t]\n  d = 3\n");
  assert.equal(ini.get("s", "a"), "1\nb");
  assert.equal(ini.get("s", "c"), "2");
  assert.equal(ini.get("t", "d"), "3");
});

Deno.test("parseIni() treats an indented section header after a key as a continuation", () => {
  // Python: {'s': {'a': '1\n[t]'}}
  const ini = parseIni("[s]\na = 1\n  [t]\n");
  assert.deepEqual(ini.sectionNames(), ["s"]);
  assert.equal(ini.get("s", "a"), "1\n[t]");
});

Deno.test("parseIni() with allowNoValue reads a key without delimiter as null", () => {
  const ini = parseIni("[s]\nflag\nother flag  \nx = 1\n", { allowNoValue: true });
  assert.equal(ini.get("s", "flag"), null);
  assert.equal(ini.get("s", "other flag"), null);
  assert.equal(ini.get("s", "x"), "1");
  assert.deepEqual(ini.getList("s", "flag"), []);
  assert.deepEqual(ini.entries("s"), [["flag", null, 2], ["other flag", null, 3], ["x", "1", 4]]);
});

Deno.test("parseIni() interpolates %(name)s from the section and DEFAULT", () => {
  const ini = parseIni(
    "[DEFAULT]\nroot = /srv\ndir = %(root)s/%(name)s\nname = default\n" +
      "[a]\nname = alpha\npath = %(DIR)s/x\n[b]\npath = %(dir)s\n",
  );
  // A DEFAULT value is interpolated in the context of the section that reads it.
  assert.equal(ini.get("a", "path"), "/srv/alpha/x");
  assert.equal(ini.get("a", "dir"), "/srv/alpha");
  assert.equal(ini.get("b", "path"), "/srv/default");
  assert.equal(ini.get("DEFAULT", "dir"), "/srv/default");
  assert.equal(ini.sections.get("a")!.options.get("path")!.value, "%(DIR)s/x");
});

Deno.test("parseIni() turns %% into % in values and in referenced values", () => {
  const ini = parseIni("[s]\na = 100%%\nb = %(a)s and %%(a)s\n");
  assert.equal(ini.get("s", "a"), "100%");
  assert.equal(ini.get("s", "b"), "100% and %(a)s");
});

Deno.test("parseIni() keeps a bare % literally instead of failing", () => {
  const ini = parseIni("[s]\na = 100%\nb = 50% off\nc = %d %s\nd = %(a)s%\n");
  assert.equal(ini.get("s", "a"), "100%");
  assert.equal(ini.get("s", "b"), "50% off");
  assert.equal(ini.get("s", "c"), "%d %s");
  assert.equal(ini.get("s", "d"), "100%%");
});

Deno.test("get() throws ConfigError on a reference to a missing option", () => {
  const ini = parseIni("[s]\na = 1\nb = x %(nope)s y\n", { file: "stoq.cfg" });
  assertConfigError(
    () => ini.get("s", "b"),
    'Cannot interpolate "stoq.cfg" line 3: option "b" in section "s" refers to missing option "nope"',
    { file: "stoq.cfg", line: 3 },
  );
  // Python: the name is lower-cased but not stripped, so "%( a )s" is missing too.
  assertConfigError(
    () => parseIni("[s]\na = 1\nb = %( a )s\n").get("s", "b"),
    'Cannot interpolate line 3: option "b" in section "s" refers to missing option " a "',
    { line: 3 },
  );
});

Deno.test("get() names the option holding a missing reference found through another", () => {
  const ini = parseIni("[DEFAULT]\nd = %(missing)s\n[s]\na = %(d)s\n", { file: "x.cfg" });
  assertConfigError(
    () => ini.get("s", "a"),
    'Cannot interpolate "x.cfg" line 2: option "d" (needed by option "a" in section "s") ' +
      'refers to missing option "missing"',
    { file: "x.cfg", line: 2 },
  );
  assert.throws(() => ini.entries("s"), ConfigError);
  assert.throws(() => ini.getList("s", "a"), ConfigError);
});

Deno.test("get() throws ConfigError on a malformed %( reference", () => {
  assertConfigError(
    () => parseIni("[s]\nb = 1\na = %(b)d\n", { file: "f.cfg" }).get("s", "a"),
    'Cannot interpolate "f.cfg" line 3: option "a" in section "s" has a bad reference, ' +
      'expected "%(name)s" or "%%", got "%(b)d"',
    { file: "f.cfg", line: 3 },
  );
});

Deno.test("get() throws ConfigError on a reference to an option without a value", () => {
  const ini = parseIni("[s]\nflag\na = %(flag)s\n", { allowNoValue: true });
  assertConfigError(
    () => ini.get("s", "a"),
    'Cannot interpolate line 3: option "a" in section "s" refers to option "flag", which has no value',
    { line: 3 },
  );
});

Deno.test("get() allows 10 levels of nested references and rejects 11, like configparser", () => {
  function chain(length: number): string {
    const lines = ["[s]"];
    for (let i = 0; i < length; i++) lines.push(`a${i} = %(a${i + 1})s`);
    lines.push(`a${length} = end`);
    return lines.join("\n");
  }
  // Python: a chain of 10 references resolves; 11 raises InterpolationDepthError.
  assert.equal(parseIni(chain(10)).get("s", "a0"), "end");
  assertConfigError(
    () => parseIni(chain(11), { file: "deep.cfg" }).get("s", "a0"),
    'Cannot interpolate "deep.cfg" line 2: option "a0" in section "s" nests references ' +
      "more than 10 levels deep (is there a reference loop?)",
    { file: "deep.cfg", line: 2 },
  );
  assertConfigError(
    () => parseIni("[s]\nx = 1\nloop = %(loop)s\n").get("s", "loop"),
    'Cannot interpolate line 3: option "loop" in section "s" nests references ' +
      "more than 10 levels deep (is there a reference loop?)",
    { line: 3 },
  );
});

Deno.test("entries() lists options with DEFAULT merged in, interpolated, in file order", () => {
  const ini = parseIni("[DEFAULT]\nroot = /r\nmode = ro\n[s]\npath = %(root)s/p\nMODE = rw\n");
  assert.deepEqual(ini.entries("s"), [["root", "/r", 2], ["path", "/r/p", 5], ["mode", "rw", 6]]);
  assert.deepEqual(ini.entries("DEFAULT"), [["root", "/r", 2], ["mode", "ro", 3]]);
});

Deno.test("getList() splits on commas, trims and drops empty items", () => {
  const ini = parseIni(
    "[DEFAULT]\nextra = c\n[s]\nlist = a, b ,,  %(extra)s ,\nempty =\nmulti = a,\n  b\n",
  );
  assert.deepEqual(ini.getList("s", "list"), ["a", "b", "c"]);
  assert.deepEqual(ini.getList("s", "empty"), []);
  assert.deepEqual(ini.getList("s", "multi"), ["a", "b"]);
  assert.equal(ini.getList("s", "missing"), undefined);
});

Deno.test("where() names the file and line, or only the line", () => {
  assert.equal(parseIni("", { file: "plugins/x/x.stoq" }).where(3), '"plugins/x/x.stoq" line 3');
  assert.equal(parseIni("").where(7), "line 7");
});

Deno.test("parseIni() accepts an empty text", () => {
  const ini = parseIni("");
  assert.deepEqual(ini.sectionNames(), []);
  assert.equal(ini.defaults.options.size, 0);
});

Deno.test("parseIni() throws ConfigError on a key outside any section", () => {
  // Python: MissingSectionHeaderError, also for an indented key and for "[]".
  assertConfigError(
    () => parseIni("# comment\n\nname = x\n[s]\n", { file: "plugins/x/x.stoq" }),
    'Cannot parse "plugins/x/x.stoq" line 3: key outside any section, got "name = x"',
    { file: "plugins/x/x.stoq", line: 3 },
  );
  assertConfigError(
    () => parseIni("  a = 1\n[s]\n"),
    'Cannot parse line 1: key outside any section, got "a = 1"',
    { line: 1 },
  );
  assertConfigError(
    () => parseIni("[]\na = 1\n"),
    'Cannot parse line 1: key outside any section, got "[]"',
    { line: 1 },
  );
});

Deno.test("parseIni() throws ConfigError on a line without delimiter", () => {
  assertConfigError(
    () => parseIni("[s]\na = 1\ngarbage\n", { file: "plugins/x/x.stoq" }),
    'Cannot parse "plugins/x/x.stoq" line 3: expected "key = value", got "garbage"',
    { file: "plugins/x/x.stoq", line: 3 },
  );
  // Python: an indented line with no key to continue is parsed as a key line.
  assertConfigError(
    () => parseIni("[s]\n\n   junk\n"),
    'Cannot parse line 3: expected "key = value", got "junk"',
    { line: 3 },
  );
});

Deno.test("parseIni() throws ConfigError on an empty key", () => {
  assertConfigError(
    () => parseIni("[s]\n= v\n", { file: "a.cfg" }),
    'Cannot parse "a.cfg" line 2: expected "key = value", got "= v"',
    { file: "a.cfg", line: 2 },
  );
  assertConfigError(
    () => parseIni("[s]\n:\n", { allowNoValue: true }),
    'Cannot parse line 2: expected "key = value", got ":"',
    { line: 2 },
  );
});

Deno.test("parseIni() throws ConfigError naming both lines of a duplicate section", () => {
  assertConfigError(
    () => parseIni("[s]\na = 1\n\n[t]\n[s]\n", { file: "stoq.cfg" }),
    'Cannot parse "stoq.cfg" line 5: duplicate section "s", first defined on line 1',
    { file: "stoq.cfg", line: 5 },
  );
});

Deno.test("parseIni() throws ConfigError naming both lines of a duplicate option", () => {
  assertConfigError(
    () => parseIni("[s]\nkey = 1\nother = 2\nKEY: 3\n", { file: "stoq.cfg" }),
    'Cannot parse "stoq.cfg" line 4: duplicate option "key" in section "s", first defined on line 2',
    { file: "stoq.cfg", line: 4 },
  );
  // Python: also across repeated [DEFAULT] sections.
  assertConfigError(
    () => parseIni("[DEFAULT]\nx = 1\n[s]\n[DEFAULT]\nx = 2\n"),
    'Cannot parse line 5: duplicate option "x" in section "DEFAULT", first defined on line 2',
    { line: 5 },
  );
});

Deno.test("parseIni() throws ConfigError on continuing a key without a value", () => {
  // Python crashes here with AttributeError.
  assertConfigError(
    () => parseIni("[s]\nflag\n  more\n", { allowNoValue: true, file: "m.stoq" }),
    'Cannot parse "m.stoq" line 3: continuation line for option "flag", which has no value, ' +
      'got "more"',
    { file: "m.stoq", line: 3 },
  );
});

Deno.test("parseIni() handles a UTF-8 BOM and CRLF line endings", () => {
  const ini = parseIni("\uFEFF[s]\r\na = x\r\n  y\r\n\r\nb = 2\r\n");
  assert.deepEqual(ini.sectionNames(), ["s"]);
  assert.equal(ini.get("s", "a"), "x\ny");
  assert.deepEqual(ini.entries("s"), [["a", "x\ny", 2], ["b", "2", 5]]);
  assertConfigError(
    () => parseIni("[s]\r\nok = 1\r\nbad\r\n"),
    'Cannot parse line 3: expected "key = value", got "bad"',
    { line: 3 },
  );
});

Deno.test("parseIni() accepts lone CR line endings, as Python's file reading does", () => {
  assert.equal(parseIni("[s]\ra = x\r  y\r").get("s", "a"), "x\ny");
});

Deno.test("parseIni() strips the same whitespace as Python's str.strip()", () => {
  const ini = parseIni("[s]\na = \u3000x\u00a0\nb = \x1cy\x1f\n");
  assert.equal(ini.get("s", "a"), "x");
  assert.equal(ini.get("s", "b"), "y");
});

Deno.test("readIniFile() reads and parses a file, naming it in errors", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const good = join(dir, "stoq.cfg");
    Deno.writeTextFileSync(good, "\uFEFF[core]\r\nproviders = dirmon, s3\r\n");
    const ini = readIniFile(good);
    assert.equal(ini.file, good);
    assert.deepEqual(ini.getList("core", "providers"), ["dirmon", "s3"]);

    const noValue = join(dir, "x.stoq");
    Deno.writeTextFileSync(noValue, "[Core]\nflag\n");
    assert.equal(readIniFile(noValue, { allowNoValue: true }).get("Core", "flag"), null);
    assertConfigError(
      () => readIniFile(noValue),
      `Cannot parse "${noValue}" line 2: expected "key = value", got "flag"`,
      { file: noValue, line: 2 },
    );

    const latin1 = join(dir, "latin1.cfg");
    Deno.writeFileSync(latin1, new Uint8Array([0x5b, 0x73, 0x5d, 0x0a, 0x61, 0x3d, 0xe9, 0x0a]));
    assertConfigError(() => readIniFile(latin1), `Cannot read "${latin1}": not valid UTF-8`, {
      file: latin1,
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("readIniFile() throws ConfigError naming a missing path and the OS reason", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const missing = join(dir, "nope", "stoq.cfg");
    assert.throws(() => readIniFile(missing), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.file, missing);
      assert.equal(err.line, undefined);
      assert.ok(err.cause instanceof Deno.errors.NotFound);
      assert.ok(err.message.startsWith(`Cannot read "${missing}": `), err.message);
      // The OS reason, without Deno's repeated "readfile '<path>'" suffix.
      assert.match(err.message, /": [^"']+ \(os error \d+\)$/);
      return true;
    });
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
