import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "../../tests/_cli.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

async function scanWithStdout(...extra: string[]) {
  const output = await runCli([
    "scan",
    join(ROOT, "plugins", "stdout", "stdout.stoq"),
    "-a",
    "hash",
    "-R",
    "",
    "-C",
    "stdout",
    ...extra,
  ]);
  assert.equal(output.code, 0, output.stderr);
  return output.stdout;
}

Deno.test("stdout prints each response as stoQ's indented JSON, from its sandbox", async () => {
  const text = await scanWithStdout();
  const response = JSON.parse(text);
  assert.deepEqual(Object.keys(response), [
    "results",
    "request_meta",
    "errors",
    "time",
    "decorators",
    "scan_id",
  ]);
  assert.equal(response.results[0].payload_meta.extra_data.filename, "stdout.stoq");
  assert.match(text, /^\{\n {4}"results": \[/);
});

Deno.test("stdout with compactly = True prints one line per response", async () => {
  const text = await scanWithStdout("--plugin-opts", "stdout:compactly=True");
  assert.equal(text.trimEnd().split("\n").length, 1);
  assert.ok(JSON.parse(text).scan_id);
});
