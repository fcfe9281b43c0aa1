/**
 * Compare `ssdeepHash()` with Debian's `ssdeep -b` on files of this machine (a developer check, not
 * a test: the files differ between machines, so nothing is recorded):
 *
 * ```sh
 * deno run -A plugins/hash_ssdeep/testdata/check_files.ts /usr/bin/* /usr/lib/x86_64-linux-gnu/*.so*
 * ```
 *
 * Prints every disagreement and a summary; exits 1 if any file disagrees.
 *
 * @module
 */
import { ssdeepHash } from "../ssdeep_hash.ts";

let agree = 0;
let disagree = 0;
const files = Deno.args.filter((path) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
});
for (let start = 0; start < files.length; start += 200) {
  const batch = files.slice(start, start + 200);
  const output = new Deno.Command("ssdeep", { args: ["-s", ...batch], stderr: "null" })
    .outputSync();
  const reference = new Map<string, string>();
  for (const line of new TextDecoder().decode(output.stdout).trim().split("\n").slice(1)) {
    const match = /^(.*),"(.*)"$/.exec(line);
    if (match) reference.set(match[2], match[1]);
  }
  for (const path of batch) {
    const expected = reference.get(path);
    if (expected === undefined) continue;
    const actual = ssdeepHash(Deno.readFileSync(path));
    if (actual === expected) agree++;
    else {
      disagree++;
      console.error(`Disagreement on "${path}": ${actual} (ssdeep: ${expected})`);
    }
  }
}
console.error(`${agree} files agree, ${disagree} disagree`);
if (disagree > 0) Deno.exit(1);
