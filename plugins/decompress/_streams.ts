/**
 * Bounded decoders for the single-stream codecs (deflate, gzip, bzip2, xz). Each feeds its input
 * in small slices and pushes the output into a `Sink`, which throws `LimitExceeded` as soon as a
 * limit is passed, so a bomb is never inflated whole.
 *
 * @module
 */
import { gunzipSync, inflateRawSync } from "node:zlib";
import { Gunzip } from "fflate";
import Bunzip from "seek-bzip";
import xz from "xz-decompress";
import type { Sink } from "./_extraction.ts";

// Deflate's ratio tops out near 1032:1, so 8 KiB of input yields at most about 8 MiB of output.
const INFLATE_STEP = 8192;

/**
 * Inflate raw deflate data into the sink. zlib is told the most the sink accepts, so it never
 * allocates more than that. Throws on corrupt or truncated data.
 */
export function inflateRaw(data: Uint8Array, sink: Sink): void {
  const allowance = sink.allowance();
  sink.push(bounded(() => inflateRawSync(data, { maxOutputLength: allowance + 1 }), sink), true);
}

/**
 * Gunzip (all members) into the sink, like `inflateRaw`. On corrupt or truncated data it decodes
 * again with a streaming decoder to keep the output before the damage, then throws.
 */
export function gunzip(data: Uint8Array, sink: Sink): void {
  const allowance = sink.allowance();
  let output: Uint8Array;
  try {
    output = bounded(() => gunzipSync(data, { maxOutputLength: allowance + 1 }), sink);
  } catch (error) {
    if (!(error instanceof RangeError) && !sink.refused) {
      const gz = new Gunzip((chunk) => sink.push(chunk));
      for (let offset = 0; offset < data.length; offset += INFLATE_STEP) {
        const end = Math.min(offset + INFLATE_STEP, data.length);
        gz.push(data.subarray(offset, end), end === data.length);
      }
    }
    throw error;
  }
  sink.push(output, true);
}

function bounded(inflate: () => Uint8Array, sink: Sink): Uint8Array {
  try {
    return inflate();
  } catch (error) {
    if (error instanceof RangeError) sink.refuse(sink.allowance() + 1);
    throw error;
  }
}

/** Bunzip2 (all streams) into the sink. Throws on corrupt or truncated data. */
export function bunzip2(data: Uint8Array, sink: Sink): void {
  const buffer = new Uint8Array(65536);
  let used = 0;
  const output = {
    writeByte(byte: number) {
      buffer[used++] = byte;
      if (used === buffer.length) {
        sink.push(buffer);
        used = 0;
      }
    },
    write(bytes: Uint8Array, offset: number, length: number) {
      for (let i = 0; i < length; i++) this.writeByte(bytes[offset + i]);
      return length;
    },
    flush() {},
  };
  Bunzip.decode(data, output, true);
  if (used > 0) sink.push(buffer.subarray(0, used));
}

/** Un-xz into the sink, cancelling the decoder when the sink refuses. */
export async function unxz(data: Uint8Array, sink: Sink): Promise<void> {
  const input = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(data);
      controller.close();
    },
  });
  const reader = new xz.XzReadableStream(input).getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      // Each chunk is a new copy out of the decoder's memory.
      sink.push(value, true);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  }
}
