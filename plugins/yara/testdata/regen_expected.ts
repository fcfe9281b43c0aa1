/**
 * Regenerate `expected.json`: run Debian's `yara` CLI (`yara -s -L -g RULES FILE`) on every golden
 * input with every golden rule set, and record the matching rules, their tags and their strings
 * (offset, identifier, the matched bytes in hex). Run from the repository root:
 *
 *     deno run --allow-read --allow-write --allow-run=yara plugins/yara/testdata/regen_expected.ts
 *
 * @module
 */
import { goldenInputs } from "./inputs.ts";

/** Rule sets, relative to this folder. */
export const RULE_SETS = ["../rules/dispatcher.yar", "../rules/stoq.yar", "crypto_subset.yar"];

type Match = { rule: string; tags: string[]; strings: [number, string, string][] };

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function yara(rules: string, file: string, content: Uint8Array): Promise<Match[]> {
  const { code, stdout, stderr } = await new Deno.Command("yara", {
    args: ["-w", "-s", "-L", "-g", rules, file],
  }).output();
  if (code !== 0) throw new Error(`yara failed: ${new TextDecoder().decode(stderr)}`);
  const matches: Match[] = [];
  for (const line of new TextDecoder().decode(stdout).split("\n")) {
    const rule = /^(\w+) \[([^\]]*)\] /.exec(line);
    const string = /^0x([0-9a-f]+):(\d+):(\$\w*):/.exec(line);
    if (string) {
      const offset = parseInt(string[1], 16);
      const length = Number(string[2]);
      matches.at(-1)!.strings.push([
        offset,
        string[3],
        hex(content.subarray(offset, offset + length)),
      ]);
    } else if (rule) {
      matches.push({ rule: rule[1], tags: rule[2] ? rule[2].split(",") : [], strings: [] });
    }
  }
  return matches;
}

if (import.meta.main) {
  const version = new TextDecoder().decode(
    (await new Deno.Command("yara", { args: ["--version"] }).output()).stdout,
  ).trim();
  const inputs = await goldenInputs();
  const dir = await Deno.makeTempDir();
  const results: Record<string, Record<string, Match[]>> = {};
  try {
    for (const ruleSet of RULE_SETS) {
      const rules = new URL(ruleSet, import.meta.url).pathname;
      results[ruleSet] = {};
      for (const [name, content] of Object.entries(inputs)) {
        const file = `${dir}/${name}`;
        await Deno.writeFile(file, content);
        results[ruleSet][name] = await yara(rules, file, content);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const expected = { tool: `yara ${version}`, command: "yara -w -s -L -g RULES FILE", results };
  await Deno.writeTextFile(
    new URL("expected.json", import.meta.url),
    JSON.stringify(expected, null, 1) + "\n",
  );
}
