/**
 * Finds the payloads of a request with the same bytes as new content, for deduplication of
 * extracted payloads. Contents are compared by size first and hashed (SHA-256) only when sizes
 * collide, so a large initial payload is never hashed on the core's thread just in case.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Payload } from "./payload.ts";

/** An index of a request's payloads by content. */
export class ContentIndex {
  readonly #payloads: readonly Payload[];
  readonly #bySize = new Map<number, number[]>();
  readonly #hashes = new Map<number, string>();

  /**
   * Index the payloads there already are; `add()` each one appended later.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ContentIndex } from "./content_index.ts";
   * import { Payload } from "./payload.ts";
   * const payloads = [new Payload("abc"), new Payload("xyz")];
   * const index = new ContentIndex(payloads);
   * assert.deepEqual(index.find(new TextEncoder().encode("abc")), [0]);
   * assert.deepEqual(index.find(new TextEncoder().encode("abcd")), []);
   * ```
   */
  constructor(payloads: readonly Payload[]) {
    this.#payloads = payloads;
    for (let i = 0; i < payloads.length; i++) this.add(i);
  }

  /** Index the payload at `index`. */
  add(index: number): void {
    const size = this.#payloads[index].content.byteLength;
    const list = this.#bySize.get(size);
    if (list) list.push(index);
    else this.#bySize.set(size, [index]);
  }

  /** The indexes of the payloads whose content equals `content`. */
  find(content: Uint8Array): number[] {
    const same = this.#bySize.get(content.byteLength);
    if (!same) return [];
    const hash = sha256(content);
    return same.filter((index) => this.#hashOf(index) === hash);
  }

  #hashOf(index: number): string {
    let hash = this.#hashes.get(index);
    if (hash === undefined) {
      hash = sha256(this.#payloads[index].content);
      this.#hashes.set(index, hash);
    }
    return hash;
  }
}

function sha256(content: Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}
