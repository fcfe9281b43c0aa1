import assert from "node:assert/strict";
import { AsyncQueue } from "./async_queue.ts";

/** Track whether a promise has settled, without awaiting it. */
function track<T>(promise: Promise<T>) {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

/** Let every pending promise callback run (one macrotask; no time is measured). */
function drain(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

Deno.test("AsyncQueue.get() returns items in the order they were put", async () => {
  const queue = new AsyncQueue<number>(3);
  await queue.put(1);
  await queue.put(2);
  await queue.put(3);
  assert.equal(queue.size, 3);
  assert.deepEqual([await queue.get(), await queue.get(), await queue.get()], [1, 2, 3]);
  assert.equal(queue.size, 0);
});

Deno.test("AsyncQueue.put() waits while the queue is full", async () => {
  const queue = new AsyncQueue<string>(1);
  await queue.put("a");
  const second = track(queue.put("b"));
  await drain();
  assert.equal(second.settled, false);
  assert.equal(queue.size, 1);
  assert.equal(await queue.get(), "a");
  await drain();
  assert.equal(second.settled, true);
  assert.equal(second.error, undefined);
  assert.equal(await queue.get(), "b");
});

Deno.test("AsyncQueue.get() waits while the queue is empty", async () => {
  const queue = new AsyncQueue<number>(2);
  const next = track(queue.get());
  await drain();
  assert.equal(next.settled, false);
  await queue.put(7);
  await drain();
  assert.deepEqual(next, { settled: true, value: 7 });
  assert.equal(queue.size, 0);
});

Deno.test("AsyncQueue.get() serves waiting getters in the order they asked", async () => {
  const queue = new AsyncQueue<string>(1);
  const first = queue.get();
  const second = queue.get();
  await queue.put("a");
  await queue.put("b");
  assert.deepEqual(await Promise.all([first, second]), ["a", "b"]);
});

Deno.test("AsyncQueue.put() does not strand a waiting putter when a getter arrives on an empty queue", async () => {
  const queue = new AsyncQueue<number>(1);
  await queue.put(1);
  const two = track(queue.put(2));
  const three = track(queue.put(3));
  // The first get() wakes the put(2); the second get() waits on an empty queue before put(2) runs.
  const got = [queue.get(), queue.get()];
  assert.deepEqual(await Promise.all(got), [1, 2]);
  await drain();
  assert.equal(two.settled, true);
  assert.equal(three.settled, true, "put(3) still waits although the queue has room");
  assert.equal(await queue.get(), 3);
});

Deno.test("AsyncQueue() treats a maximum size below 1 as 1", async () => {
  const queue = new AsyncQueue<number>(0);
  await queue.put(1);
  const second = track(queue.put(2));
  await drain();
  assert.equal(second.settled, false);
  assert.equal(await queue.get(), 1);
  assert.equal(await queue.get(), 2);
});

Deno.test("AsyncQueue.close() lets getters drain the queue, then gives undefined", async () => {
  const queue = new AsyncQueue<number>(2);
  await queue.put(1);
  await queue.put(2);
  queue.close();
  assert.equal(await queue.get(), 1);
  assert.equal(await queue.get(), 2);
  assert.equal(await queue.get(), undefined);
  assert.equal(await queue.get(), undefined);
});

Deno.test("AsyncQueue.close() wakes blocked getters with undefined", async () => {
  const queue = new AsyncQueue<number>(1);
  const first = track(queue.get());
  const second = track(queue.get());
  await drain();
  assert.equal(first.settled, false);
  queue.close();
  await drain();
  assert.deepEqual(first, { settled: true, value: undefined });
  assert.deepEqual(second, { settled: true, value: undefined });
});

Deno.test("AsyncQueue.close() wakes blocked putters with an error and keeps the queued items", async () => {
  const queue = new AsyncQueue<number>(1);
  await queue.put(1);
  const blocked = track(queue.put(2));
  await drain();
  assert.equal(blocked.settled, false);
  queue.close();
  await drain();
  assert.equal(blocked.settled, true);
  assert.ok(blocked.error instanceof Error);
  assert.match(blocked.error.message, /closed/);
  assert.equal(await queue.get(), 1);
  assert.equal(await queue.get(), undefined);
});

Deno.test("AsyncQueue.put() throws once the queue is closed", async () => {
  const queue = new AsyncQueue<number>(1);
  queue.close();
  await assert.rejects(queue.put(1), /The queue is closed/);
  assert.equal(queue.size, 0);
});

Deno.test("AsyncQueue delivers every item exactly once to many consumers under back pressure", async () => {
  const queue = new AsyncQueue<number>(2);
  const received: number[] = [];
  const consumers = Array.from({ length: 3 }, async () => {
    for (let item = await queue.get(); item !== undefined; item = await queue.get()) {
      received.push(item);
      if (item % 3 === 0) await drain();
    }
  });
  const producers = [0, 1, 2].map(async (p) => {
    for (let i = 0; i < 20; i++) await queue.put(p * 100 + i);
  });
  await Promise.all(producers);
  queue.close();
  await Promise.all(consumers);
  const expected = [0, 1, 2].flatMap((p) => Array.from({ length: 20 }, (_, i) => p * 100 + i));
  assert.deepEqual(received.toSorted((a, b) => a - b), expected);
});
