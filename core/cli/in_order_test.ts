import assert from "node:assert/strict";
import { inOrder } from "./in_order.ts";

/** Work that ends when the test says so, recording what runs at once. */
function controlled(sizes: Record<string, number>) {
  const running = new Set<string>();
  const started: string[] = [];
  const peaks = { count: 0, bytes: 0 };
  const finish = new Map<string, (outcome: string | Error) => void>();
  const work = (item: string) => {
    running.add(item);
    started.push(item);
    peaks.count = Math.max(peaks.count, running.size);
    let bytes = 0;
    for (const name of running) bytes += sizes[name];
    if (running.size > 1) peaks.bytes = Math.max(peaks.bytes, bytes);
    return new Promise<string>((resolve, reject) => {
      finish.set(item, (outcome) => {
        running.delete(item);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      });
    });
  };
  return { running, started, peaks, finish, work };
}

/** Let pending promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("inOrder() hands results on in the items' order, errors included, whatever order they end in", async () => {
  const sizes = { a: 1, b: 1, c: 1, d: 1 };
  const run = controlled(sizes);
  const seen: string[] = [];
  const whole = inOrder(Object.keys(sizes), {
    limit: 4,
    budget: 100,
    sizeOf: (item) => sizes[item as keyof typeof sizes],
    work: run.work,
    done: (item, result) =>
      seen.push(`${item}=${result instanceof Error ? `error ${result.message}` : result}`),
  });
  await settle();
  assert.deepEqual(run.started, ["a", "b", "c", "d"]);
  run.finish.get("d")!("D");
  run.finish.get("b")!(new Error("broken"));
  await settle();
  assert.deepEqual(seen, []);
  run.finish.get("a")!("A");
  await settle();
  assert.deepEqual(seen, ["a=A", "b=error broken"]);
  run.finish.get("c")!("C");
  await whole;
  assert.deepEqual(seen, ["a=A", "b=error broken", "c=C", "d=D"]);
});

Deno.test("inOrder() runs at most `limit` items at once", async () => {
  const items = Array.from({ length: 10 }, (_, i) => `f${i}`);
  const sizes = Object.fromEntries(items.map((item) => [item, 1]));
  const run = controlled(sizes);
  const whole = inOrder(items, {
    limit: 3,
    budget: 1000,
    sizeOf: () => 1,
    work: run.work,
    done: () => {},
  });
  for (let round = 0; round < 10; round++) {
    await settle();
    const first = [...run.running][0];
    if (first) run.finish.get(first)!("ok");
  }
  await whole;
  assert.equal(run.started.length, 10);
  assert.equal(run.peaks.count, 3);
});

Deno.test("inOrder() keeps the sizes in flight within the budget, a larger item alone, in order", async () => {
  const sizes = { small1: 100, small2: 100, large: 300, small3: 50, small4: 50 };
  const run = controlled(sizes);
  const seen: string[] = [];
  const whole = inOrder(Object.keys(sizes), {
    limit: 10,
    budget: 250,
    sizeOf: (item) => sizes[item as keyof typeof sizes],
    work: run.work,
    done: (item) => seen.push(item),
  });
  await settle();
  // 100 + 100 fit; the large item waits for the others to end, and the items after it wait too.
  assert.deepEqual(run.started, ["small1", "small2"]);
  run.finish.get("small1")!("ok");
  await settle();
  assert.deepEqual(run.started, ["small1", "small2"]);
  run.finish.get("small2")!("ok");
  await settle();
  assert.deepEqual(run.started, ["small1", "small2", "large"]);
  run.finish.get("large")!("ok");
  await settle();
  assert.deepEqual(run.started, ["small1", "small2", "large", "small3", "small4"]);
  run.finish.get("small4")!("ok");
  run.finish.get("small3")!("ok");
  await whole;
  assert.deepEqual(seen, Object.keys(sizes));
  assert.equal(run.peaks.bytes, 200);
});

Deno.test("inOrder() counts an item whose size cannot be read as 0 and reports the work's error", async () => {
  const seen: string[] = [];
  await inOrder(["gone", "here"], {
    limit: 1,
    budget: 10,
    sizeOf: (item) => {
      if (item === "gone") throw new Deno.errors.NotFound("no such file");
      return 5;
    },
    work: (item) =>
      item === "gone" ? Promise.reject(new Error(`Cannot read "${item}"`)) : Promise.resolve(item),
    done: (item, result) =>
      seen.push(`${item}: ${result instanceof Error ? result.message : result}`),
  });
  assert.deepEqual(seen, ['gone: Cannot read "gone"', "here: here"]);
});

Deno.test("inOrder() starts nothing more after `done` throws, and rejects with that error once the started items end", async () => {
  const sizes = { a: 1, b: 1, c: 1, d: 1 };
  const run = controlled(sizes);
  const whole = inOrder(Object.keys(sizes), {
    limit: 2,
    budget: 100,
    sizeOf: () => 1,
    work: run.work,
    done: (item) => {
      if (item === "a") throw new Deno.errors.BrokenPipe("Broken pipe (os error 32)");
    },
  });
  await settle();
  assert.deepEqual(run.started, ["a", "b"]);
  run.finish.get("a")!("A");
  await settle();
  assert.deepEqual(run.started, ["a", "b"]);
  let settled = false;
  whole.catch(() => {}).finally(() => settled = true);
  await settle();
  assert.equal(settled, false);
  run.finish.get("b")!("B");
  await assert.rejects(whole, Deno.errors.BrokenPipe);
  assert.deepEqual(run.started, ["a", "b"]);
});

Deno.test("inOrder() holds at most `window` items started and not handed on, behind a slow one", async () => {
  const items = Array.from({ length: 12 }, (_, i) => `f${i}`);
  const run = controlled(Object.fromEntries(items.map((item) => [item, 1])));
  const seen: string[] = [];
  const whole = inOrder(items, {
    limit: 2,
    budget: 100,
    window: 4,
    sizeOf: () => 1,
    work: run.work,
    done: (item) => seen.push(item),
  });
  // f0 stays slow; the others end as soon as they start.
  for (let round = 0; round < 10; round++) {
    await settle();
    for (const item of [...run.running]) if (item !== "f0") run.finish.get(item)!("ok");
  }
  // f0 and the three after it: their results wait for f0's, and nothing more starts.
  assert.deepEqual(run.started, ["f0", "f1", "f2", "f3"]);
  assert.deepEqual(seen, []);
  run.finish.get("f0")!("ok");
  await settle();
  assert.deepEqual(seen, ["f0", "f1", "f2", "f3"]);
  for (let round = 0; round < 10; round++) {
    await settle();
    for (const item of [...run.running]) run.finish.get(item)!("ok");
  }
  await whole;
  assert.deepEqual(seen, items);
  assert.equal(run.peaks.count, 2);
});
