/**
 * Length-prefixed frames for the subprocess transport: 4 bytes of big-endian length, then the body.
 *
 * @module
 */

/** The largest frame accepted (1 GiB): a longer length means the stream is corrupt. */
export const MAX_FRAME = 1 << 30;

/** Prefix a body with its length. */
export function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.byteLength);
  new DataView(out.buffer).setUint32(0, body.byteLength);
  out.set(body, 4);
  return out;
}

/**
 * Collects chunks of a stream and gives back whole frame bodies.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameReader, frame } from "./frames.ts";
 * const bytes = frame(new Uint8Array([1, 2, 3]));
 * const reader = new FrameReader();
 * assert.deepEqual(reader.push(bytes.subarray(0, 2)), []);
 * assert.deepEqual(reader.push(bytes.subarray(2)), [new Uint8Array([1, 2, 3])]);
 * ```
 */
export class FrameReader {
  #chunks: Uint8Array[] = [];
  #length = 0;

  /** Add a chunk; returns the bodies it completes. Throws on a frame longer than `MAX_FRAME`. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.#chunks.push(chunk);
    this.#length += chunk.byteLength;
    const bodies: Uint8Array[] = [];
    while (this.#length >= 4) {
      const head = this.#peek(4);
      const size = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
      if (size > MAX_FRAME) throw new RangeError(`Corrupt stream: a frame of ${size} bytes`);
      if (this.#length < 4 + size) break;
      const all = this.#take(4 + size);
      bodies.push(all.subarray(4));
    }
    return bodies;
  }

  /** Bytes received that do not make a whole frame yet. */
  get pending(): number {
    return this.#length;
  }

  #peek(n: number): Uint8Array {
    if (this.#chunks[0].byteLength >= n) return this.#chunks[0].subarray(0, n);
    return this.#flatten().subarray(0, n);
  }

  #take(n: number): Uint8Array {
    const all = this.#chunks[0].byteLength >= n ? this.#chunks[0] : this.#flatten();
    const out = all.slice(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.byteLength > 0 ? [rest] : [];
    this.#length -= n;
    return out;
  }

  #flatten(): Uint8Array {
    const all = new Uint8Array(this.#length);
    let offset = 0;
    for (const chunk of this.#chunks) {
      all.set(chunk, offset);
      offset += chunk.byteLength;
    }
    this.#chunks = [all];
    return all;
  }
}
