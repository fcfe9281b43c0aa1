/**
 * `AsyncQueue`: a bounded FIFO queue for provider mode. `put()` waits while the queue is full (back
 * pressure on providers); `get()` waits while it is empty and returns `undefined` once the queue is
 * closed and drained.
 *
 * @module
 */

/** A bounded async FIFO queue. */
export class AsyncQueue<T> {
  readonly #max: number;
  readonly #items: T[] = [];
  readonly #getters: ((item: T | undefined) => void)[] = [];
  readonly #putters: (() => void)[] = [];
  #closed = false;

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncQueue } from "./async_queue.ts";
   * const queue = new AsyncQueue<number>(1);
   * await queue.put(1);
   * queue.close();
   * assert.equal(await queue.get(), 1);
   * assert.equal(await queue.get(), undefined);
   * ```
   */
  constructor(maxSize: number) {
    this.#max = Math.max(1, maxSize);
  }

  /** Items waiting. */
  get size(): number {
    return this.#items.length;
  }

  /** Add an item, waiting while the queue is full. Throws once the queue is closed. */
  async put(item: T): Promise<void> {
    while (this.#items.length >= this.#max && this.#getters.length === 0) {
      if (this.#closed) break;
      await new Promise<void>((resolve) => this.#putters.push(resolve));
    }
    if (this.#closed) throw new Error("The queue is closed");
    const getter = this.#getters.shift();
    if (getter) getter(item);
    else this.#items.push(item);
  }

  /** Take the next item, waiting while the queue is empty; `undefined` once closed and drained. */
  get(): Promise<T | undefined> {
    if (this.#items.length > 0) {
      const item = this.#items.shift() as T;
      this.#putters.shift()?.();
      return Promise.resolve(item);
    }
    if (this.#closed) return Promise.resolve(undefined);
    const item = new Promise<T | undefined>((resolve) => this.#getters.push(resolve));
    // A putter woken by an earlier get() may have handed its item to another getter; wake the next
    // one for this getter, or it would wait for a put that waits for a get.
    this.#putters.shift()?.();
    return item;
  }

  /** No more puts: waiting getters get `undefined` once the remaining items are taken. */
  close(): void {
    this.#closed = true;
    for (const getter of this.#getters.splice(0)) getter(undefined);
    for (const putter of this.#putters.splice(0)) putter();
  }
}
