/**
 * stdout: print each response to standard output, as stoQ's JSON (indent 4), or one line per
 * response with `compactly = True`.
 *
 * @module
 */
import { z } from "zod";
import { definePlugin, dumps } from "../../plugin_api.ts";

const encoder = new TextEncoder();

/** The stdout plugin. */
export default definePlugin({
  options: z.object({ compactly: z.boolean().default(false) }),
  setup({ options }) {
    return {
      save: function printResponse(response) {
        const text = dumps(response, { indent: options.compactly ? 0 : 4 }) + "\n";
        const bytes = encoder.encode(text);
        let written = 0;
        while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
      },
    };
  },
});
