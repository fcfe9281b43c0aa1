/**
 * Regenerate `expected.json` from Debian's `file` (reference tool, not needed by the tests):
 *
 * ```sh
 * apt-get install -y file
 * deno run -A plugins/mimetype/testdata/regenerate.ts
 * ```
 *
 * For every file in `samples/` it records `file --mime-type -b PATH` (`path`) and the same with the
 * bytes on standard input, `file --mime-type -b - < PATH` (`stdin`). The plugin hands libmagic a
 * buffer, which is what `stdin` measures; `path` differs only where libmagic looks at the file
 * itself (an empty regular file is `inode/x-empty`).
 *
 * @module
 */

async function run(args: string[], stdin?: Uint8Array): Promise<string> {
  const child = new Deno.Command("file", {
    args: ["--mime-type", "-b", ...args],
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
  }).spawn();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const output = await child.output();
  return new TextDecoder().decode(output.stdout).trim();
}

const dir = new URL("./samples/", import.meta.url);
const names = [...Deno.readDirSync(dir)].filter((e) => e.isFile).map((e) => e.name).sort();
const samples: Record<string, { path: string; stdin: string }> = {};
for (const name of names) {
  const path = new URL(name, dir).pathname;
  samples[name] = { path: await run([path]), stdin: await run(["-"], Deno.readFileSync(path)) };
}
const version = (await new Deno.Command("file", { args: ["--version"] }).output()).stdout;
const expected = {
  tool: new TextDecoder().decode(version).split("\n")[0] + " (Debian bookworm)",
  command: "file --mime-type -b PATH; file --mime-type -b - < PATH",
  samples,
};
Deno.writeTextFileSync(
  new URL("./expected.json", import.meta.url),
  JSON.stringify(expected, null, 2) + "\n",
);
console.error(`Recorded ${names.length} samples`);
