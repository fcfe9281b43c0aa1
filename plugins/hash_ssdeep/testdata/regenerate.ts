/**
 * Regenerate `expected.json` from Debian's `ssdeep` (reference tool, not needed by the tests):
 *
 * ```sh
 * apt-get install -y ssdeep
 * deno run -A plugins/hash_ssdeep/testdata/regenerate.ts
 * ```
 *
 * It writes every input of `inputs.ts` to a temporary folder, records `ssdeep -b` for each and
 * `ssdeep -a -k` (every pairwise score) for the comparison set, then removes the folder.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { compareInputs, type GoldenInput, goldenInputs } from "./inputs.ts";

function run(args: string[]): string {
  const output = new Deno.Command("ssdeep", { args, stdout: "piped", stderr: "null" }).outputSync();
  return new TextDecoder().decode(output.stdout);
}

function digests(dir: string, inputs: GoldenInput[]): Map<string, string> {
  for (const input of inputs) Deno.writeFileSync(`${dir}/${input.name}`, input.content);
  const out = run(["-b", ...inputs.map((input) => `${dir}/${input.name}`)]);
  const result = new Map<string, string>();
  for (const line of out.trim().split("\n").slice(1)) {
    const match = /^(.*),"(.*)"$/.exec(line);
    if (match) result.set(match[2], match[1]);
  }
  return result;
}

const dir = Deno.makeTempDirSync({ prefix: "stoq-ssdeep-" });
try {
  const version = run(["-V"]).trim();
  const inputs = goldenInputs();
  const found = digests(dir, inputs);
  const hashes = inputs.map((input) => ({
    name: input.name,
    size: input.content.length,
    sha256: createHash("sha256").update(input.content).digest("hex"),
    ssdeep: found.get(input.name),
  }));

  const pairs = compareInputs();
  const pairDigests = digests(dir, pairs);
  const listFile = `${dir}/list.txt`;
  Deno.writeTextFileSync(
    listFile,
    "ssdeep,1.1--blocksize:hash:hash,filename\n" +
      pairs.map((p) => `${pairDigests.get(p.name)},"${p.name}"\n`).join(""),
  );
  const compare = [];
  for (const line of run(["-a", "-k", listFile, listFile]).trim().split("\n")) {
    const match = /^\S+?:(\S+) matches \S+?:(\S+) \((\d+)\)$/.exec(line);
    if (!match || match[1] >= match[2]) continue;
    compare.push({
      a: pairDigests.get(match[1]),
      b: pairDigests.get(match[2]),
      names: [match[1], match[2]],
      score: Number(match[3]),
    });
  }

  const expected = {
    tool: `ssdeep ${version} (Debian bookworm)`,
    command: "ssdeep -b FILES; ssdeep -a -k LIST LIST",
    generator: "plugins/hash_ssdeep/testdata/inputs.ts",
    hashes,
    compare,
  };
  const target = new URL("./expected.json", import.meta.url);
  Deno.writeTextFileSync(target, JSON.stringify(expected, null, 2) + "\n");
  console.error(`Wrote ${hashes.length} digests and ${compare.length} scores`);
} finally {
  Deno.removeSync(dir, { recursive: true });
}
