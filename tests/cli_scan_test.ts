/**
 * `stoq scan` of a folder, end to end in a subprocess: the order of its output, and a reader that
 * goes away (`stoq scan DIR | head`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { CLI, runCli } from "./_cli.ts";

/** A folder of files and a stoq.cfg that only hashes; removed after `body`. */
async function withFolder(
  files: Record<string, string>,
  body: (dir: string, config: string) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "stoq-cli-scan-" });
  try {
    const dir = join(root, "in");
    for (const [name, text] of Object.entries(files)) {
      await Deno.mkdir(join(dir, name, ".."), { recursive: true });
      await Deno.writeTextFile(join(dir, name), text);
    }
    const config = join(root, "stoq.cfg");
    await Deno.writeTextFile(config, "[core]\nplugin_dir_list =\nalways_dispatch = hash\n");
    await body(dir, config);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

Deno.test("stoq scan DIR prints one JSON response per file, in the folder's sorted order", async () => {
  // More files than a folder scan keeps in flight, so later ones can end before earlier ones.
  const files: Record<string, string> = { "b.txt": "bee", "a.txt": "ay", "sub/c.txt": "sea" };
  for (let i = 0; i < 12; i++) files[`sub/more/${String(i).padStart(2, "0")}.txt`] = "x".repeat(i);
  await withFolder(files, async (dir, config) => {
    const output = await runCli(["scan", dir, "--config-file", config]);
    assert.equal(output.stderr, "");
    assert.equal(output.code, 0);
    const lines = output.stdout.trimEnd().split("\n");
    const order = [
      "a.txt",
      "b.txt",
      "sub/c.txt",
      ...Array.from({ length: 12 }, (_, i) => `sub/more/${String(i).padStart(2, "0")}.txt`),
    ];
    assert.equal(lines.length, order.length);
    lines.forEach((line, i) => {
      const result = JSON.parse(line).results[0];
      assert.equal(result.payload_meta.extra_data.filename, order[i].split("/").at(-1));
      assert.equal(result.workers.hash.sha256, sha256(files[order[i]]));
    });
  });
});

Deno.test("stoq scan DIR whose reader goes away stops quietly with status 141, as SIGPIPE would", async () => {
  // Far more output than a pipe holds (64 KiB), so the command is still writing when it closes.
  const files: Record<string, string> = {};
  for (let i = 0; i < 300; i++) files[`f${String(i).padStart(3, "0")}.txt`] = `file ${i}`;
  await withFolder(files, async (dir, config) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [...CLI, "scan", dir, "--config-file", config],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const first = await reader.read();
    assert.ok(first.value && first.value.byteLength > 0);
    await reader.cancel();
    const [status, stderr] = await Promise.all([
      child.status,
      new Response(child.stderr).text(),
    ]);
    assert.equal(stderr, "");
    assert.equal(status.code, 141);
  });
});
