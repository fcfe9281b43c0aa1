import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Stoq } from "../../mod.ts";
import { findXorKey, parseXorKey, xorDecode, XorKeyError } from "./mod.ts";

const PLUGINS = fileURLToPath(new URL("..", import.meta.url));
const PLUGIN_API = fileURLToPath(new URL("../../plugin_api.ts", import.meta.url));
const PLAINTEXT = new TextEncoder().encode("This program cannot be run in DOS mode.");

/**
 * A temporary folder with a dispatcher shaped like stoQ's yara dispatcher: it sends every payload to
 * xordecode with `meta.xordecode` = the matching rule, whose meta holds `xorkey`.
 */
async function withFakeYara<T>(xorkey: unknown, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "stoq-xordecode-" });
  try {
    await Deno.mkdir(`${dir}/fake_yara`);
    await Deno.writeTextFile(
      `${dir}/fake_yara/fake_yara.stoq`,
      "[Core]\nName = fake_yara\nModule = mod\nKinds = dispatcher\n\n[Documentation]\n" +
        "Author = test\nVersion = 1.0.0\nWebsite = https://example.invalid\nDescription = test\n",
    );
    await Deno.writeTextFile(
      `${dir}/fake_yara/mod.ts`,
      `import { definePlugin } from ${JSON.stringify(PLUGIN_API)};
export default definePlugin({
  setup() {
    return {
      getDispatches: function fakeYara(payload) {
        if (payload.results.extractedBy.length > 0) return {};
        const match = { tags: [], namespace: "default", rule: "xor_This_program",
          meta: { plugin: "xordecode", save: "True", xorkey: ${
        JSON.stringify(xorkey)
      } }, strings: [] };
        return { pluginNames: ["xordecode"], meta: { xordecode: match } };
      },
    };
  },
});
`,
    );
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function scanWith(
  content: Uint8Array,
  options: { dispatcherDir?: string; xorkey?: string; start?: boolean },
) {
  const stoq = await Stoq.create({
    pluginDirList: options.dispatcherDir ? [PLUGINS, options.dispatcherDir] : [PLUGINS],
    dispatchers: options.dispatcherDir ? ["fake_yara"] : [],
    pluginOpts: options.xorkey === undefined ? {} : { xordecode: { xorkey: options.xorkey } },
    logSinks: [],
  });
  try {
    const scan = await stoq.scan(content, {
      addStartDispatch: options.start ? ["xordecode"] : [],
    });
    return scan.toJSON();
  } finally {
    await stoq.close();
  }
}

Deno.test("parseXorKey() reads numbers, lists, comma lists and Python bytes reprs", () => {
  assert.deepEqual(parseXorKey(7), [7]);
  assert.deepEqual(parseXorKey([1, "2", "0x03"]), [1, 2, 3]);
  assert.deepEqual(parseXorKey(" 65 , 0x42 "), [65, 66]);
  assert.deepEqual(parseXorKey("b'AB'"), [65, 66]);
  assert.deepEqual(parseXorKey('b"\\x00\\n\\\\"'), [0, 10, 92]);
  assert.equal(parseXorKey(null), null);
  assert.throws(() => parseXorKey("256"), XorKeyError);
  assert.throws(() => parseXorKey("key"), XorKeyError);
  assert.throws(() => parseXorKey({ a: 1 }), XorKeyError);
});

Deno.test("findXorKey() finds xorkey at any depth of the dispatch meta", () => {
  assert.equal(findXorKey({ yara: { xordecode: { meta: { xorkey: "5" } } } }), "5");
  assert.equal(findXorKey({ yara: { other: [{ meta: {} }] } }), undefined);
});

Deno.test("xorDecode() repeats the key over the content and is its own inverse", () => {
  const encoded = xorDecode(PLAINTEXT, [0x11, 0x22, 0x33]);
  assert.equal(encoded[0], PLAINTEXT[0] ^ 0x11);
  assert.equal(encoded[3], PLAINTEXT[3] ^ 0x11);
  assert.deepEqual(xorDecode(encoded, [0x11, 0x22, 0x33]), PLAINTEXT);
});

Deno.test("xordecode decodes with the key from the yara dispatcher's rule meta", async () => {
  await withFakeYara("0x41,66", async (dir) => {
    const json = await scanWith(xorDecode(PLAINTEXT, [0x41, 66]), { dispatcherDir: dir });
    assert.deepEqual(json.errors, []);
    assert.equal(json.results.length, 2);
    assert.deepEqual(json.results[1].extracted_by, ["xordecode"]);
    assert.deepEqual(json.results[1].payload_meta.extra_data, { xorkey: [0x41, 66] });
    assert.equal(json.results[1].size, PLAINTEXT.length);
  });
});

Deno.test("xordecode reports a bad key from the dispatcher as an error", async () => {
  await withFakeYara("not a key", async (dir) => {
    const json = await scanWith(PLAINTEXT, { dispatcherDir: dir });
    assert.equal(json.results.length, 1);
    assert.equal(json.errors.length, 1);
    assert.match(JSON.stringify(json.errors[0]), /Invalid XOR key/);
  });
});

Deno.test("xordecode uses the xorkey option without a dispatcher, and does nothing without a key", async () => {
  const withOption = await scanWith(xorDecode(PLAINTEXT, [9]), { xorkey: "9", start: true });
  assert.equal(withOption.results.length, 2);
  assert.deepEqual(withOption.results[1].payload_meta.extra_data, { xorkey: [9] });
  const without = await scanWith(PLAINTEXT, { start: true });
  assert.equal(without.results.length, 1);
  assert.deepEqual(without.errors, []);
});
