/**
 * A test connector that batches writes: `save` buffers the response's scan id; `heartbeat` appends
 * the buffered ids to `<out_dir>/saved.txt`, one a line. `fail_heartbeat` makes it throw.
 *
 * @module
 */
import { definePlugin, z } from "../../../../plugin_api.ts";

export default definePlugin({
  options: z.object({
    out_dir: z.string(),
    fail_heartbeat: z.boolean().default(false),
  }),
  setup({ options }) {
    let buffer: string[] = [];
    return {
      save(response) {
        buffer.push(response.scanId);
      },
      async heartbeat() {
        if (options.fail_heartbeat) throw new Error("cannot flush");
        if (buffer.length === 0) return;
        const lines = buffer.join("\n") + "\n";
        buffer = [];
        await Deno.writeTextFile(`${options.out_dir}/saved.txt`, lines, { append: true });
      },
    };
  },
});
