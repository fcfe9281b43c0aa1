/**
 * A worker that misbehaves on purpose, as its `mode` option says, except on payloads whose content
 * is "ok", which it answers normally (to show the plugin works again after a failure).
 *
 * @module
 */
import { z } from "zod";
import { definePlugin } from "../../../../plugin_api.ts";

/** The misbehaving plugin. */
export default definePlugin({
  options: z.object({
    mode: z.enum(["ok", "throw", "hang", "spin", "exit", "close", "uncaught", "oom"]).default("ok"),
  }),
  setup({ options }) {
    let calls = 0;
    return {
      scan: async (payload) => {
        calls++;
        const text = new TextDecoder().decode(payload.content);
        if (text === "ok") return { results: { calls, pid: Deno.pid } };
        switch (options.mode) {
          case "throw":
            throw new TypeError("misbehave: thrown on purpose", { cause: new RangeError("inner") });
          case "hang":
            await new Promise(() => {});
            break;
          case "spin":
            for (;;) { /* a synchronous infinite loop */ }
          case "exit":
            Deno.exit(3);
            break;
          case "close":
            (self as unknown as { close(): void }).close();
            break;
          case "uncaught":
            setTimeout(() => {
              throw new Error("misbehave: uncaught on purpose");
            }, 0);
            await new Promise(() => {});
            break;
          case "oom": {
            const hoard: number[][] = [];
            for (;;) hoard.push(new Array(1_000_000).fill(Math.random()));
          }
        }
        return { results: { calls } };
      },
    };
  },
});
