/**
 * Payload bytes in shared memory: a large payload is copied into a `SharedArrayBuffer` once, and
 * the sandboxed plugins its operator allows (`share_content = True`) see it without a copy of
 * their own. Everyone else still gets a private copy, so a plugin that is not trusted with shared
 * memory cannot change what the others see.
 *
 * @module
 */

/**
 * The default size from which a payload is shared with the plugins allowed to (64 KiB). Below it,
 * copying the bytes into each plugin costs less than a shared buffer of their own.
 */
export const DEFAULT_SHARE_THRESHOLD = 64 * 1024;

/** True when the bytes live in shared memory. */
export function isShared(bytes: Uint8Array): boolean {
  return typeof SharedArrayBuffer !== "undefined" && bytes.buffer instanceof SharedArrayBuffer;
}

/**
 * The bytes in shared memory: themselves if they already are, else a copy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isShared, toShared } from "./shared_bytes.ts";
 * const shared = toShared(new Uint8Array([1, 2, 3]));
 * assert.ok(isShared(shared));
 * assert.deepEqual([...shared], [1, 2, 3]);
 * ```
 */
export function toShared(bytes: Uint8Array): Uint8Array {
  if (isShared(bytes)) return bytes;
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  shared.set(bytes);
  return shared;
}

/**
 * Read a file, into shared memory when it is at least `threshold` bytes (so a large file is never
 * held twice: once as read, once as shared).
 */
export async function readFileMaybeShared(path: string, threshold: number): Promise<Uint8Array> {
  const file = await Deno.open(path);
  try {
    const { size } = await file.stat();
    if (threshold <= 0 || size < threshold) return await Deno.readFile(path);
    const out = new Uint8Array(new SharedArrayBuffer(size));
    let offset = 0;
    while (offset < size) {
      const n = await file.read(out.subarray(offset));
      if (n === null) break;
      offset += n;
    }
    return offset === size ? out : out.slice(0, offset);
  } finally {
    file.close();
  }
}
