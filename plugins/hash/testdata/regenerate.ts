/**
 * Record what coreutils says of each input into expected.json:
 * `deno run -A plugins/hash/testdata/regenerate.ts` (needs md5sum, sha1sum, sha256sum, sha512sum).
 *
 * @module
 */
import { inputs } from "./inputs.ts";

const tools = { md5: "md5sum", sha1: "sha1sum", sha256: "sha256sum", sha512: "sha512sum" };
const expected: Record<string, Record<string, string>> = {};
for (const [name, bytes] of Object.entries(inputs())) {
  expected[name] = {};
  for (const [key, tool] of Object.entries(tools)) {
    const child = new Deno.Command(tool, { stdin: "piped", stdout: "piped" }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(bytes);
    await writer.close();
    const out = new TextDecoder().decode((await child.output()).stdout);
    expected[name][key] = out.split(/\s/)[0];
  }
}
const version = new TextDecoder().decode(
  (await new Deno.Command("sha256sum", { args: ["--version"], stdout: "piped" }).output()).stdout,
).split("\n")[0];
await Deno.writeTextFile(
  new URL("./expected.json", import.meta.url),
  JSON.stringify({ tool: version, expected }, null, 2) + "\n",
);
