/**
 * mimetype: the libmagic MIME type of a payload, as stoQ's public `mimetype` worker reports it
 * (`{mimetype}`), plus `format`, a normalized format id (`zip`, `pe`, `elf`, `text`, ...) that
 * extraction dispatching keys on because MIME strings differ between libmagic builds.
 *
 * libmagic runs as WebAssembly: Debian's libmagic 5.44 and magic database, built for WASI by
 * `libmagic/build.sh` (with two patches for speed that change no answer), so the answers are those
 * of Debian's `file` 5.44 on the same bytes.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { definePlugin } from "../../plugin_api.ts";
import { isPieElf } from "./_elf_pie.ts";
import { Libmagic } from "./_libmagic.ts";
import { formatOf } from "./format_of.ts";

export { type Format, formatOf, FORMATS } from "./format_of.ts";

/** The largest payload whose answer is remembered (64 KiB: SHA-256 of it costs 0.05 ms). */
const CACHE_MAX_BYTES = 64 * 1024;

/** The mimetype plugin. */
export default definePlugin({
  options: z.object({
    /** How many leading bytes libmagic sees (0: all of them). */
    max_bytes: z.number().int().min(0).default(1_048_576),
    /**
     * Remember the answers for this many distinct contents (by SHA-256 of the bytes libmagic
     * sees; 0: none). libmagic's answer depends on nothing else, and it takes a millisecond or
     * more for a text file: the same file in many packages is looked up, not re-read.
     */
    cache_size: z.number().int().min(0).default(4096),
  }),
  setup({ options }) {
    // The module and the database are imported as bytes: no permission needed.
    let magic = Libmagic.open();
    const cache = new Map<string, { mimetype: string; format: string }>();
    const detect = (content: Uint8Array) => {
      let mimetype: string;
      try {
        mimetype = magic.detect(content);
      } catch (error) {
        // A trap leaves libmagic's memory in an unknown state: the next payload gets a new one.
        if (error instanceof WebAssembly.RuntimeError) magic = Libmagic.open();
        throw error;
      }
      // A buffer gives libmagic no file descriptor, so it does not read the ELF dynamic section
      // that tells a PIE executable from a shared library; `file` can. Do what `file` does.
      if (mimetype === "application/x-sharedlib" && isPieElf(content)) {
        mimetype = "application/x-pie-executable";
      }
      return { mimetype, format: formatOf(mimetype, content) };
    };
    return {
      scan: function detectMimetype(payload) {
        const content = options.max_bytes > 0
          ? payload.content.subarray(0, options.max_bytes)
          : payload.content;
        // Hashing a large payload costs more than its repeats save: on the benchmark corpus, the
        // 1,139 payloads over 64 KiB took 228 ms to hash and their 91 repeats saved 128 ms.
        if (options.cache_size === 0 || content.byteLength > CACHE_MAX_BYTES) {
          return { results: detect(content) };
        }
        const key = createHash("sha256").update(content).digest("base64");
        let results = cache.get(key);
        if (results === undefined) {
          results = detect(content);
          cache.set(key, results);
          if (cache.size > options.cache_size) cache.delete(cache.keys().next().value!);
        } else {
          // Most recently used last: the first key is the one to forget.
          cache.delete(key);
          cache.set(key, results);
        }
        return { results: { ...results } };
      },
    };
  },
});
