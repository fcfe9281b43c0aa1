import assert from "node:assert/strict";
import { parseIni } from "../config.ts";
import { parseArgs, UsageError } from "./args.ts";
import { enginesOf } from "./scan.ts";

const GIB = 1024 ** 3;
const CORES = navigator.hardwareConcurrency || 1;
const args = (...argv: string[]) => parseArgs(["scan", ...argv, "f"], (path) => path === "f");
const inProcess = parseIni("[core]\nisolation = None\n");
const sandboxed = parseIni("[core]\nalways_dispatch = hash\n");

Deno.test("enginesOf(): --engines N wins; a bad N is a usage error naming the option", () => {
  assert.equal(enginesOf(args("--engines", "3"), sandboxed, () => 0), 3);
  assert.equal(enginesOf(args("--engines", "1"), inProcess, () => 64 * GIB), 1);
  for (const bad of ["0", "-1", "two", "1.5"]) {
    assert.throws(
      () => enginesOf(args(`--engines=${bad}`), inProcess),
      (err: unknown) =>
        err instanceof UsageError && err.message.includes('"--engines"') &&
        err.message.includes(`"${bad}"`),
      bad,
    );
  }
});

Deno.test("enginesOf(): by default one per core in-process, within 512 MiB of memory each; else 1", () => {
  assert.equal(enginesOf(args(), sandboxed, () => 64 * GIB), 1);
  assert.equal(enginesOf(args(), parseIni(""), () => 64 * GIB), 1);
  assert.equal(enginesOf(args(), inProcess, () => 64 * GIB), CORES);
  // Memory for one engine only, or for none: one.
  assert.equal(enginesOf(args(), inProcess, () => 0.6 * GIB), 1);
  assert.equal(enginesOf(args(), inProcess, () => 0), 1);
  // Memory that cannot be read: the cores decide.
  const unreadable = () => {
    throw new Deno.errors.NotCapable("Requires sys access");
  };
  assert.equal(enginesOf(args(), inProcess, unreadable), CORES);
});
