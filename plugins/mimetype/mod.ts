/**
 * mimetype: the libmagic MIME type of a payload, as stoQ's public `mimetype` worker reports it
 * (`{mimetype}`), plus `format`, a normalized format id (`zip`, `pe`, `elf`, `text`, ...) that
 * extraction dispatching keys on because MIME strings differ between libmagic builds.
 *
 * libmagic runs as WebAssembly (npm `wasmagic`, libmagic with its compiled magic database).
 *
 * @module
 */
import { WASMagic } from "wasmagic";
import { z } from "zod";
import { definePlugin } from "../../plugin_api.ts";
import { isPieElf } from "./_elf_pie.ts";
import { formatOf } from "./format_of.ts";

export { type Format, formatOf, FORMATS } from "./format_of.ts";

/** The mimetype plugin. */
export default definePlugin({
  options: z.object({
    /** How many leading bytes libmagic sees (0: all of them). */
    max_bytes: z.number().int().min(0).default(1_048_576),
  }),
  async setup({ options }) {
    // Reads its .wasm from node_modules/wasmagic once, here; the sandbox lets every plugin read
    // the npm packages it imports.
    const magic = await WASMagic.create();
    return {
      scan: function detectMimetype(payload) {
        const content = options.max_bytes > 0
          ? payload.content.subarray(0, options.max_bytes)
          : payload.content;
        let mimetype = magic.detect(content);
        // A buffer gives libmagic no file descriptor, so it cannot read the ELF dynamic section
        // that tells a PIE executable from a shared library; `file` can. Do what `file` does.
        if (mimetype === "application/x-sharedlib" && isPieElf(content)) {
          mimetype = "application/x-pie-executable";
        }
        return { results: { mimetype, format: formatOf(mimetype, content) } };
      },
    };
  },
});
