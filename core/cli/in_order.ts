/**
 * Work on many items at once, within a count and a byte budget, and hand the results on in the
 * items' order: how `stoq scan` scans a folder.
 *
 * @module
 */

/** Limits and callbacks of `inOrder`. */
export interface InOrderOptions<T, R> {
  /** Items worked on at once, at most (at least 1). */
  limit: number;
  /**
   * Their sizes together, at most (bytes): an item that would go past it waits until the items
   * before it are done; an item alone may be larger.
   */
  budget: number;
  /**
   * Items started and not yet handed to `done`, at most (at least `limit`; no bound by default):
   * behind a slow item, the results of those after it wait in memory, and this bounds them.
   */
  window?: number;
  /** An item's size (bytes), asked for just before it starts; a failure counts as 0. */
  sizeOf(item: T): number | Promise<number>;
  /** The work. A thrown error becomes that item's result. */
  work(item: T): Promise<R>;
  /**
   * Called once per item, in the items' order, as soon as the item and all before it are done. An
   * error it throws stops the rest: `inOrder` rejects with it once the items started have ended.
   */
  done(item: T, result: R | Error): void;
}

/**
 * Run `work` on `items`, at most `limit` at once and their sizes within `budget`, starting them in
 * order and handing each result to `done` in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inOrder } from "./in_order.ts";
 * const seen: string[] = [];
 * await inOrder(["a", "bb", "c"], {
 *   limit: 2,
 *   budget: 2,
 *   sizeOf: (item) => item.length,
 *   work: (item) => Promise.resolve(item.toUpperCase()),
 *   done: (_item, result) => seen.push(String(result)),
 * });
 * assert.deepEqual(seen, ["A", "BB", "C"]);
 * ```
 */
export async function inOrder<T, R>(items: T[], options: InOrderOptions<T, R>): Promise<void> {
  const limit = Math.max(1, options.limit);
  const window = Math.max(limit, options.window ?? Infinity);
  const results = new Map<number, R | Error>();
  let nextToEmit = 0;
  let running = 0;
  let bytes = 0;
  let wake: (() => void) | undefined;
  const flush = () => {
    while (results.has(nextToEmit)) {
      const result = results.get(nextToEmit)!;
      results.delete(nextToEmit);
      options.done(items[nextToEmit++], result);
    }
  };
  // The first error `done` throws (a closed standard output): no item starts after it, and it is
  // thrown once the items already started have ended.
  let failure: { error: unknown } | undefined;
  // Only the items under way: a folder of a million files holds no promise per file.
  const tasks = new Set<Promise<void>>();
  for (let index = 0; index < items.length && !failure; index++) {
    const item = items[index];
    let size = 0;
    try {
      size = Math.max(0, (await options.sizeOf(item)) || 0);
    } catch {
      // The work meets the same problem and reports it as the item's result.
    }
    // Items start in order: a large one waits for room, and those after it wait behind it; and
    // none starts while `window` items are under way or done and waiting for an earlier one.
    while (
      !failure && running > 0 &&
      (running >= limit || bytes + size > options.budget || index - nextToEmit >= window)
    ) {
      await new Promise<void>((resolve) => wake = resolve);
    }
    if (failure) break;
    running++;
    bytes += size;
    const task: Promise<void> = (async () => {
      let result: R | Error;
      try {
        result = await options.work(item);
      } catch (err) {
        result = err instanceof Error ? err : new Error(String(err));
      }
      running--;
      bytes -= size;
      results.set(index, result);
      try {
        if (!failure) flush();
      } catch (error) {
        failure = { error };
      }
      const resume = wake;
      wake = undefined;
      resume?.();
    })();
    tasks.add(task);
    task.then(() => tasks.delete(task));
  }
  await Promise.all(tasks);
  if (failure) throw failure.error;
  flush();
}
