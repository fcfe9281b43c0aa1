/**
 * throws_at_import: a module that throws at its top level, before `definePlugin` runs.
 *
 * @module
 */
import { definePlugin } from "../../../../plugin_api.ts";

throw new Error("Exploded at import");

/** Never reached. */
export default definePlugin({ setup: () => ({ scan: () => {} }) });
