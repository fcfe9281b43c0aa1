import assert from "node:assert/strict";
import { gunzipSync, gzipSync } from "node:zlib";
import { zipSync } from "fflate";
import { crc32 } from "./_crc32.ts";
import { Stoq } from "../../mod.ts";
import { Payload, Request } from "../../plugin_api.ts";
import plugin from "./mod.ts";

const PLUGINS = new URL("..", import.meta.url).pathname;
const TESTDATA = new URL("./testdata/", import.meta.url);
const encoder = new TextEncoder();
// The operator's grant the manifest's [Permissions] asks for (7-Zip's wasm file).
const GRANT = { allow_read: "${node_modules}/7z-wasm" };

interface ResultJson {
  payload_id: string;
  size: number;
  extracted_from: string[];
  extracted_by: string[];
  payload_meta: { extra_data: Record<string, unknown> };
  workers: Record<string, unknown>;
}

interface ScanOutcome {
  root: ResultJson;
  children: ResultJson[];
  all: ResultJson[];
  errors: string[];
}

async function scan(
  content: Uint8Array,
  options: { filename?: string; opts?: Record<string, unknown>; recurse?: boolean } = {},
): Promise<ScanOutcome> {
  const stoq = await Stoq.create({
    pluginDirList: [PLUGINS],
    alwaysDispatch: ["decompress"],
    pluginOpts: { decompress: { ...GRANT, ...options.opts } },
    maxRecursion: options.recurse === false ? 1 : 10,
    logSinks: [],
  });
  try {
    const response = await stoq.scan(content, {
      payloadMeta: { extraData: options.filename ? { filename: options.filename } : {} },
    });
    const json = response.toJSON();
    const all = json.results as unknown as ResultJson[];
    const root = all[0];
    return {
      root,
      all,
      children: all.filter((result) => result.extracted_from.includes(root.payload_id)),
      // Only this plugin's errors: the engine adds its own (e.g. the last round reached).
      errors: json.errors.filter((error) => error.plugin_name === "decompress")
        .map((error) => error.error),
    };
  } finally {
    await stoq.close();
  }
}

function members(results: ResultJson[]): { path: string; size: number }[] {
  return results
    .map((result) => ({
      path: String(result.payload_meta.extra_data.archive_path),
      size: result.size,
    }))
    .sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

const expected = JSON.parse(
  await Deno.readTextFile(new URL("expected.json", TESTDATA)),
) as { archives: Record<string, { path: string; size: number | null }[]> };

for (const [name, listing] of Object.entries(expected.archives)) {
  Deno.test(`scan() extracts the members 7-Zip lists in ${name}`, async () => {
    let bytes = await Deno.readFile(new URL(name, TESTDATA));
    let filename = name;
    if (name === "plain.iso.gz") {
      // Committed gzipped (an ISO is mostly zeros); the golden listing is of the ISO inside.
      bytes = new Uint8Array(gunzipSync(bytes));
      filename = "plain.iso";
    }
    const outcome = await scan(bytes, { filename, recurse: false });
    const got = members(outcome.children);
    if (name === "unknown_password.zip") {
      // Listed, but its password is in no list: an error entry instead of the member.
      assert.deepEqual(got, []);
      assert.deepEqual(outcome.errors, [
        'zip: member "hello.txt" is encrypted and no password in the list opened it (passwords)',
      ]);
      return;
    }
    assert.deepEqual(got.map((m) => m.path), listing.map((m) => m.path));
    for (const [i, member] of listing.entries()) {
      if (member.size !== null) assert.equal(got[i].size, member.size, member.path);
    }
    assert.deepEqual(outcome.errors, []);
  });
}

Deno.test("scan() gives each child its filename, archive path and format", async () => {
  const outcome = await scan(await Deno.readFile(new URL("plain.zip", TESTDATA)));
  const numbers = outcome.children.find((child) =>
    child.payload_meta.extra_data.archive_path === "dir/numbers.txt"
  );
  assert.ok(numbers);
  assert.equal(numbers.payload_meta.extra_data.filename, "numbers.txt");
  assert.equal(numbers.payload_meta.extra_data.archive_format, "zip");
  assert.deepEqual(numbers.extracted_by, ["decompress"]);
  assert.deepEqual(outcome.root.workers.decompress, { format: "zip", extracted: 3 });
});

Deno.test("scan() opens ZipCrypto and AES members with the password list", async () => {
  for (const [name, password] of [["zipcrypto.zip", "infected"], ["aes128.zip", "password"]]) {
    const outcome = await scan(await Deno.readFile(new URL(name, TESTDATA)), { recurse: false });
    const hello = outcome.children.find((child) =>
      child.payload_meta.extra_data.filename === "hello.txt"
    );
    assert.ok(hello, name);
    assert.equal(hello.payload_meta.extra_data.password, password);
    assert.deepEqual(
      (outcome.root.workers.decompress as Record<string, unknown>).password,
      password,
    );
  }
});

Deno.test("scan() tries a payload's own extra_data.passwords first", async () => {
  const bytes = await Deno.readFile(new URL("unknown_password.zip", TESTDATA));
  const stoq = await Stoq.create({
    pluginDirList: [PLUGINS],
    alwaysDispatch: ["decompress"],
    pluginOpts: { decompress: GRANT },
    logSinks: [],
  });
  try {
    const json = (await stoq.scan(bytes, {
      payloadMeta: { extraData: { passwords: "not-in-the-list" } },
    })).toJSON();
    assert.equal(json.results.length, 2);
    assert.deepEqual(json.errors, []);
  } finally {
    await stoq.close();
  }
});

Deno.test("scan() recurses through tar.gz to the tar's members", async () => {
  const outcome = await scan(await Deno.readFile(new URL("pax.tar.gz", TESTDATA)));
  const paths = outcome.all.slice(1).map((result) => result.payload_meta.extra_data.archive_path);
  assert.deepEqual(paths.sort(), [
    "pax.tar",
    "pax.tar/dir/long_name_long_name_long_name_long_name_long_name_long_name_long_name_long_name_long_name_long_name_long_name_long_name_.txt",
    "pax.tar/dir/numbers.txt",
    "pax.tar/hello.txt",
  ]);
});

Deno.test("scan() reads a deb's tarballs down to the packaged file", async () => {
  const outcome = await scan(await Deno.readFile(new URL("plain.deb", TESTDATA)));
  const names = outcome.all.map((result) => result.payload_meta.extra_data.archive_path);
  assert.ok(names.includes("data.tar.gz/data.tar/./usr/share/doc/stoq-fixture/hello.txt"));
});

Deno.test("scan() uses the mimetype worker's format hint when the magic says nothing", async () => {
  // A broken tar header has no magic left; only the hint routes it, and the checksum error then
  // names the format.
  const tar = (await Deno.readFile(new URL("gnu.tar", TESTDATA))).slice();
  tar.fill(0x20, 257, 263); // no "ustar" magic
  tar[148] = 0x39; // checksum not octal
  const payload = new Payload(tar);
  payload.results.workers.mimetype = { mimetype: "application/x-tar" };
  const handlers = await plugin.setup({
    name: "decompress",
    dir: new URL(".", import.meta.url).pathname,
    options: plugin.options!.parse({}),
    log: undefined as never,
    stoqVersion: "0",
  });
  const result = await handlers.scan!(payload, new Request()) as {
    errors: { error: string; kind: string }[];
  };
  assert.match(result.errors[0].error, /^tar: header checksum mismatch/);
  assert.equal(result.errors[0].kind, "corrupt");
});

Deno.test("scan() refuses a highly compressed member (10 MB of zeros) by its ratio", async () => {
  const zip = zipSync({
    "zeros.bin": [new Uint8Array(10_000_000), { level: 9 }],
    "note.txt": encoder.encode("still extracted"),
  });
  const outcome = await scan(zip, { recurse: false });
  assert.deepEqual(members(outcome.children).map((m) => m.path), ["note.txt"]);
  assert.equal(outcome.errors.length, 1);
  assert.match(outcome.errors[0], /zip: member "zeros.bin" skipped: .*maximum_ratio = 100/);
});

Deno.test("scan() refuses a member whose declared size passes maximum_size", async () => {
  const zip = zipSync({
    "big.txt": encoder.encode("x".repeat(5000)),
    "small.txt": encoder.encode("ok"),
  });
  const outcome = await scan(zip, { recurse: false, opts: { maximum_size: 1000 } });
  assert.deepEqual(members(outcome.children).map((m) => m.path), ["small.txt"]);
  assert.match(outcome.errors[0], /"big.txt" skipped: declared size .*maximum_size = 1000/);
});

Deno.test("scan() stops inflating a member whose data passes its lying declared size", async () => {
  const zip = zipSync({ "liar.bin": [new Uint8Array(5_000_000), { level: 9 }] });
  // Rewrite the declared size (local and central headers) to 100 bytes.
  const view = new DataView(zip.buffer);
  view.setUint32(22, 100, true);
  const cd = zip.findLastIndex((_, i) =>
    i + 4 <= zip.length && view.getUint32(i, true) === 0x02014b50
  );
  view.setUint32(cd + 24, 100, true);
  const outcome = await scan(zip, { recurse: false, opts: { maximum_ratio: 1e9 } });
  assert.equal(outcome.children.length, 0);
  assert.match(outcome.errors[0], /"liar.bin" skipped: output passed its declared size 100/);
});

Deno.test("scan() stops a gzip bomb while streaming, before maximum_size", async () => {
  const bomb = new Uint8Array(gzipSync(new Uint8Array(100_000_000), { level: 9 }));
  const outcome = await scan(bomb, { recurse: false, opts: { maximum_ratio: 1e9 } });
  assert.equal(outcome.children.length, 0);
  assert.match(outcome.errors[0], /gzip: member "data" skipped: .*maximum_size = 50000000/);
  const byRatio = await scan(bomb, { recurse: false });
  assert.match(byRatio.errors[0], /maximum_ratio = 100/);
});

Deno.test("scan() refuses a 42.zip-style nest at its first layer", async () => {
  const layer: Record<string, Uint8Array> = {};
  for (let i = 0; i < 16; i++) {
    // Distinct leaves: stoq keeps one of identical extracted payloads.
    const zeros = new Uint8Array(4_000_000);
    zeros[0] = i;
    layer[`${i}.zip`] = zipSync({ "zeros.bin": [zeros, { level: 9 }] });
  }
  const nest = zipSync({ "a.zip": zipSync(layer) });
  const outcome = await scan(nest, { opts: { maximum_total_size: 10_000_000 } });
  // Every leaf is refused by its ratio; the 16 inner zips still come out.
  assert.equal(outcome.all.length, 1 + 1 + 16);
  assert.equal(outcome.errors.filter((error) => /maximum_ratio/.test(error)).length, 16);
});

Deno.test("scan() stops at maximum_members and maximum_total_size, keeping the rest", async () => {
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < 10; i++) files[`f${i}.txt`] = encoder.encode(`${i}`.repeat(100));
  const zip = zipSync(files);
  const byCount = await scan(zip, { recurse: false, opts: { maximum_members: 3 } });
  assert.equal(byCount.children.length, 3);
  assert.match(byCount.errors[0], /members after 3 skipped \(maximum_members = 3\)/);
  const byTotal = await scan(zip, { recurse: false, opts: { maximum_total_size: 450 } });
  assert.equal(byTotal.children.length, 4);
  assert.match(byTotal.errors[0], /maximum_total_size = 450/);
});

Deno.test("scan() keeps the members of a truncated zip read from local headers", async () => {
  const zip = await Deno.readFile(new URL("plain.zip", TESTDATA));
  const outcome = await scan(zip.subarray(0, 4000), { recurse: false });
  assert.ok(outcome.children.length >= 1);
  assert.match(outcome.errors[0], /^zip: end of central directory not found; members recovered/);
  assert.ok(outcome.errors.some((error) => /data truncated/.test(error)));
});

Deno.test("scan() reports a truncated gzip and keeps what was decoded", async () => {
  const gz = await Deno.readFile(new URL("pax.tar.gz", TESTDATA));
  const outcome = await scan(gz.subarray(0, 3000), { recurse: false });
  assert.match(outcome.errors[0], /^gzip: data corrupt or truncated/);
});

Deno.test("scan() reports a corrupt 7z and names the format", async () => {
  const archive = (await Deno.readFile(new URL("plain.7z", TESTDATA))).slice(0, 600);
  const outcome = await scan(archive, { recurse: false });
  assert.ok(outcome.errors.length > 0);
  assert.ok(outcome.errors.every((error) => error.startsWith("7z: ")), outcome.errors.join());
});

Deno.test("scan() ignores payloads that are not archives", async () => {
  const outcome = await scan(encoder.encode("just text"));
  assert.equal(outcome.all.length, 1);
  assert.deepEqual(outcome.errors, []);
});

/** A RAR 4 archive with stored members, built by hand (no rar tool is free to use). */
function storedRar(files: Record<string, Uint8Array>): Uint8Array {
  const parts: number[] = [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00];
  const le = (value: number, bytes: number) =>
    Array.from({ length: bytes }, (_, i) => Math.floor(value / 256 ** i) & 0xff);
  const block = (body: number[]) => {
    const crc = le(crc32(new Uint8Array(body)) & 0xffff, 2);
    parts.push(...crc, ...body);
  };
  block([0x73, ...le(0, 2), ...le(13, 2), ...le(0, 2), ...le(0, 4)]);
  for (const [name, data] of Object.entries(files)) {
    const nameBytes = [...encoder.encode(name)];
    const size = 32 + nameBytes.length;
    block([
      0x74,
      ...le(0x8000, 2),
      ...le(size, 2),
      ...le(data.length, 4),
      ...le(data.length, 4),
      3, // Unix
      ...le(crc32(data), 4),
      ...le(0x5a210000, 4),
      20,
      0x30, // stored
      ...le(nameBytes.length, 2),
      ...le(0x81a4, 4),
      ...nameBytes,
    ]);
    parts.push(...data);
  }
  block([0x7b, ...le(0x4000, 2), ...le(7, 2)]);
  return new Uint8Array(parts);
}

Deno.test("scan() extracts a RAR archive's members through 7-Zip (wasm)", async () => {
  const rar = storedRar({ "a.txt": encoder.encode("alpha\n"), "b/c.txt": encoder.encode("gamma") });
  const outcome = await scan(rar, { recurse: false });
  assert.deepEqual(outcome.errors, []);
  assert.deepEqual(members(outcome.children), [
    { path: "a.txt", size: 6 },
    { path: "b/c.txt", size: 5 },
  ]);
  assert.deepEqual((outcome.root.workers.decompress as { format: string }).format, "rar");
});
