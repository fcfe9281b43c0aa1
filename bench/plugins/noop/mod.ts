/**
 * A worker that does nothing, so that a benchmark measures the cost of calling a plugin.
 *
 * @module
 */
import { definePlugin } from "../../../plugin_api.ts";

/** The noop plugin. */
export default definePlugin({ setup: () => ({ scan: () => ({ results: { ok: true } }) }) });
