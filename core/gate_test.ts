import assert from "node:assert/strict";
import { Gate } from "./gate.ts";

Deno.test("Gate admits up to its limit and hands each place back to the oldest waiter", async () => {
  const gate = new Gate(2);
  assert.equal(gate.enter(), undefined);
  assert.equal(gate.enter(), undefined);
  const order: number[] = [];
  // More waiters than the queue's compaction threshold, so that its moving head is compacted.
  const waiters = Array.from({ length: 3000 }, (_, i) => gate.enter()!.then(() => order.push(i)));
  assert.equal(gate.holders, 2);
  assert.equal(gate.waiting, 3000);
  for (let i = 0; i < 3000; i++) {
    gate.leave();
    await waiters[i];
    assert.equal(gate.holders, 2);
  }
  assert.deepEqual(order, Array.from({ length: 3000 }, (_, i) => i));
  assert.equal(gate.waiting, 0);
  gate.leave();
  gate.leave();
  assert.equal(gate.holders, 0);
  assert.throws(() => gate.leave(), /without enter/);
  assert.equal(gate.enter(), undefined);
});

Deno.test("Gate with a limit of 0 admits everyone", () => {
  const gate = new Gate(0);
  for (let i = 0; i < 10_000; i++) assert.equal(gate.enter(), undefined);
  assert.equal(gate.holders, 10_000);
});

Deno.test("Gate.idle() resolves once the last holder leaves, waiters included", async () => {
  const gate = new Gate(1);
  await gate.idle(); // nobody: at once
  gate.enter();
  const waiter = gate.enter()!;
  let idle = false;
  const watching = gate.idle().then(() => idle = true);
  gate.leave(); // the waiter takes the place
  await waiter;
  await Promise.resolve();
  assert.equal(idle, false);
  gate.leave();
  await watching;
  assert.equal(idle, true);
});
