/**
 * The command line end to end, in a subprocess as a user runs it: `stoq scan` of standard input, a
 * file and a folder (the order of its output, a reader that goes away), its errors and exit codes,
 * and `stoq list`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
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

Deno.test("stoq scan reads standard input when given no file, and prints stoQ's indented JSON with no filename", async () => {
  await withFolder({}, async (_dir, config) => {
    const output = await runCli(["scan", "--config-file", config], { stdin: "from stdin" });
    assert.equal(output.stderr, "");
    assert.equal(output.code, 0);
    assert.ok(output.stdout.startsWith('{\n    "results": [\n'), output.stdout.slice(0, 40));
    const result = JSON.parse(output.stdout).results[0];
    assert.equal(result.payload_meta.extra_data.filename, null);
    assert.equal(result.workers.hash.sha256, sha256("from stdin"));
  });
});

Deno.test("stoq scan exits 2 on empty content and 1 on a missing file, plugin or plugin option, with one Error line", async () => {
  await withFolder({ "empty.bin": "", "one.txt": "1" }, async (dir, config) => {
    const cases: [string[], string | undefined, number, string][] = [
      [["scan"], "", 2, "Error: The provided content to scan was empty\n"],
      [
        ["scan", join(dir, "empty.bin")],
        undefined,
        2,
        `Error: The provided content to scan was empty: "${join(dir, "empty.bin")}"\n`,
      ],
      [
        ["scan", join(dir, "nosuch.bin")],
        undefined,
        1,
        `Error: Cannot read "${join(dir, "nosuch.bin")}": No such file or directory (os error 2)\n`,
      ],
      [
        ["scan", "-a", "nosuchplugin", join(dir, "one.txt")],
        undefined,
        1,
        'Error: The plugin "nosuchplugin" is invalid or does not exist in your plugin path\n',
      ],
      [
        ["scan", join(dir, "one.txt"), "--plugin-opts", "hash:bogus=1"],
        undefined,
        1,
        'Error: Unknown option "bogus" for plugin "hash" (--plugin-opts): known options are "sha512"\n',
      ],
    ];
    for (const [args, stdin, code, stderr] of cases) {
      const output = await runCli([...args, "--config-file", config], { stdin });
      assert.equal(output.stderr, stderr, args.join(" "));
      assert.equal(output.code, code, args.join(" "));
      assert.equal(output.stdout, "", args.join(" "));
    }
  });
});

Deno.test("stoq without a command, or with an unknown option, prints the help and exits 2", async () => {
  const none = await runCli([]);
  assert.equal(none.code, 2);
  assert.ok(none.stdout.includes("Usage: stoq <command> [options]"), none.stdout);
  const unknown = await runCli(["scan", "--no-such-flag"]);
  assert.equal(unknown.code, 2);
  assert.ok(unknown.stderr.startsWith('Error: Unknown option "--no-such-flag"\n'), unknown.stderr);
  assert.ok(unknown.stderr.includes("--always-dispatch"), unknown.stderr);
});

Deno.test("stoq list prints stoQ's banner, then each plugin's name, version, description and kinds", async () => {
  await withFolder({}, async (_dir, config) => {
    const output = await runCli(["list", "--config-file", config]);
    assert.equal(output.code, 0);
    const lines = output.stdout.split("\n");
    assert.match(lines[0], /^stoq :: v\d+\.\d+\.\d+ :: an automated analysis framework$/);
    assert.equal(lines[1], "-".repeat(lines[0].length));
    const hash = lines.findIndex((line) => line.startsWith("hash "));
    assert.ok(hash > 1, output.stdout);
    // stoQ's f"{name:<20} v{version:<10}{description}"
    assert.match(lines[hash], /^hash {17}v\S+ +Hash a payload/);
    assert.ok(lines[hash + 1].startsWith("\t\t\t\t- worker"), lines[hash + 1]);
  });
});

Deno.test("stoq scan DIR spreads the files over engines: --engines N, or one per core with isolation = none", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 10; i++) files[`${String(i).padStart(2, "0")}.txt`] = `file ${i}`;
  const plugins = fileURLToPath(new URL("./testdata/engine_plugins", import.meta.url));
  await withFolder(files, async (dir, config) => {
    const none = join(dir, "..", "none.cfg");
    await Deno.writeTextFile(none, "[core]\nplugin_dir_list =\nisolation = none\n");
    const cases: [string[], number][] = [
      [["--config-file", config, "--engines", "2"], 2],
      [["--config-file", config], 1],
      // One per core, as many as fit in 512 MiB of available memory each (and one per file).
      [
        ["--config-file", none],
        Math.max(
          1,
          Math.min(
            navigator.hardwareConcurrency,
            10,
            Math.floor(Deno.systemMemoryInfo().available / 2 ** 29),
          ),
        ),
      ],
      [["--config-file", none, "--engines", "1"], 1],
    ];
    // Each case's responses without what differs from run to run (ids, times, the isolate).
    const seen: string[][] = [];
    for (const [options, engines] of cases) {
      const output = await runCli([
        "scan",
        dir,
        "-a",
        "hash",
        "isolate_id",
        "--plugin-dir",
        plugins,
        "--request-source",
        "cli test",
        ...options,
      ]);
      assert.equal(output.stderr, "", options.join(" "));
      assert.equal(output.code, 0, options.join(" "));
      const lines = output.stdout.trimEnd().split("\n");
      assert.equal(lines.length, 10);
      const isolates = new Set<string>();
      lines.forEach((line, i) => {
        const workers = JSON.parse(line).results[0].workers;
        assert.equal(workers.hash.sha256, sha256(`file ${i}`), options.join(" "));
        isolates.add(workers.isolate_id.isolate);
      });
      // isolate_id runs in-process in each engine (one isolate each), or in its own sandbox Worker
      // in the one engine (one instance: this folder gives its pool no reason to grow).
      assert.equal(isolates.size, engines, options.join(" "));
      seen.push(lines.map((line) => {
        const response = JSON.parse(line);
        delete response.results[0].workers.isolate_id.isolate;
        return JSON.stringify(response)
          .replace(/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/g, "ID")
          .replace(/"time":"[^"]*"/g, '"time":"T"');
      }));
    }
    // The same responses with one engine or several, sandboxed or in-process.
    assert.deepEqual(seen[0], seen[1]);
    assert.deepEqual(seen[2], seen[3]);
    assert.ok(seen[0][0].includes('"scan_id":"ID"'));
    // An engine that cannot start fails the command as one Stoq would.
    const output = await runCli(["scan", dir, "-a", "nosuchplugin", "--config-file", none]);
    assert.equal(
      output.stderr,
      'Error: The plugin "nosuchplugin" is invalid or does not exist in your plugin path\n',
    );
    assert.equal(output.code, 1);
    assert.equal(output.stdout, "");
  });
});
