import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Stoq } from "../../mod.ts";
import { Payload, Request } from "../../plugin_api.ts";
import { Libmagic } from "./_libmagic.ts";
import plugin, { type Format, formatOf } from "./mod.ts";

const PLUGINS = fileURLToPath(new URL("..", import.meta.url));
const SAMPLES = new URL("./testdata/samples/", import.meta.url);
const EXPECTED: { samples: Record<string, { path: string; stdin: string }> } = JSON.parse(
  Deno.readTextFileSync(new URL("./testdata/expected.json", import.meta.url)),
);

/** The format id each sample must get. */
const FORMATS: Record<string, Format> = {
  "archive-gnu.tar": "tar",
  "archive.7z": "7z",
  "archive.ar": "ar",
  "archive.tar": "tar",
  "archive.zip": "zip",
  "autorun.inf": "script",
  "b64.txt": "base64",
  "cab.cab": "cab",
  "cws.swf": "swf",
  "data.Z": "compress",
  "data.bz2": "bzip2",
  "data.cpio": "cpio",
  "data.gz": "gzip",
  "data.json": "json",
  "data.lzma": "lzma",
  "data.rpm": "rpm",
  "data.xz": "xz",
  "data.zlib": "zlib",
  "data.zst": "zstd",
  "dmi.mif": "text",
  "doc.rtf": "rtf",
  "doc.xml": "xml",
  "docx.docx": "ooxml",
  "elf-core": "elf",
  "elf-dyn": "elf",
  "elf-exec": "elf",
  "elf-pie": "elf",
  "elf-rel.o": "elf",
  "empty.bin": "empty",
  "image.bmp": "bmp",
  "image.gif": "gif",
  "image.iso": "iso9660",
  "image.jpg": "jpeg",
  "image.png": "png",
  "jar.jar": "zip",
  "java.class": "javaclass",
  "lnk.lnk": "lnk",
  "macho": "macho",
  "mail.eml": "email",
  "odt.odt": "odf",
  "ole.doc": "ole",
  "one-byte.bin": "unknown",
  "package.deb": "deb",
  "page.html": "html",
  "pdf.pdf": "pdf",
  "pe32.dll": "pe",
  "pe32.exe": "pe",
  "random.bin": "unknown",
  "rar.rar": "rar",
  "rar5.rar": "rar",
  "script.js": "script",
  "script.pl": "script",
  "script.py": "script",
  "script.rb": "script",
  "script.sh": "script",
  "sqlite.db": "sqlite",
  "text.txt": "text",
  "utf16.txt": "text",
  "utf8.txt": "text",
  "wasm.wasm": "wasm",
  "words.txt": "text",
  "zeros.bin": "unknown",
};

async function scanAll(
  names: string[],
  pluginOpts: Record<string, unknown> = {},
): Promise<Map<string, { mimetype: string; format: string }>> {
  const stoq = await Stoq.create({
    pluginDirList: [PLUGINS],
    alwaysDispatch: ["mimetype"],
    pluginOpts: { mimetype: pluginOpts },
    logSinks: [],
  });
  try {
    const out = new Map<string, { mimetype: string; format: string }>();
    for (const name of names) {
      const response = await stoq.scan(Deno.readFileSync(new URL(name, SAMPLES)));
      const workers = response.toJSON().results[0].workers;
      out.set(name, workers.mimetype as { mimetype: string; format: string });
    }
    return out;
  } finally {
    await stoq.close();
  }
}

const NAMES = Object.keys(EXPECTED.samples).sort();

Deno.test("mimetype agrees with `file --mime-type -` 5.44 on every sample", async () => {
  assert.deepEqual(NAMES, Object.keys(FORMATS).sort(), "samples and FORMATS disagree");
  const results = await scanAll(NAMES);
  for (const name of NAMES) {
    assert.equal(results.get(name)?.mimetype, EXPECTED.samples[name].stdin, name);
  }
});

Deno.test("mimetype reports the normalized format of every sample", async () => {
  const results = await scanAll(NAMES);
  for (const name of NAMES) assert.equal(results.get(name)?.format, FORMATS[name], name);
});

Deno.test("mimetype with max_bytes = 1000 (stoQ's limit) misses the ISO 9660 signature", async () => {
  const results = await scanAll(["image.iso", "archive.tar"], { max_bytes: 1000 });
  assert.deepEqual(results.get("image.iso"), {
    mimetype: "application/octet-stream",
    format: "unknown",
  });
  assert.deepEqual(results.get("archive.tar"), { mimetype: "application/x-tar", format: "tar" });
});

Deno.test("mimetype's cache answers as libmagic does, also after it forgets", async () => {
  const uncached = await scanAll(NAMES, { cache_size: 0 });
  // Each sample three times in a row and the whole list twice, through a cache of two entries:
  // hits, misses and evictions all happen.
  const twice = [...NAMES.flatMap((name) => [name, name, name]), ...NAMES];
  const stoq = await Stoq.create({
    pluginDirList: [PLUGINS],
    alwaysDispatch: ["mimetype"],
    pluginOpts: { mimetype: { cache_size: 2, concurrency: 1 } },
    logSinks: [],
  });
  try {
    for (const name of twice) {
      const response = await stoq.scan(Deno.readFileSync(new URL(name, SAMPLES)));
      assert.deepEqual(response.toJSON().results[0].workers.mimetype, uncached.get(name), name);
    }
  } finally {
    await stoq.close();
  }
});

Deno.test("formatOf() keys on the MIME type first, then on leading bytes", () => {
  const bytes = (...values: number[]) => Uint8Array.from(values);
  assert.equal(formatOf("application/x-dosexec", bytes()), "pe");
  assert.equal(formatOf("application/x-executable", bytes(0x4d, 0x5a)), "unknown");
  assert.equal(
    formatOf("application/octet-stream", bytes(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c)),
    "7z",
  );
  assert.equal(formatOf("application/octet-stream", bytes()), "empty");
  assert.equal(
    formatOf("text/plain; charset=us-ascii", new TextEncoder().encode("BZh9 hello")),
    "text",
  );
  const hex = new TextEncoder().encode("d41d8cd98f00b204e9800998ecf8427e");
  assert.equal(formatOf("text/plain", hex), "text");
});

Deno.test("formatOf() tells one base64 blob from other text as the definition says", () => {
  // The definition, written the plain way: strip whitespace, then one regular expression.
  const definition = (text: string) => {
    const stripped = text.replace(/[ \n\r\t]/g, "");
    return stripped.length >= 32 && stripped.length % 4 === 0 &&
      /^[A-Za-z0-9+/]+={0,2}$/.test(stripped) && /[A-Z]/.test(stripped) &&
      /[a-z]/.test(stripped) && /[0-9+/]/.test(stripped);
  };
  const encoder = new TextEncoder();
  const blob = btoa("stoq ".repeat(20));
  const cases = [
    blob,
    `${blob.slice(0, 40)}\n${blob.slice(40)}\n`,
    blob.replace(/=+$/, "") + "===",
    "=" + blob.slice(1),
    blob.slice(0, 20) + "=" + blob.slice(21),
    blob.slice(0, 31),
    "A".repeat(40),
    "Ab".repeat(20),
    "Ab1".repeat(12) + "A=",
    "Ab1".repeat(12) + "==",
    "Ab1".repeat(11) + "===",
    "Ab1+".repeat(8),
    "Ab1/".repeat(8) + "\t\r\n ",
    "Ab1-".repeat(8),
    "This is a sentence of English text, not base64 at all.",
    "d41d8cd98f00b204e9800998ecf8427e",
  ];
  // And a few thousand made at random from the alphabet, whitespace, padding and a stray comma.
  const alphabet = "ABCabc019+/= \n,";
  let seed = 7;
  for (let i = 0; i < 3000; i++) {
    let text = "";
    const length = 28 + (i % 16);
    for (let j = 0; j < length; j++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const pick = seed % 100;
      text += pick < 92 ? alphabet[pick % 9] : alphabet[9 + (pick % alphabet.slice(9).length)];
    }
    cases.push(text);
  }
  let base64 = 0;
  for (const text of cases) {
    const expected = definition(text) ? "base64" : "text";
    assert.equal(formatOf("text/plain", encoder.encode(text)), expected, JSON.stringify(text));
    if (expected === "base64") base64++;
  }
  assert.ok(base64 > 100, `only ${base64} of the cases are base64`);
});

Deno.test("a trap in libmagic fails that payload only; the next gets a fresh libmagic", async () => {
  const trapping = new TextEncoder().encode("this input traps\n");
  const open = Libmagic.open;
  const detect = Libmagic.prototype.detect;
  let opened = 0;
  Libmagic.open = (...args: Parameters<typeof open>) => {
    opened++;
    return open(...args);
  };
  // A trap leaves the module's memory in an unknown state: model one on a chosen input.
  Libmagic.prototype.detect = function (bytes: Uint8Array) {
    if (bytes.length === trapping.length && bytes.every((b, i) => b === trapping[i])) {
      throw new WebAssembly.RuntimeError("unreachable");
    }
    return detect.call(this, bytes);
  };
  try {
    const handlers = await plugin.setup({
      name: "mimetype",
      dir: fileURLToPath(new URL(".", import.meta.url)),
      options: plugin.options!.parse({}),
      log: undefined as never,
      stoqVersion: "0",
    });
    const scan = (bytes: Uint8Array) => handlers.scan!(new Payload(bytes), new Request());
    assert.equal(opened, 1);
    assert.throws(() => scan(trapping), WebAssembly.RuntimeError);
    assert.equal(opened, 2, "a new libmagic after the trap");
    assert.deepEqual(await scan(new TextEncoder().encode("%PDF-1.4\n")), {
      results: { mimetype: "application/pdf", format: "pdf" },
    });
    // Nothing was remembered for the input that trapped: it is tried again, and traps again.
    assert.throws(() => scan(trapping), WebAssembly.RuntimeError);
    assert.equal(opened, 3);
  } finally {
    Libmagic.open = open;
    Libmagic.prototype.detect = detect;
  }
});
