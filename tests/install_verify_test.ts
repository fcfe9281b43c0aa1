/**
 * `stoq install` verifies before it finishes: the plugin's npm imports resolve from stoq's
 * deno.json/deno.lock, and the plugin loads in the sandbox from a staging folder; only then is it
 * renamed into place, where `stoq list` shows it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Stoq, StoqError } from "../mod.ts";
import { installPlugin } from "../core/cli/install.ts";

const API = fileURLToPath(new URL("../plugin_api.ts", import.meta.url));

async function pluginFolder(root: string, name: string, module: string): Promise<string> {
  const dir = join(root, "src", name);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, `${name}.stoq`),
    `[Core]\nName = ${name}\nModule = mod\nKinds = worker\n\n[Documentation]\nVersion = 1.0.0\nDescription = test\n`,
  );
  await Deno.writeTextFile(join(dir, "mod.ts"), module.replace("API", API));
  return dir;
}

const GOOD = `import { definePlugin } from "API";
import { strToU8 } from "npm:fflate@^0.8.2";
export default definePlugin({ setup: () => ({ scan: () => ({ results: { n: strToU8("ab").length } }) }) });
`;

async function entries(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) out.push(entry.name);
  return out.sort();
}

Deno.test("install loads the plugin in the sandbox first; stoq list shows it afterwards", async () => {
  const root = await Deno.makeTempDir();
  try {
    const src = await pluginFolder(root, "good", GOOD);
    const target = await installPlugin(src, join(root, "plugins"));
    assert.equal(target, join(root, "plugins", "good"));
    assert.deepEqual(await entries(join(root, "plugins")), ["good"]);
    const stoq = await Stoq.create({
      baseDir: root,
      pluginDirList: [join(root, "plugins")],
      logSinks: [],
      alwaysDispatch: ["good"],
    });
    try {
      assert.deepEqual(stoq.listPlugins().good.kinds, ["worker"]);
      assert.deepEqual((await stoq.scan("x")).results[0].workers.good, { n: 2 });
    } finally {
      await stoq.close();
    }
    // Refused without --upgrade; with it, replaced.
    await assert.rejects(installPlugin(src, join(root, "plugins")), /already exists.*--upgrade/);
    await installPlugin(src, join(root, "plugins"), { upgrade: true });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("install refuses a plugin whose module does not load, and leaves nothing behind", async () => {
  const root = await Deno.makeTempDir();
  try {
    const broken = await pluginFolder(
      root,
      "broken",
      `import { definePlugin } from "API";\nexport default definePlugin({ setup() { throw new Error("no rules file"); } });\n`,
    );
    await assert.rejects(
      installPlugin(broken, join(root, "plugins")),
      (err: Error) =>
        err instanceof StoqError &&
        /does not load in the sandbox.*no rules file/s.test(err.message),
    );
    assert.deepEqual(await entries(join(root, "plugins")), []);
    // An upgrade that does not load keeps the installed version.
    const good = await pluginFolder(root, "good", GOOD);
    await installPlugin(good, join(root, "plugins"));
    await Deno.writeTextFile(join(good, "mod.ts"), "export default 42;\n");
    await assert.rejects(
      installPlugin(good, join(root, "plugins"), { upgrade: true }),
      /definePlugin/,
    );
    assert.match(await Deno.readTextFile(join(root, "plugins", "good", "mod.ts")), /strToU8/);
    assert.deepEqual(await entries(join(root, "plugins")), ["good"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("install refuses npm packages stoq does not have, saying how to add them", async () => {
  const root = await Deno.makeTempDir();
  try {
    const src = await pluginFolder(
      root,
      "needy",
      `import { definePlugin } from "API";\nimport left from "npm:left-pad-not-in-stoq@1.3.0";\nimport x from "some-bare-name";\nexport default definePlugin({ setup: () => ({ scan: () => ({ results: { p: left("a", 2) + x } }) }) });\n`,
    );
    await assert.rejects(
      installPlugin(src, join(root, "plugins")),
      (err: Error) =>
        err instanceof StoqError &&
        /"npm:left-pad-not-in-stoq@1\.3\.0" \(mod\.ts\)/.test(err.message) &&
        /"some-bare-name" \(mod\.ts\), which is not in stoq's deno\.json "imports"/.test(
          err.message,
        ) &&
        /deno add npm:left-pad-not-in-stoq@1\.3\.0/.test(err.message) &&
        /deno install --entrypoint/.test(err.message),
    );
    assert.deepEqual(await entries(join(root, "plugins")).catch(() => []), []);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
