/**
 * held_worker: each scan waits until the test lets it go; the test sees which payloads are being
 * scanned at any moment. In-process only (the test and the plugin share `held`).
 *
 * @module
 */
import { definePlugin } from "../../../../plugin_api.ts";

/** A scan being held: its payload's text, and how to let it go. */
export interface Held {
  text: string;
  release: () => void;
}

/** The scans being held now, oldest first. */
export const held: Held[] = [];

/** The held_worker test plugin. */
export default definePlugin({
  setup() {
    const decoder = new TextDecoder();
    return {
      scan: async function holdScan(payload) {
        const text = decoder.decode(payload.content);
        await new Promise<void>((release) => held.push({ text, release }));
        const at = held.findIndex((h) => h.text === text);
        if (at >= 0) held.splice(at, 1);
        return { results: { text } };
      },
    };
  },
});
