import assert from "node:assert/strict";
import { Stoq } from "../../mod.ts";
import { Payload, Request } from "../../plugin_api.ts";
import { loadEngine } from "./_engine.ts";
import { combineRules, loadRules } from "./_rules.ts";
import plugin from "./mod.ts";
import { COMMITTED, goldenInputs } from "./testdata/inputs.ts";
import { RULE_SETS } from "./testdata/regen_expected.ts";

const PLUGINS = new URL("..", import.meta.url).pathname;
const HERE = new URL(".", import.meta.url);
const PLUGIN_API = new URL("../../plugin_api.ts", import.meta.url).href;
const encoder = new TextEncoder();
/** What an operator grants the yara plugin in stoq.cfg. */
const FFI = { allow_ffi: "${node_modules}/@litko/yara-x-linux-x64-gnu" };

type Match = {
  rule: string;
  tags: string[];
  meta: Record<string, unknown>;
  strings: [number, string, Uint8Array][];
};

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A temp folder with worker plugins that report the dispatch meta they were given. */
async function probePlugins(names: string[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "yara_probe_" });
  for (const name of names) {
    await Deno.mkdir(`${dir}/${name}`);
    await Deno.writeTextFile(
      `${dir}/${name}/${name}.stoq`,
      `[Core]\nName = ${name}\nModule = mod\nKinds = worker\n\n[Documentation]\nAuthor = test\nVersion = 0.0.1\nDescription = probe\n`,
    );
    await Deno.writeTextFile(
      `${dir}/${name}/mod.ts`,
      `import { definePlugin } from "${PLUGIN_API}";
export default definePlugin({ setup() { return { scan: function probe(payload) {
  return { results: { dispatch_meta: payload.dispatchMeta } }; } }; } });\n`,
    );
  }
  return dir;
}

async function withStoq<T>(
  options: Parameters<typeof Stoq.create>[0],
  body: (stoq: Stoq) => Promise<T>,
): Promise<T> {
  const stoq = await Stoq.create({
    pluginDirList: [PLUGINS],
    logSinks: [],
    alwaysDispatch: [],
    ...options,
  });
  try {
    return await body(stoq);
  } finally {
    await stoq.close();
  }
}

async function workerMatches(stoq: Stoq, content: Uint8Array): Promise<Match[]> {
  const response = await stoq.scan(content);
  assert.deepEqual(response.errors.map((e) => e.error), []);
  return (response.results[0].workers.yara as { matches: Match[] }).matches;
}

Deno.test("scan() reports the rules and strings Debian's yara reports (golden)", async () => {
  const expected = JSON.parse(
    await Deno.readTextFile(new URL("testdata/expected.json", import.meta.url)),
  ) as { results: Record<string, Record<string, unknown>> };
  const inputs = await goldenInputs();
  for (const ruleSet of RULE_SETS) {
    const worker_rules = new URL(`testdata/${ruleSet}`, HERE).pathname;
    await withStoq(
      {
        alwaysDispatch: ["yara"],
        pluginOpts: { yara: { ...FFI, worker_rules, dispatch_rules: "" } },
      },
      async (stoq) => {
        let matched = 0;
        for (const [name, content] of Object.entries(inputs)) {
          const matches = await workerMatches(stoq, content);
          const actual = matches.map((m) => ({
            rule: m.rule,
            tags: m.tags,
            strings: m.strings.map(([offset, id, data]) => [offset, id, hex(data)]),
          }));
          assert.deepEqual(actual, expected.results[ruleSet][name], `${ruleSet} on ${name}`);
          matched += matches.length;
        }
        assert.ok(matched > 0, `${ruleSet} matched nothing`);
      },
    );
  }
});

Deno.test("scan() returns stoQ's match shape with the matched bytes sliced from the payload", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/r.yar`,
      `rule bin : t1 t2 { meta: author = "me" n = -7 big = 42 yes = true no = false esc = "a\\x41\\tb" bytes = "\\xff\\x00"
       strings: $h = { 00 FF 80 } $t = "ab" condition: all of them }`,
    );
    await withStoq({
      alwaysDispatch: ["yara"],
      pluginOpts: { yara: { ...FFI, worker_rules: `${dir}/r.yar`, dispatch_rules: "" } },
    }, async (stoq) => {
      const content = new Uint8Array([0x61, 0x62, 0x00, 0xff, 0x80, 0x61, 0x62]);
      const [match] = await workerMatches(stoq, content);
      assert.equal(match.rule, "bin");
      assert.equal((match as unknown as { namespace: string }).namespace, "default");
      assert.deepEqual(match.tags, ["t1", "t2"]);
      assert.deepEqual(match.meta, {
        author: "me",
        n: -7,
        big: 42,
        yes: true,
        no: false,
        esc: "aA\tb",
        bytes: "\xff\x00",
      });
      assert.deepEqual(match.strings, [
        [2, "$h", new Uint8Array([0x00, 0xff, 0x80])],
        [0, "$t", encoder.encode("ab")],
        [5, "$t", encoder.encode("ab")],
      ]);
    });
    await withStoq({
      alwaysDispatch: ["yara"],
      pluginOpts: {
        yara: { ...FFI, worker_rules: `${dir}/r.yar`, dispatch_rules: "", strings_limit: 1 },
      },
    }, async (stoq) => {
      const [match] = await workerMatches(
        stoq,
        new Uint8Array([0x61, 0x62, 0x00, 0xff, 0x80, 0x61, 0x62]),
      );
      assert.equal(match.strings.length, 1);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("getDispatches() routes the shipped dispatcher rules to the extraction plugins", async () => {
  const probes = await probePlugins(["decompress", "b64decode", "xordecode"]);
  try {
    const inputs = await goldenInputs();
    await withStoq({
      pluginDirList: [PLUGINS, probes],
      dispatchers: ["yara"],
      pluginOpts: { yara: FFI },
    }, async (stoq) => {
      const routed = async (name: string) => {
        const response = await stoq.scan(inputs[name]);
        assert.deepEqual(response.errors.map((e) => e.error), [], name);
        return response.results[0];
      };
      for (
        const name of [
          ...COMMITTED,
          "iso9660.iso",
          "cab.cab",
          "rar4.rar",
          "rar5.rar",
        ]
      ) {
        assert.deepEqual((await routed(name)).pluginsRun.workers, ["decompress"], name);
      }
      assert.deepEqual((await routed("base64_text.txt")).pluginsRun.workers, ["b64decode"]);
      assert.deepEqual((await routed("hex_digests.txt")).pluginsRun.workers, []);
      assert.deepEqual((await routed("pe_stub.exe")).pluginsRun.workers, []);
      const xored = await routed("xor_pe_key15.bin");
      assert.deepEqual(xored.pluginsRun.workers, ["xordecode"]);
      const meta = (xored.workers.xordecode as { dispatch_meta: Record<string, unknown> })
        .dispatch_meta as { yara: { xordecode: Match } };
      assert.equal(meta.yara.xordecode.rule, "xor_This_program");
      assert.equal(meta.yara.xordecode.meta.xorkey, "21");
      assert.equal(meta.yara.xordecode.meta.plugin, "xordecode");
    });
  } finally {
    await Deno.remove(probes, { recursive: true });
  }
});

Deno.test("getDispatches() follows meta.plugin lists and meta.save, and derives XOR keys", async () => {
  const probes = await probePlugins(["alpha", "beta", "xordecode"]);
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/d.yar`,
      `rule two { meta: plugin = " Alpha, beta ,," save = "False" strings: $a = "two" condition: $a }
rule keep { meta: plugin = "beta" save = true strings: $a = "keep" condition: $a }
rule xor2 { meta: plugin = "xordecode" xor_plaintext_for_string_p = "This program"
  xor_plaintext_for_string_q = "This program"
  strings: $p = "This program" xor(0x01-0xff) $q = "Tiir qrngsal" xor(0x01-0xff) condition: any of them }`,
    );
    const opts = (extra: Record<string, unknown>) => ({
      pluginDirList: [PLUGINS, probes],
      dispatchers: ["yara"],
      pluginOpts: { yara: { ...FFI, dispatch_rules: `${dir}/d.yar`, worker_rules: "", ...extra } },
    });
    await withStoq(opts({}), async (stoq) => {
      const two = (await stoq.scan("two")).results[0];
      assert.deepEqual(two.pluginsRun.workers.toSorted(), ["alpha", "beta"]);
      assert.equal(two.payloadMeta.shouldArchive, false);
      const keep = (await stoq.scan("keep")).results[0];
      assert.deepEqual(keep.pluginsRun.workers, ["beta"]);
      assert.equal(keep.payloadMeta.shouldArchive, true);
      const plain = encoder.encode("This program");
      const content = new Uint8Array([
        ...encoder.encode("x"),
        ...plain.map((b) => b ^ 0x15),
        ...encoder.encode(" "),
        ...plain.map((b, i) => b ^ [0x11, 0x10][i % 2]),
      ]);
      const result = (await stoq.scan(content)).results[0];
      const meta = (result.workers.xordecode as { dispatch_meta: { yara: { xordecode: Match } } })
        .dispatch_meta.yara.xordecode.meta;
      assert.equal(meta.xorkey, "21");
    });
    await withStoq(opts({ xor_first_match: false }), async (stoq) => {
      const plain = encoder.encode("This program");
      const content = new Uint8Array([
        ...plain.map((b) => b ^ 0x15),
        ...plain.map((b, i) => b ^ [0x11, 0x10][i % 2]),
      ]);
      const result = (await stoq.scan(content)).results[0];
      const meta = (result.workers.xordecode as { dispatch_meta: { yara: { xordecode: Match } } })
        .dispatch_meta.yara.xordecode.meta;
      assert.deepEqual(meta.xor_info, [[0, "$p", [0x15]], [12, "$q", [0x11, 0x10]]]);
      assert.equal(meta.xorkey, undefined);
    });
  } finally {
    await Deno.remove(probes, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the yara plugin compiles includes relative to each rule file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/sub`);
    await Deno.writeTextFile(`${dir}/main.yar`, `include "sub/a.yar"\nrule m { condition: a }\n`);
    await Deno.writeTextFile(
      `${dir}/sub/a.yar`,
      `// include "nowhere.yar" in a comment is not an include\ninclude "./b.yar"\nrule a { condition: b }\n`,
    );
    await Deno.writeTextFile(`${dir}/sub/b.yar`, `rule b { strings: $b = "bee" condition: $b }\n`);
    await withStoq({
      alwaysDispatch: ["yara"],
      pluginOpts: {
        yara: { ...FFI, allow_read: dir, worker_rules: `${dir}/main.yar`, dispatch_rules: "" },
      },
    }, async (stoq) => {
      const matches = await workerMatches(stoq, encoder.encode("a bee"));
      assert.deepEqual(matches.map((m) => m.rule), ["b", "a", "m"]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the yara plugin fails to load on a bad rule file, naming the file and line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/main.yar`, `include "b.yar"\nrule m { condition: true }\n`);
    await Deno.writeTextFile(
      `${dir}/b.yar`,
      `rule b {\n  strings: $b = "b"\n  condition: $b and bogus\n}\n`,
    );
    const load = (worker_rules: string) =>
      withStoq({
        alwaysDispatch: ["yara"],
        pluginOpts: { yara: { ...FFI, allow_read: dir, worker_rules, dispatch_rules: "" } },
      }, () => Promise.resolve());
    await assert.rejects(load(`${dir}/main.yar`), (err: Error) => {
      assert.match(err.message, new RegExp(`"${dir}/b.yar" line 3: .*bogus`));
      return true;
    });
    await assert.rejects(load(`${dir}/missing.yar`), /missing\.yar/);
    await Deno.writeTextFile(`${dir}/loop.yar`, `include "loop.yar"\n`);
    await assert.rejects(load(`${dir}/loop.yar`), /circular include/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("one dispatch pass finds the worker's matches too, as a worker pass finds them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/w.yar`,
      `rule w_alpha { meta: level = 1 strings: $a = "alpha" condition: $a }
rule w_beta : tagged { strings: $b = "beta" $c = "bet" condition: any of them }
private rule w_hidden { strings: $a = "alpha" condition: $a }
rule w_both { condition: w_hidden and w_beta }\n`,
    );
    await Deno.writeTextFile(
      `${dir}/d.yar`,
      `rule d_alpha { meta: plugin = "hash" strings: $a = "alpha" condition: $a }
rule d_beta { meta: plugin = "entropy" save = false strings: $b = "beta" condition: $b }\n`,
    );
    const handlers = () =>
      plugin.setup({
        name: "yara",
        dir: HERE.pathname,
        options: plugin.options!.parse({
          worker_rules: `${dir}/w.yar`,
          dispatch_rules: `${dir}/d.yar`,
        }),
        log: { debug() {} } as never,
        stoqVersion: "0",
      });
    const alone = await handlers();
    const both = await handlers();
    const request = new Request();
    // The worker's first call tells the instance that it is a worker too.
    await both.scan!(new Payload(encoder.encode("warm")), request);
    for (const text of ["alpha beta", "beta", "alpha", "nothing", "beta alpha alphabet"]) {
      const expected = await alone.scan!(new Payload(encoder.encode(text)), request);
      const expectedDispatch = await alone.getDispatches!(
        new Payload(encoder.encode(text)),
        request,
      );
      const payload = new Payload(encoder.encode(text));
      assert.deepEqual(await both.getDispatches!(payload, request), expectedDispatch, text);
      assert.deepEqual(await both.scan!(payload, request), expected, text);
    }
    const [match] = (await both.scan!(new Payload(encoder.encode("alpha beta")), request) as {
      results: { matches: Match[] };
    }).results.matches.filter((m) => m.rule === "w_both");
    assert.deepEqual(match.strings, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("combineRules() joins two rule sets unless a global rule or a shared name forbids it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const engine = loadEngine();
    const load = async (name: string, source: string) => {
      await Deno.writeTextFile(`${dir}/${name}`, source);
      return loadRules(engine, `${dir}/${name}`);
    };
    const a = await load("a.yar", `rule a1 { strings: $x = "x" condition: $x }\n`);
    const b = await load("b.yar", `rule b1 { strings: $x = "x" condition: $x } // no newline`);
    const joined = combineRules(engine, a, b);
    assert.ok(joined);
    assert.deepEqual(joined.scan(encoder.encode("x")).map((m) => m.ruleIdentifier), ["a1", "b1"]);
    // A global rule would gate the other set's rules too.
    const gated = await load(
      "g.yar",
      `global rule g { condition: filesize > 10 }\nrule g1 { condition: true }\n`,
    );
    assert.equal(combineRules(engine, gated, b), null);
    assert.equal(combineRules(engine, b, gated), null);
    // "global" as a string or in a comment is no global rule.
    const quoted = await load(
      "q.yar",
      `// global\nrule q1 { strings: $g = "global" condition: $g }\n`,
    );
    assert.ok(combineRules(engine, quoted, a));
    // The same rule name in both: the engine has no namespace to keep them apart.
    const clash = await load("c.yar", `rule a1 { condition: true }\n`);
    assert.equal(combineRules(engine, a, clash), null);
    // The shipped sets combine.
    const rules = new URL("./rules/", import.meta.url).pathname;
    assert.ok(
      combineRules(
        engine,
        loadRules(engine, `${rules}stoq.yar`),
        loadRules(engine, `${rules}dispatcher.yar`),
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
