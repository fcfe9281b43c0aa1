/**
 * Coarse deadlines for plugin calls: one interval timer serves every call in flight, so starting and
 * finishing a call costs a map entry, not a timer of its own. A deadline fires up to one tick
 * (50 ms) late, which is nothing against timeouts counted in seconds.
 *
 * @module
 */

import { IdTable } from "../id_table.ts";

const TICK_MS = 50;

/** A set of deadlines checked on one shared tick. */
export class Deadlines {
  // Not a Map: see IdTable.
  readonly #entries = new IdTable<{ at: number; fire: () => void }>();
  readonly #tickMs: number;
  #next = 0;
  #timer?: ReturnType<typeof setInterval>;

  constructor(tickMs: number = TICK_MS) {
    this.#tickMs = tickMs;
  }

  /**
   * Call `fire` once `ms` milliseconds have passed, unless the returned function is called first.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Deadlines } from "./deadlines.ts";
   * const deadlines = new Deadlines(5);
   * let fired = false;
   * const cancel = deadlines.add(1_000, () => fired = true);
   * cancel();
   * await new Promise<void>((resolve) => deadlines.add(10, resolve));
   * assert.equal(fired, false);
   * ```
   */
  add(ms: number, fire: () => void): () => void {
    const id = ++this.#next;
    this.#entries.set(id, { at: performance.now() + ms, fire });
    // The timer keeps the process alive while a deadline is pending, as a timeout of its own would.
    this.#timer ??= setInterval(() => this.#tick(), this.#tickMs);
    return () => {
      this.#entries.take(id);
    };
  }

  #tick() {
    if (this.#entries.size === 0) {
      // Stopped on an empty tick rather than on every last cancel, so that calls one after another
      // do not start and stop a timer each.
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = performance.now();
    for (const [id, entry] of this.#entries.entries()) {
      if (entry.at > now) continue;
      this.#entries.take(id);
      entry.fire();
    }
  }
}

/** The deadlines of every plugin call in this process. */
export const callDeadlines: Deadlines = new Deadlines();
