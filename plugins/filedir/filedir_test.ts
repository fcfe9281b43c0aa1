import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Stoq, type StoqOptions } from "../../mod.ts";

const PLUGINS = new URL("..", import.meta.url).pathname;
const PLUGIN_API = new URL("../../plugin_api.ts", import.meta.url).href;

async function withStoq(options: StoqOptions, body: (stoq: Stoq) => Promise<void>) {
  const stoq = await Stoq.create({
    pluginDirList: [PLUGINS],
    logSinks: [],
    alwaysDispatch: [],
    ...options,
  });
  try {
    await body(stoq);
  } finally {
    await stoq.close();
  }
}

async function withTemp(body: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "filedir_test_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function readResults(dir: string): Promise<Record<string, unknown>[]> {
  const out = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) out.push(JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`)));
  }
  return out;
}

type ResultJson = {
  scan_id: string;
  results: { payload_meta: { extra_data: Record<string, unknown> }; size: number }[];
};

Deno.test("run() ingests a folder's files and saves one JSON file per response", async () => {
  await withTemp(async (dir) => {
    await Deno.mkdir(`${dir}/in/sub`, { recursive: true });
    await Deno.writeTextFile(`${dir}/in/a.txt`, "alpha");
    await Deno.writeTextFile(`${dir}/in/b.bin`, "beta!");
    await Deno.writeTextFile(`${dir}/in/.hidden`, "skip me");
    await Deno.writeTextFile(`${dir}/in/sub/c.txt`, "gamma");
    const run = async (recursive: boolean, results: string) => {
      await withStoq({
        providers: ["filedir"],
        connectors: ["filedir"],
        pluginOpts: {
          filedir: { source_dir: `${dir}/in`, results_dir: results, recursive },
        },
      }, (stoq) => stoq.run());
      return (await readResults(results)) as ResultJson[];
    };
    const flat = await run(false, `${dir}/flat`);
    const names = (rs: ResultJson[]) =>
      rs.map((r) => r.results[0].payload_meta.extra_data.filename).sort();
    assert.deepEqual(names(flat), ["a.txt", "b.bin"]);
    const a = flat.find((r) => r.results[0].payload_meta.extra_data.filename === "a.txt")!;
    assert.equal(a.results[0].payload_meta.extra_data.source_dir, `${dir}/in`);
    assert.equal(a.results[0].size, 5);
    for await (const entry of Deno.readDir(`${dir}/flat`)) {
      const text = await Deno.readTextFile(`${dir}/flat/${entry.name}`);
      assert.equal(entry.name, JSON.parse(text).scan_id);
      assert.equal(text.split("\n").length, 2, "one compact line and a newline");
    }
    const deep = await run(true, `${dir}/deep`);
    assert.deepEqual(names(deep), ["a.txt", "b.bin", "c.txt"]);
    const c = deep.find((r) => r.results[0].payload_meta.extra_data.filename === "c.txt")!;
    assert.equal(c.results[0].payload_meta.extra_data.source_dir, `${dir}/in/sub`);
  });
});

Deno.test("run() ingests a single file given as source_dir", async () => {
  await withTemp(async (dir) => {
    await Deno.writeTextFile(`${dir}/one.txt`, "just one");
    await withStoq({
      providers: ["filedir"],
      connectors: ["filedir"],
      pluginOpts: {
        filedir: {
          source_dir: `${dir}/one.txt`,
          results_dir: `${dir}/out`,
          compactly: false,
          date_mode: true,
          date_format: "%Y-%m-%d",
        },
      },
    }, (stoq) => stoq.run());
    const [day] = [...Deno.readDirSync(`${dir}/out`)].map((e) => e.name);
    assert.match(day, /^\d{4}-\d{2}-\d{2}$/);
    const [file] = [...Deno.readDirSync(`${dir}/out/${day}`)];
    const text = Deno.readTextFileSync(`${dir}/out/${day}/${file.name}`);
    assert.ok(text.split("\n").length > 5, "indented JSON when compactly is False");
    assert.equal(JSON.parse(text).results[0].payload_meta.extra_data.filename, "one.txt");
  });
});

Deno.test("archive() stores payloads under their SHA-1 and get() reads them back", async () => {
  await withTemp(async (dir) => {
    const content = new TextEncoder().encode("archive me");
    const sha1 = createHash("sha1").update(content).digest("hex");
    let path = "";
    await withStoq({
      destArchivers: ["filedir"],
      pluginOpts: { filedir: { archive_dir: `${dir}/archive` } },
    }, async (stoq) => {
      const first = await stoq.scan(content);
      const again = await stoq.scan(content);
      assert.deepEqual(first.errors, []);
      path = (first.results[0].archivers.filedir as { path: string }).path;
      assert.equal(path, `${dir}/archive/${sha1.slice(0, 5).split("").join("/")}/${sha1}`);
      assert.equal((again.results[0].archivers.filedir as { path: string }).path, path);
      assert.deepEqual(await Deno.readFile(path), content);
      assert.deepEqual(
        [...Deno.readDirSync(`${dir}/archive/${sha1.slice(0, 5).split("").join("/")}`)].length,
        1,
      );
    });
    await withStoq({
      destArchivers: ["filedir"],
      pluginOpts: { filedir: { archive_dir: `${dir}/by_id`, use_sha: false } },
    }, async (stoq) => {
      const response = await stoq.scan(content);
      const byId = (response.results[0].archivers.filedir as { path: string }).path;
      assert.equal(byId, `${dir}/by_id/${response.results[0].payloadId}`);
    });

    // A provider that puts an archiver task: filedir, as a source archiver, reads the payload.
    const probe = `${dir}/probe/taskprovider`;
    await Deno.mkdir(probe, { recursive: true });
    await Deno.writeTextFile(
      `${probe}/taskprovider.stoq`,
      "[Core]\nName = taskprovider\nModule = mod\nKinds = provider\n\n[Documentation]\nAuthor = test\nVersion = 0.0.1\nDescription = probe\n",
    );
    await Deno.writeTextFile(
      `${probe}/mod.ts`,
      `import { definePlugin } from "${PLUGIN_API}";
export default definePlugin({ setup() { return { ingest: async function tasks(queue) {
  await queue.put({ filedir: { path: ${JSON.stringify(path)}, note: "from a task" } });
} }; } });\n`,
    );
    await withStoq({
      pluginDirList: [PLUGINS, `${dir}/probe`],
      providers: ["taskprovider"],
      sourceArchivers: ["filedir"],
      connectors: ["filedir"],
      pluginOpts: { filedir: { archive_dir: `${dir}/archive`, results_dir: `${dir}/results` } },
    }, (stoq) => stoq.run());
    const [result] = (await readResults(`${dir}/results`)) as ResultJson[];
    assert.equal(result.results[0].size, content.length);
    assert.deepEqual(result.results[0].payload_meta.extra_data, { path, note: "from a task" });
  });
});

Deno.test("save() fails with a clear error when results_dir is not set", async () => {
  await withStoq({ connectors: ["filedir"] }, async (stoq) => {
    const response = await stoq.scan("x");
    assert.ok(
      response.errors.some((e) =>
        /Option "results_dir" of plugin "filedir" is not set/.test(e.error)
      ),
      JSON.stringify(response.errors),
    );
  });
});
