/**
 * A table of values by numeric id, for long-lived tables that take and drop an entry per call
 * (calls in flight, deadlines).
 *
 * Why not a `Map`: in the V8 that Deno 2.9 ships, a `Map` or `Set` that has lived long enough to be
 * in the old generation keeps the young objects it held reachable for a while after `delete()`, so
 * every object graph that passed through it (a call's promise, its request, its payload) is copied
 * by the next young-generation collection and then promoted. Measured on scenario (a) of the
 * benchmark: 600 to 1,400 bytes per scan promoted, and the collector's pauses and helper threads grew
 * with it. A dictionary-mode object drops the value at `delete`.
 *
 * @module
 */

/** Values by numeric id. */
export class IdTable<V> {
  readonly #entries: Record<number, V> = Object.create(null);
  #size = 0;

  /**
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { IdTable } from "./id_table.ts";
   * const table = new IdTable<string>();
   * table.set(1, "a");
   * table.set(2, "b");
   * assert.equal(table.take(1), "a");
   * assert.equal(table.get(1), undefined);
   * assert.deepEqual([...table.entries()], [[2, "b"]]);
   * ```
   */
  constructor() {}

  /** How many entries there are. */
  get size(): number {
    return this.#size;
  }

  /** The value of `id`, or undefined. */
  get(id: number): V | undefined {
    return this.#entries[id];
  }

  /** Set the value of `id` (a value must not be undefined). */
  set(id: number, value: V): void {
    if (this.#entries[id] === undefined) this.#size++;
    this.#entries[id] = value;
  }

  /** Remove `id`; returns its value, or undefined if there was none. */
  take(id: number): V | undefined {
    const value = this.#entries[id];
    if (value === undefined) return undefined;
    delete this.#entries[id];
    this.#size--;
    return value;
  }

  /** The entries, in increasing id order (a snapshot: removing while iterating is safe). */
  *entries(): IterableIterator<[number, V]> {
    for (const key of Object.keys(this.#entries)) {
      const id = Number(key);
      const value = this.#entries[id];
      if (value !== undefined) yield [id, value];
    }
  }
}
