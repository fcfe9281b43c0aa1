import assert from "node:assert/strict";
import { Stoq } from "../../mod.ts";

const PLUGINS = new URL("..", import.meta.url).pathname;
const SETTLE_MS = 500;

type Saved = { results: { size: number; payload_meta: { extra_data: Record<string, string> } }[] };

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function saved(dir: string): Promise<Saved[]> {
  const out: Saved[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && !entry.name.startsWith(".")) {
      out.push(JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`)));
    }
  }
  return out;
}

async function until(what: string, check: () => Promise<boolean>, ms = 15_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`Timed out waiting for ${what}`);
}

/** Run dirmon (with the filedir connector) while `body` writes files; return what was saved. */
async function watch(
  options: Record<string, unknown>,
  body: (watched: string, results: string) => Promise<void>,
): Promise<Saved[]> {
  const dir = await Deno.makeTempDir({ prefix: "dirmon_test_" });
  const watched = `${dir}/watched`;
  const results = `${dir}/results`;
  await Deno.mkdir(watched);
  await Deno.mkdir(results);
  await Deno.writeTextFile(`${watched}/old.txt`, "there before");
  try {
    const stoq = await Stoq.create({
      pluginDirList: [PLUGINS],
      logSinks: [],
      alwaysDispatch: [],
      providers: ["dirmon"],
      connectors: ["filedir"],
      pluginOpts: {
        dirmon: { source_dir: watched, settle_ms: SETTLE_MS, ...options },
        filedir: { results_dir: results },
      },
    });
    const running = stoq.run();
    try {
      await sleep(200); // let the watcher start
      await body(watched, results);
      await sleep(SETTLE_MS * 3); // anything queued late would show now
    } finally {
      await stoq.close();
      await running;
    }
    return await saved(results);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const names = (all: Saved[]) =>
  all.map((s) => s.results[0].payload_meta.extra_data.filename).sort();

Deno.test("dirmon ingests a slowly written file once, whole, after it settles", async () => {
  const chunk = new Uint8Array(1000).fill(0x41);
  const all = await watch({}, async (watched, results) => {
    const file = await Deno.open(`${watched}/slow.bin`, { write: true, createNew: true });
    for (let i = 0; i < 8; i++) {
      await file.write(chunk);
      await sleep(SETTLE_MS / 5);
      assert.equal((await saved(results)).length, 0, "queued before it was complete");
    }
    file.close();
    await until("slow.bin", async () => (await saved(results)).length === 1);
    // Touching it again does not queue it twice.
    await Deno.writeFile(`${watched}/slow.bin`, chunk, { append: true });
  });
  assert.deepEqual(names(all), ["slow.bin"]);
  assert.equal(all[0].results[0].size, 8000);
  assert.match(all[0].results[0].payload_meta.extra_data.source_dir, /watched$/);
});

Deno.test("dirmon survives files that vanish and skips dotfiles and old files", async () => {
  const all = await watch({}, async (watched, results) => {
    await Deno.writeTextFile(`${watched}/gone.txt`, "here for a moment");
    await sleep(20);
    await Deno.remove(`${watched}/gone.txt`);
    await Deno.writeTextFile(`${watched}/.partial`, "a temporary file");
    await Deno.writeTextFile(`${watched}/a.txt`, "alpha");
    await Deno.mkdir(`${watched}/sub`);
    await Deno.writeTextFile(`${watched}/sub/deep.txt`, "not watched: recursive is False");
    await Deno.rename(`${watched}/.partial`, `${watched}/b.txt`);
    await until("a.txt and b.txt", async () => (await saved(results)).length >= 2);
  });
  assert.deepEqual(names(all), ["a.txt", "b.txt"]);
});

Deno.test("dirmon ingests files already there with process_existing, and sub-folders with recursive", async () => {
  const all = await watch({ process_existing: true, recursive: true }, async (watched, results) => {
    await Deno.mkdir(`${watched}/sub`);
    await Deno.writeTextFile(`${watched}/sub/deep.txt`, "deep");
    await until("two files", async () => (await saved(results)).length >= 2);
  });
  assert.deepEqual(names(all), ["deep.txt", "old.txt"]);
});

Deno.test("dirmon fails to load when source_dir does not exist", async () => {
  await assert.rejects(
    Stoq.create({
      pluginDirList: [PLUGINS],
      logSinks: [],
      alwaysDispatch: [],
      providers: ["dirmon"],
      pluginOpts: { dirmon: { source_dir: "/nonexistent/dirmon" } },
    }),
    /source_dir is not an existing folder/,
  );
});
