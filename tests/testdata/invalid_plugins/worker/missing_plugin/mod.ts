/**
 * missing_plugin: a module with no definePlugin() default export.
 *
 * @module
 */

/** Not a plugin. */
export const notAPlugin = true;
