import { definePlugin } from "../../../../plugin_api.ts";

export default definePlugin({
  setup() {
    return {
      save(response) {
        if (response.requestMeta.extraData.n === 1) throw new Error("disk full");
        const g = globalThis as { __flakySaved?: unknown[] };
        (g.__flakySaved ??= []).push(response.requestMeta.extraData);
      },
    };
  },
});
