/**
 * The progress line of multi-file scans: files done, files per second and errors, redrawn on
 * standard error when it is a terminal, and nothing at all when it is not.
 *
 * @module
 */

/** Where the progress line goes. */
export interface ProgressSink {
  /** Write text as is (carriage returns redraw the line). */
  write(text: string): void;
  /** True when the sink is a terminal; nothing is written otherwise. */
  readonly isTerminal: boolean;
}

/** The sink for standard error. */
export function stderrProgressSink(): ProgressSink {
  const encoder = new TextEncoder();
  return {
    isTerminal: Deno.stderr.isTerminal(),
    write: (text) => {
      Deno.stderr.writeSync(encoder.encode(text));
    },
  };
}

const WIDTH = 24;
const REDRAW_MS = 100;

/**
 * A progress bar over a known number of files.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Progress } from "./progress.ts";
 * const lines: string[] = [];
 * const progress = new Progress(2, { isTerminal: true, write: (t) => lines.push(t) }, () => 0);
 * progress.done(false);
 * progress.done(true);
 * progress.finish();
 * assert.match(lines.at(-2)!, /2\/2 files.*1 error/);
 * ```
 */
export class Progress {
  readonly #total: number;
  readonly #sink: ProgressSink;
  readonly #now: () => number;
  readonly #start: number;
  #done = 0;
  #errors = 0;
  #drawn = -Infinity;

  constructor(total: number, sink: ProgressSink, now: () => number = () => performance.now()) {
    this.#total = total;
    this.#sink = sink;
    this.#now = now;
    this.#start = now();
  }

  /** One file finished; `failed` when it could not be scanned or its response has errors. */
  done(failed: boolean): void {
    this.#done++;
    if (failed) this.#errors++;
    const now = this.#now();
    if (now - this.#drawn >= REDRAW_MS || this.#done === this.#total) {
      this.#drawn = now;
      this.#draw(now);
    }
  }

  /** True when a progress line is on screen (a message must start on a new line). */
  get drawing(): boolean {
    return this.#sink.isTerminal && this.#done > 0;
  }

  /** End the line (when anything was drawn). */
  finish(): void {
    if (this.#sink.isTerminal && this.#done > 0) this.#sink.write("\n");
  }

  #draw(now: number) {
    if (!this.#sink.isTerminal) return;
    const fraction = this.#total === 0 ? 1 : this.#done / this.#total;
    const filled = Math.round(fraction * WIDTH);
    const seconds = Math.max((now - this.#start) / 1000, 1e-3);
    const rate = this.#done / seconds;
    const errors = `${this.#errors} error${this.#errors === 1 ? "" : "s"}`;
    this.#sink.write(
      `\r[${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${this.#done}/${this.#total} files, ${
        rate.toFixed(1)
      } files/s, ${errors}\x1b[K`,
    );
  }
}
