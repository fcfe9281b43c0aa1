/**
 * Hostile input, end to end: every classic archive attack on a real sample built here, through
 * the real sandbox and the decompress plugin; every limit hit is an error entry with a documented
 * `kind`; malformed configuration and plugins give one clear message.
 */
import assert from "node:assert/strict";
import { Payload, Request, Stoq, type StoqOptions } from "../mod.ts";
import { SCAN_ERROR_KINDS } from "../plugin_api.ts";
import { type StoqResponseJson, StoqResponseJsonSchema } from "../core/schemas.ts";
import * as samples from "./_samples.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const PLUGINS = `${ROOT}plugins`;
const HOSTILE = `${ROOT}tests/testdata/hostile_plugins`;
const DECOMPRESS_DATA = `${ROOT}plugins/decompress/testdata`;
const GRANT = { allow_read: "${node_modules}/7z-wasm" };

async function withStoq<T>(
  options: StoqOptions & { decompress?: Record<string, unknown> },
  body: (stoq: Stoq, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "stoq_hostile_" });
  const { decompress, ...rest } = options;
  const stoq = await Stoq.create({
    baseDir: dir,
    pluginDirList: [PLUGINS, HOSTILE],
    alwaysDispatch: ["decompress"],
    logSinks: [],
    ...rest,
    pluginOpts: { ...rest.pluginOpts, decompress: { ...GRANT, ...decompress } },
  });
  try {
    return await body(stoq, dir);
  } finally {
    await stoq.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Scan and check what every response must satisfy: the schema, and documented kinds. */
async function scan(stoq: Stoq, content: Uint8Array, filename?: string): Promise<StoqResponseJson> {
  const response = await stoq.scan(content, {
    payloadMeta: { extraData: filename ? { filename } : {} },
  });
  const json = StoqResponseJsonSchema.parse(JSON.parse(JSON.stringify(response)));
  for (const error of json.errors) {
    assert.ok(
      (SCAN_ERROR_KINDS as readonly string[]).includes(error.kind),
      `undocumented kind: ${JSON.stringify(error)}`,
    );
  }
  return json;
}

/** The kinds of the errors, less the core's `max_recursion` for payloads left after the last round. */
function kinds(json: StoqResponseJson): string[] {
  return json.errors.map((error) => error.kind).filter((kind) => kind !== "max_recursion");
}

Deno.test("a 42.zip-style nested bomb (16 TiB) is unpacked level by level and stopped by its ratio", async () => {
  const bomb = samples.nestedZipBomb();
  assert.ok(bomb.length < 1_000_000);
  await withStoq({}, async (stoq) => {
    const json = await scan(stoq, bomb, "42.zip");
    // Identical copies are deduplicated, one payload per level; the innermost zips (4 MiB from
    // 7.5 KiB) are refused for their ratio before any 256 MiB leaf is inflated.
    assert.equal(json.results.length, 3);
    assert.deepEqual(kinds(json), new Array(16).fill("max_ratio"));
    assert.match(json.errors[0].error, /^zip: member "1-0.zip" skipped: compression ratio/);
    assert.equal(json.errors[0].plugin_name, "decompress");
  });
  await withStoq({ decompress: { maximum_ratio: 1e9 } }, async (stoq) => {
    const json = await scan(stoq, bomb, "42.zip");
    assert.equal(json.results.length, 4);
    assert.deepEqual(kinds(json), new Array(16).fill("max_member_size"));
    assert.match(json.errors[0].error, /declared size 268435456 passes .*maximum_size = 50000000/);
  });
});

Deno.test("an overlapping-entry zip bomb (Fifield) gives one member and an overlapping_members error", async () => {
  const bomb = samples.overlappingZipBomb({ count: 250 });
  await withStoq({ maxRecursion: 1 }, async (stoq) => {
    const json = await scan(stoq, bomb);
    assert.equal(json.results.length, 2);
    assert.equal(json.results[1].payload_meta.extra_data.filename, "f0000");
    const overlap = json.errors.filter((error) => error.kind === "overlapping_members");
    assert.equal(overlap.length, 1);
    assert.match(overlap[0].error, /^zip: 249 member\(s\) skipped \(the first "f0001"\)/);
  });
});

Deno.test("a gzip stream of 8 GiB is cut at maximum_size without inflating it", async () => {
  const bomb = samples.gzipBomb({ members: 512, memberSize: 16 << 20 });
  await withStoq({}, async (stoq) => {
    const json = await scan(stoq, bomb, "bomb.gz");
    assert.equal(json.results.length, 1);
    assert.deepEqual(kinds(json), ["max_member_size"]);
    assert.match(json.errors[0].error, /^gzip: member "bomb" skipped: output passed 50000000/);
  });
});

Deno.test("maximum_total_size, maximum_members and maximum_ratio are error kinds of their own", async () => {
  const members = Array.from(
    { length: 5 },
    (_, i) => samples.zipMember(`${i}.bin`, new Uint8Array(2_000_000).fill(i)),
  );
  const archive = samples.zip(members);
  const cases: [Record<string, unknown>, string][] = [
    [{ maximum_total_size: 5_000_000, maximum_ratio: 1e6 }, "max_total_size"],
    [{ maximum_members: 2, maximum_ratio: 1e6 }, "max_members"],
    [{ maximum_ratio: 10 }, "max_ratio"],
  ];
  for (const [decompress, kind] of cases) {
    await withStoq({ decompress, maxRecursion: 1 }, async (stoq) => {
      const json = await scan(stoq, archive);
      assert.ok(kinds(json).includes(kind), `${kind}: ${JSON.stringify(json.errors)}`);
      assert.ok(json.results.length < 6);
    });
  }
});

Deno.test("Python's recursion.tar and a negative pax size end at once with a corrupt error", async () => {
  await withStoq({ maxRecursion: 1 }, async (stoq) => {
    const loop = await scan(stoq, samples.recursionTar());
    assert.deepEqual(kinds(loop), ["corrupt"]);
    assert.match(loop.errors[0].error, /^tar: invalid pax record at byte 0/);
    // The bad header is ignored; the member after it keeps its own name.
    assert.equal(loop.results[1].payload_meta.extra_data.filename, "after.txt");
    const back = await scan(stoq, samples.negativeSizeTar());
    assert.deepEqual(kinds(back), ["corrupt"]);
    assert.match(back.errors[0].error, /invalid pax size "-1024"/);
  });
});

Deno.test("a payload that extracts a copy of its own ancestor is not scanned again", async () => {
  // Not a true quine (that needs Cox's construction): a zip holding a gzip of the zip's own
  // first level; dedup by SHA-256 ends the cycle after one turn.
  const inner = samples.zip([samples.zipMember("a.txt", "loop")]);
  const outer = samples.zip([
    samples.zipMember("inner.zip", inner),
    samples.zipMember("again.zip", inner),
  ]);
  await withStoq({}, async (stoq) => {
    const json = await scan(stoq, outer);
    assert.equal(json.results.length, 3);
    assert.equal(json.results[1].extracted_by.length, 2);
    assert.deepEqual(json.errors, []);
  });
});

Deno.test("members named ../ or / never make the filedir archiver write outside archive_dir", async () => {
  const archive = samples.zip([
    samples.zipMember("../../../escape.txt", "up"),
    samples.zipMember("/etc/absolute.txt", "abs"),
    samples.zipMember("..\\..\\windows.txt", "win"),
    samples.zipMember("a/../../..", "dots"),
  ]);
  for (const useSha of [true, false]) {
    const outside = await Deno.makeTempDir({ prefix: "stoq_outside_" });
    const archiveDir = `${outside}/archive`;
    try {
      await withStoq({
        destArchivers: ["filedir"],
        maxRecursion: 1,
        pluginOpts: { filedir: { archive_dir: archiveDir, use_sha: useSha } },
      }, async (stoq) => {
        const json = await scan(stoq, archive);
        assert.deepEqual(kinds(json), []);
        const names = json.results.slice(1).map((r) => r.payload_meta.extra_data.filename);
        assert.deepEqual(names, ["escape.txt", "absolute.txt", "windows.txt", "a"]);
        assert.equal(json.results[1].payload_meta.extra_data.archive_path, "../../../escape.txt");
        for (const result of json.results) {
          const path = (result.archivers.filedir as { path: string }).path;
          assert.ok(path.startsWith(`${archiveDir}/`), path);
        }
      });
      assert.deepEqual([...Deno.readDirSync(outside)].map((e) => e.name), ["archive"]);
    } finally {
      await Deno.remove(outside, { recursive: true });
    }
  }
});

Deno.test("a payload id naming another folder makes the filedir archiver fail, not escape", async () => {
  const outside = await Deno.makeTempDir({ prefix: "stoq_outside_" });
  try {
    await withStoq({
      destArchivers: ["filedir"],
      alwaysDispatch: [],
      pluginOpts: { filedir: { archive_dir: `${outside}/archive`, use_sha: false } },
    }, async (stoq) => {
      const payload = new Payload("evil", { payloadId: "../../escaped" });
      const response = await stoq.scanRequest(new Request({ payloads: [payload] }));
      const json = StoqResponseJsonSchema.parse(JSON.parse(JSON.stringify(response)));
      assert.deepEqual(json.errors.map((e) => [e.plugin_name, e.kind]), [["filedir", "archiver"]]);
      assert.match(json.errors[0].error, /Refusing to write .*escaped.*: it is outside/);
    });
    assert.deepEqual([...Deno.readDirSync(outside)].map((e) => e.name), ["archive"]);
    assert.deepEqual([...Deno.readDirSync(`${outside}/archive`)], []);
  } finally {
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("symlink and hardlink members of a tar are skipped, never followed", async () => {
  const archive = samples.tar([
    { name: "a.txt", data: "regular" },
    { name: "passwd", type: "2", linkname: "/etc/passwd" },
    { name: "shadow", type: "1", linkname: "../../etc/shadow" },
    { name: "b.txt", data: "also regular" },
  ]);
  await withStoq({ maxRecursion: 1 }, async (stoq) => {
    const json = await scan(stoq, archive);
    assert.deepEqual(kinds(json), []);
    const names = json.results.slice(1).map((r) => r.payload_meta.extra_data.filename);
    assert.deepEqual(names, ["a.txt", "b.txt"]);
  });
});

Deno.test("truncated archives of every format give corrupt errors and keep what was read", async () => {
  const files = [...Deno.readDirSync(DECOMPRESS_DATA)]
    .filter((e) => /\.(zip|tar|gz|bz2|xz|7z|cab|cpio|deb|a)$/.test(e.name))
    .map((e) => e.name).sort();
  await withStoq({ maxRecursion: 2 }, async (stoq) => {
    let corrupt = 0;
    for (const name of files) {
      const whole = await Deno.readFile(`${DECOMPRESS_DATA}/${name}`);
      for (const fraction of [0.1, 0.5, 0.9, 0.99]) {
        const json = await scan(stoq, whole.slice(0, Math.floor(whole.length * fraction)), name);
        assert.ok(
          json.errors.every((e) => e.plugin_name === "decompress" || e.kind === "max_recursion"),
          JSON.stringify(json.errors),
        );
        corrupt += kinds(json).filter((kind) => kind === "corrupt").length;
      }
    }
    assert.ok(corrupt >= files.length * 2, `${corrupt} corrupt errors for ${files.length} files`);
  });
});

Deno.test("an encrypted archive and a wrong password list give an encrypted error and no child", async () => {
  const secret = samples.zipCrypto(samples.zipMember("secret.txt", "the secret"), "letmein");
  const archive = samples.zip([secret]);
  await withStoq(
    { maxRecursion: 1, decompress: { passwords: ["wrong", "1234"] } },
    async (stoq) => {
      const json = await scan(stoq, archive);
      assert.equal(json.results.length, 1);
      assert.deepEqual(kinds(json), ["encrypted"]);
      const sevenZip = await Deno.readFile(`${DECOMPRESS_DATA}/encrypted_headers.7z`);
      const headers = await scan(stoq, sevenZip);
      assert.ok(kinds(headers).includes("encrypted"), JSON.stringify(headers.errors));
    },
  );
  await withStoq(
    { maxRecursion: 1, decompress: { passwords: ["infected", "letmein"] } },
    async (stoq) => {
      const json = await scan(stoq, archive);
      assert.deepEqual(kinds(json), []);
      assert.equal(json.results[1].payload_meta.extra_data.password, "letmein");
    },
  );
});

Deno.test("max_payload_size: larger payloads, initial or extracted, are kept but not scanned", async () => {
  const archive = samples.zip([
    samples.zipMember("small.txt", "small"),
    samples.zipMember("big.bin", new Uint8Array(100_000).fill(7)),
  ]);
  await withStoq(
    { maxPayloadSize: 50_000, alwaysDispatch: ["decompress", "hash"] },
    async (stoq) => {
      const json = await scan(stoq, archive);
      assert.deepEqual(kinds(json), ["max_payload_size"]);
      const big = json.results.find((r) => r.payload_meta.extra_data.filename === "big.bin")!;
      assert.equal(json.errors[0].payload_id, big.payload_id);
      assert.deepEqual(big.plugins_run.workers, []);
      assert.equal(big.payload_meta.should_scan, false);
      const initial = await scan(stoq, new Uint8Array(60_000));
      assert.deepEqual(kinds(initial), ["max_payload_size"]);
      assert.deepEqual(initial.results[0].plugins_run.workers, []);
    },
  );
});

Deno.test("max_recursion is an error entry naming the payload left unscanned", async () => {
  let nested = samples.zip([samples.zipMember("core.txt", "deep")]);
  for (let i = 0; i < 4; i++) nested = samples.zip([samples.zipMember(`level${i}.zip`, nested)]);
  await withStoq({ maxRecursion: 2 }, async (stoq) => {
    const json = await scan(stoq, nested);
    assert.equal(json.results.length, 3);
    assert.deepEqual(json.errors.map((error) => error.kind), ["max_recursion"]);
    assert.equal(json.errors[0].payload_id, json.results[2].payload_id);
  });
});

Deno.test("a broken stoq.cfg line, an unknown or mistyped option each give one message with file and line", async () => {
  const cases: [string, RegExp][] = [
    [
      "[core]\nmax_recursion = 3\nthis line is broken\n",
      /Unknown option "this line is broken" in \[core\] \(".*stoq.cfg" line 3\) \(a line without "="\)/,
    ],
    [
      "[core]\nmax_recursoin = 3\n",
      /Unknown option "max_recursoin" in \[core\] \(".*stoq.cfg" line 2\)/,
    ],
    [
      "[core]\nmax_payload_size = big\n",
      /Invalid option "max_payload_size" \(".*stoq.cfg" line 2\)/,
    ],
    [
      "[hash]\nsha512 = maybe\n",
      /Invalid option "sha512" for plugin "hash" \(".*stoq.cfg" line 2\)/,
    ],
    [
      "[hash]\nsha1024 = True\n",
      /Unknown option "sha1024" for plugin "hash" \(".*stoq.cfg" line 2\)/,
    ],
  ];
  const dir = await Deno.makeTempDir({ prefix: "stoq_cfg_" });
  try {
    for (const [text, message] of cases) {
      await Deno.writeTextFile(`${dir}/stoq.cfg`, text);
      await assert.rejects(async () => {
        const stoq = await Stoq.create({
          baseDir: dir,
          pluginDirList: [PLUGINS],
          alwaysDispatch: ["hash"],
          logSinks: [],
        });
        await stoq.close();
      }, message);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a plugin that throws at import or names a missing module is one message; the others run", async () => {
  const lines: string[] = [];
  const dir = await Deno.makeTempDir({ prefix: "stoq_bad_plugins_" });
  const stoq = await Stoq.create({
    baseDir: dir,
    pluginDirList: [PLUGINS, HOSTILE, `${ROOT}tests/testdata/plugins`],
    providers: ["simple_provider"],
    pluginOpts: { simple_provider: { count: 3, raise_exception: true } },
    connectors: [],
    logSinks: [{ level: "debug", write: (line) => lines.push(line) }],
  });
  try {
    assert.ok(lines.some((line) => /module "nowhere" not found/.test(line)), lines.join("\n"));
    await assert.rejects(
      () => stoq.loadPlugin("throws_at_import"),
      /Cannot load plugin "throws_at_import": importing ".*mod.ts" failed: Exploded at import/,
    );
    const responses: StoqResponseJson[] = [];
    const original = stoq.scanRequest.bind(stoq);
    stoq.scanRequest = async (request, options) => {
      const response = await original(request, options);
      responses.push(StoqResponseJsonSchema.parse(JSON.parse(JSON.stringify(response))));
      return response;
    };
    await stoq.run({ addStartDispatch: ["hash", "throws_at_import", "missing_module"] });
    assert.equal(responses.length, 3);
    for (const json of responses) {
      assert.ok(json.results[0].workers.hash, "hash still ran");
      assert.deepEqual(
        json.errors.map((e) => [e.plugin_name, e.kind]),
        [["throws_at_import", "plugin_load"], ["missing_module", "plugin_load"]],
      );
    }
  } finally {
    await stoq.close();
    await Deno.remove(dir, { recursive: true });
  }
});
