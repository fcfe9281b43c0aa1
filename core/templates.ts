/**
 * Templates: a response as human-readable text (stoQ's `-T`), rendered with nunjucks, a
 * Jinja2-compatible engine. The JSON response itself is unchanged; connectors always get it.
 *
 * `renderResponse(json, name, plugins)` renders the top template `name`: a `.tpl`/`.html` file
 * path, or `templates/<name>.tpl` shipped with stoq (`text`, the default text layout). Inside it,
 * `plugin_template(plugin, results, payload)` renders that plugin's own `templates/<name>.tpl`
 * (beside its manifest) with `results` and `payload` in scope, or gives `null` when the plugin has
 * none. Output is HTML-escaped when the template's name ends in `.html` (or `.html.tpl`).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import nunjucks from "nunjucks";
import { StoqError } from "./errors.ts";
import type { StoqResponseJson } from "./schemas.ts";

/** The templates shipped with stoq. */
export const TEMPLATES_DIR: string = fileURLToPath(new URL("../templates", import.meta.url));

interface Env {
  render(name: string, context: Record<string, unknown>): string;
  addGlobal(name: string, value: unknown): Env;
  addFilter(name: string, filter: (...args: unknown[]) => unknown): Env;
}
type Nunjucks = {
  Environment: new (loader: unknown, options: Record<string, unknown>) => Env;
  FileSystemLoader: new (paths: string[], options?: Record<string, unknown>) => unknown;
  runtime: { markSafe(text: string): unknown };
};
const nj = nunjucks as unknown as Nunjucks;

/** A renderer for one template name, reused across responses. */
export class TemplateRenderer {
  /** The template's name as given. */
  readonly name: string;
  readonly #top: Env;
  readonly #topFile: string;
  readonly #autoescape: boolean;
  readonly #pluginDirs: ReadonlyMap<string, string>;
  readonly #pluginEnvs = new Map<string, Env | null>();

  /**
   * @param name A template file path, or the name of one shipped in `templates/`.
   * @param pluginDirs Each plugin's folder by name (where `templates/<name>.tpl` is looked for).
   *
   * @example
   * ```ts ignore
   * const renderer = new TemplateRenderer("text", new Map([["hash", "/stoq/plugins/hash"]]));
   * console.log(renderer.render(response.toJSON()));
   * ```
   */
  constructor(name: string, pluginDirs: ReadonlyMap<string, string>) {
    this.name = name;
    const asFile = resolve(name);
    const shipped = join(TEMPLATES_DIR, name.endsWith(".tpl") ? name : `${name}.tpl`);
    const file = /[/\\]/.test(name) || /\.(tpl|html?)$/.test(name) && existsSync(asFile)
      ? asFile
      : shipped;
    if (!existsSync(file)) {
      throw new StoqError(
        `No template "${name}": not a file, and not one of stoq's templates in ${TEMPLATES_DIR}`,
      );
    }
    this.#topFile = file;
    this.#autoescape = /\.html?(\.tpl)?$/i.test(file);
    // The per-plugin template name: `text` for `text`, `text.tpl` or `/path/to/text.tpl`.
    const stem = basename(file).replace(/\.tpl$/, "");
    this.#pluginDirs = pluginDirs;
    this.#top = this.#env(dirname(file));
    this.#top.addGlobal(
      "plugin_template",
      (plugin: string, results: unknown, payload: unknown) => {
        const env = this.#pluginEnv(plugin, stem);
        if (!env) return null;
        const text = env.render(`${stem}.tpl`, { plugin, results, payload });
        return nj.runtime.markSafe(text);
      },
    );
  }

  /** Render one response. Throws `StoqError` naming the template when it fails. */
  render(response: StoqResponseJson): string {
    try {
      return this.#top.render(basename(this.#topFile), { response, ...response });
    } catch (err) {
      throw new StoqError(
        `Template "${this.name}" failed: ${err instanceof Error ? err.message : err}`,
      );
    }
  }

  #env(dir: string): Env {
    const env = new nj.Environment(new nj.FileSystemLoader([dir]), {
      autoescape: this.#autoescape,
      trimBlocks: true,
      lstripBlocks: true,
    });
    env.addFilter(
      "json",
      (value: unknown, indent?: unknown) =>
        nj.runtime.markSafe(JSON.stringify(value, null, typeof indent === "number" ? indent : 0)),
    );
    return env;
  }

  #pluginEnv(plugin: string, stem: string): Env | null {
    if (this.#pluginEnvs.has(plugin)) return this.#pluginEnvs.get(plugin)!;
    const dir = this.#pluginDirs.get(plugin);
    const templates = dir ? join(dir, "templates") : undefined;
    const env = templates && existsSync(join(templates, `${stem}.tpl`))
      ? this.#env(templates)
      : null;
    this.#pluginEnvs.set(plugin, env);
    return env;
  }
}
