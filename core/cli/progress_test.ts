import assert from "node:assert/strict";
import { Progress } from "./progress.ts";

Deno.test("Progress draws files done, files/s and errors on a terminal", () => {
  const written: string[] = [];
  let now = 0;
  const progress = new Progress(4, { isTerminal: true, write: (t) => written.push(t) }, () => now);
  now = 500;
  progress.done(false);
  now = 1000;
  progress.done(true);
  now = 2000;
  progress.done(false);
  progress.done(false);
  progress.finish();
  assert.equal(written[0], "\r[######------------------] 1/4 files, 2.0 files/s, 0 errors\x1b[K");
  assert.equal(
    written.at(-2),
    "\r[########################] 4/4 files, 2.0 files/s, 1 error\x1b[K",
  );
  assert.equal(written.at(-1), "\n");
});

Deno.test("Progress redraws at most every 100 ms, but always the last file", () => {
  const written: string[] = [];
  const progress = new Progress(3, { isTerminal: true, write: (t) => written.push(t) }, () => 0);
  progress.done(false);
  progress.done(false);
  progress.done(false);
  assert.equal(written.length, 2);
  assert.match(written[1], /3\/3 files/);
});

Deno.test("Progress writes nothing when standard error is not a terminal", () => {
  const written: string[] = [];
  const progress = new Progress(2, { isTerminal: false, write: (t) => written.push(t) });
  progress.done(false);
  progress.done(true);
  progress.finish();
  assert.deepEqual(written, []);
  assert.equal(progress.drawing, false);
});
