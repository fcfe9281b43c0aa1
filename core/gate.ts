/**
 * `Gate`: at most a given number of holders at once; the rest wait their turn in arrival order.
 *
 * The core lets `max_in_flight` requests be scanned at once. A request being scanned holds its
 * payloads, results, task sets, pending calls and the frames of the async functions that run it
 * (about 7 KB for a 1 KiB payload); a request waiting at the gate holds one callback. The young
 * collector copies what is alive when it runs, so thousands of requests scanned at once cost the
 * core's thread more in collection than they gain in overlap (see README "Benchmark").
 *
 * @module
 */

/** A counting gate with a FIFO of waiters. */
export class Gate {
  readonly #limit: number;
  #holders = 0;
  /** Waiters, oldest first from `#head` (a moving head: `shift()` copies a long array each time). */
  #waiters: (() => void)[] = [];
  #head = 0;
  /** Callers of `idle()` waiting for the last holder to leave. */
  #idle: (() => void)[] = [];

  /**
   * @param limit Holders at once; 0 or Infinity: no limit.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Gate } from "./gate.ts";
   * const gate = new Gate(1);
   * assert.equal(gate.enter(), undefined); // in at once
   * const waiting = gate.enter()!; // a promise: the gate is full
   * gate.leave(); // hands the place to the waiter
   * await waiting;
   * assert.equal(gate.waiting, 0);
   * gate.leave();
   * ```
   */
  constructor(limit: number) {
    this.#limit = limit > 0 ? limit : Infinity;
  }

  /** Holders now. */
  get holders(): number {
    return this.#holders;
  }

  /** Waiters now. */
  get waiting(): number {
    return this.#waiters.length - this.#head;
  }

  /**
   * Take a place: undefined when taken at once (no promise to wait for), else a promise that
   * resolves once the place is taken. Every `enter()` must be followed by one `leave()`.
   */
  enter(): Promise<void> | undefined {
    if (this.#holders < this.#limit) {
      this.#holders++;
      return undefined;
    }
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Give a place back; the oldest waiter, if any, takes it. */
  leave(): void {
    if (this.#head < this.#waiters.length) {
      const next = this.#waiters[this.#head];
      this.#waiters[this.#head++] = undefined!;
      if (this.#head === this.#waiters.length) {
        this.#waiters = [];
        this.#head = 0;
      } else if (this.#head >= 1024 && this.#head * 2 >= this.#waiters.length) {
        this.#waiters = this.#waiters.slice(this.#head);
        this.#head = 0;
      }
      // The place goes straight to the waiter: holders stays the same.
      next();
      return;
    }
    if (this.#holders === 0) throw new Error("Gate.leave() without enter()");
    this.#holders--;
    if (this.#holders === 0) { for (const resolve of this.#idle.splice(0)) resolve(); }
  }

  /** Resolves once no one holds a place and no one waits (at once if so already). */
  idle(): Promise<void> {
    if (this.#holders === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idle.push(resolve));
  }
}
