/**
 * `stoq install`: copy a plugin into a plugin directory, so that scans never fetch code.
 *
 * A local plugin (a folder, or its manifest) is copied, without its tests (`*_test.ts`). A remote plugin (the `https:` URL of its
 * manifest) is downloaded: its module, every module that imports by relative path under the
 * manifest's folder, and the data files its manifest lists in `[Install] Files`. An import of
 * stoq's plugin API (any URL ending in `/plugin_api.ts`) is pointed at this stoq's own; `npm:`
 * imports are kept and must be installed in stoq (`deno install`); any other remote import is
 * refused. The installed manifest records the source URL and each file's SHA-256.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type IniFile, parseIni } from "../config.ts";
import { StoqError } from "../errors.ts";
import { manifestAt, type PluginEntry, readManifest } from "../registry.ts";
import type { ParsedArgs } from "./args.ts";
import { UsageError } from "./args.ts";
import type { Output } from "./scan.ts";

const API_URL = new URL("../../plugin_api.ts", import.meta.url).href;
const MAX_FILES = 200;
const MAX_BYTES = 50 * 1024 * 1024;

/** Run `stoq install`; returns the exit code. */
export async function installCommand(args: ParsedArgs, output: Output): Promise<number> {
  const [source, ...rest] = args.positionals;
  if (!source || rest.length > 0) {
    throw new UsageError("install takes exactly one PLUGIN (a folder, manifest or URL)", "install");
  }
  const home = Deno.env.get("STOQ_HOME") ?? join(Deno.env.get("HOME") ?? ".", ".stoq");
  const installDir = resolve(args.values.installDir ?? join(home, "plugins"));
  const { loadCliConfig } = await import("./setup.ts");
  const installed = await installPlugin(source, installDir, {
    upgrade: args.flags.has("upgrade"),
    config: loadCliConfig(args).ini,
  });
  output.out(`Successfully installed ${source} into ${installed}`);
  return 0;
}

/** Options of `installPlugin()`. */
export interface InstallOptions {
  /** Replace an installed plugin of the same name. */
  upgrade?: boolean;
  /** Fetch remote files with this (default: `fetch`). */
  fetch?: typeof fetch;
  /**
   * Load the plugin in the sandbox before finishing (default true), with this stoq.cfg's grants
   * (`allow_*`, `isolation`) for it.
   */
  verify?: boolean;
  /** The operator's stoq.cfg, for the verification load. */
  config?: IniFile;
}

/**
 * Install a plugin from a folder, manifest path or URL into `installDir/<name>`; returns that
 * folder. Throws `StoqError` with a message naming what went wrong.
 *
 * @example
 * ```ts ignore
 * import { installPlugin } from "./install.ts";
 * const dir = await installPlugin("https://example.com/plugins/greet/greet.stoq", "/opt/stoq/plugins");
 * ```
 */
export async function installPlugin(
  source: string,
  installDir: string,
  options: InstallOptions = {},
): Promise<string> {
  if (/^(jsr|npm):/i.test(source)) {
    throw new StoqError(
      `Cannot install "${source}": give the https: URL of the plugin's .stoq manifest, or a folder (a jsr: or npm: plugin has no manifest to read)`,
    );
  }
  const remote = /^https?:\/\//i.test(source);
  const files = new Map<string, Uint8Array>();
  let name: string;
  if (remote) {
    name = await fetchRemote(new URL(source), files, options.fetch ?? fetch);
  } else {
    const entry = await manifestAt(source);
    name = entry.name;
    await copyLocal(entry, files);
  }
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith(".")) {
    throw new StoqError(`Cannot install "${source}": its name "${name}" is not a folder name`);
  }
  const target = join(installDir, name);
  await Deno.mkdir(installDir, { recursive: true });
  const upgrading = await exists(target);
  if (upgrading && !options.upgrade) {
    throw new StoqError(
      `Cannot install "${source}": ${target} already exists (use --upgrade to replace it)`,
    );
  }
  checkNpmImports(source, files);
  // Write into a temporary folder, load it from there, then rename: a failed install leaves
  // nothing half-written, and an upgrade that does not load leaves the old version in place.
  const staging = await Deno.makeTempDir({ dir: installDir, prefix: `.${name}-` });
  try {
    for (const [path, bytes] of files) {
      await Deno.mkdir(dirname(join(staging, path)), { recursive: true });
      await Deno.writeFile(join(staging, path), bytes);
    }
    if (options.verify !== false) await verifyLoad(source, staging, options.config);
    if (upgrading) await Deno.remove(target, { recursive: true });
    await Deno.rename(staging, target);
  } catch (err) {
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    throw err;
  }
  // Check what was written is a plugin stoq can discover.
  readManifest(join(target, `${name}.stoq`));
  return target;
}

const STOQ_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * Every `npm:` import and bare specifier of the plugin's modules must resolve from stoq's own
 * deno.json and deno.lock: scans run with `--cached-only`, so nothing is fetched then.
 */
function checkNpmImports(source: string, files: Map<string, Uint8Array>) {
  const config = JSON.parse(Deno.readTextFileSync(join(STOQ_ROOT, "deno.json")));
  const imports: Record<string, string> = config.imports ?? {};
  let locked: Set<string>;
  try {
    const lock = JSON.parse(Deno.readTextFileSync(join(STOQ_ROOT, "deno.lock")));
    locked = new Set(Object.keys(lock.npm ?? {}).map((key) => key.replace(/(.)@.*$/, "$1")));
  } catch {
    locked = new Set();
  }
  const missing: string[] = [];
  for (const [path, bytes] of files) {
    if (!/\.(ts|js|mjs)$/.test(path)) continue;
    rewriteImports(new TextDecoder().decode(bytes), new URL(`file:///${path}`), (specifier) => {
      if (specifier.startsWith("npm:")) {
        const pkg = specifier.slice(4).replace(/^(@[^/]+\/[^@/]+|[^@/]+).*$/, "$1");
        if (!locked.has(pkg)) missing.push(`"${specifier}" (${path})`);
      } else if (
        !/^(\.|\/|node:|file:|https?:)/.test(specifier) &&
        !(specifier in imports) &&
        !Object.keys(imports).some((key) => key.endsWith("/") && specifier.startsWith(key))
      ) {
        missing.push(`"${specifier}" (${path}), which is not in stoq's deno.json "imports"`);
      }
      return specifier;
    });
  }
  if (missing.length > 0) {
    const npm = missing.map((m) => /^"npm:([^"]+)"/.exec(m)?.[1]).filter(Boolean);
    throw new StoqError(
      `Cannot install "${source}": it imports ${missing.join(", ")}, which stoq does not have. ` +
        `Add ${npm.length > 0 ? npm.map((p) => `npm:${p}`).join(" ") : "the package"} to stoq ` +
        `(in ${STOQ_ROOT}: \`deno add ${
          npm.length > 0 ? npm.map((p) => `npm:${p}`).join(" ") : "npm:<package>"
        }\`, or \`deno install --entrypoint <the plugin's module>\` to pin what it imports), ` +
        `then install it again`,
    );
  }
}

/** Load the staged plugin in the sandbox, as a scan would, and stop it. */
async function verifyLoad(source: string, staging: string, config: IniFile | undefined) {
  const { Stoq } = await import("../stoq.ts");
  const stoq = await Stoq.create({
    baseDir: STOQ_ROOT,
    config: config ?? parseIni("", { file: "(none)" }),
    pluginDirList: [],
    logSinks: [],
    // Only the plugin being installed is loaded, whatever stoq.cfg's roles say.
    providers: [],
    sourceArchivers: [],
    destArchivers: [],
    connectors: [],
    dispatchers: [],
    deepDispatchers: [],
    decorators: [],
    alwaysDispatch: [],
  });
  try {
    await stoq.loadPlugin(staging);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new StoqError(
      `Cannot install "${source}": it does not load in the sandbox: ${message}` +
        (/npm:|node_modules|not a dependency|cached/i.test(message)
          ? " (an npm package it imports may be missing from stoq: add it with `deno add npm:<package>`)"
          : ""),
      { cause: err },
    );
  } finally {
    await stoq.close();
  }
}

async function copyLocal(entry: PluginEntry, files: Map<string, Uint8Array>) {
  const walk = async (dir: string) => {
    for await (const item of Deno.readDir(dir)) {
      const path = join(dir, item.name);
      if (item.isDirectory && item.name !== "node_modules" && !item.name.startsWith(".")) {
        await walk(path);
      } else if (item.isFile && !/_test\.(ts|js|mjs)$/.test(item.name)) {
        // Tests stay behind: they import stoq's own modules, which an installed plugin must not.
        const bytes = await Deno.readFile(path);
        files.set(
          relative(entry.dir, path),
          /\.(ts|js|mjs)$/.test(item.name) ? relinkLocal(bytes, path, entry.dir) : bytes,
        );
      }
      if (files.size > MAX_FILES) {
        throw new StoqError(`Cannot install "${entry.dir}": more than ${MAX_FILES} files`);
      }
    }
  };
  await walk(entry.dir);
  const manifest = relative(entry.dir, entry.manifest);
  if (manifest !== `${entry.name}.stoq`) {
    files.set(`${entry.name}.stoq`, files.get(manifest)!);
    files.delete(manifest);
  }
}

/**
 * A copied module's imports that leave the plugin's folder: stoq's plugin API is pointed at this
 * stoq's; anything else would not be there after the copy, so it is refused.
 */
function relinkLocal(bytes: Uint8Array, path: string, dir: string): Uint8Array {
  const url = new URL(`file://${path}`);
  const source = new TextDecoder().decode(bytes);
  const rewritten = rewriteImports(source, url, (specifier) => {
    if (!specifier.startsWith(".")) return specifier;
    const target = new URL(specifier, url).pathname;
    const rel = relative(dir, target);
    if (!rel.startsWith("..")) return specifier;
    if (target.endsWith("/plugin_api.ts")) return API_URL;
    throw new StoqError(
      `Cannot install "${dir}": ${path} imports "${specifier}", which is outside the plugin's folder`,
    );
  });
  return new TextEncoder().encode(rewritten);
}

async function fetchRemote(
  manifestUrl: URL,
  files: Map<string, Uint8Array>,
  fetcher: typeof fetch,
): Promise<string> {
  const base = new URL(".", manifestUrl);
  let total = 0;
  const get = async (url: URL): Promise<Uint8Array> => {
    const response = await fetcher(url);
    if (!response.ok) {
      await response.body?.cancel();
      throw new StoqError(`Cannot install: ${url} answered HTTP ${response.status}`);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    total += bytes.byteLength;
    if (total > MAX_BYTES || files.size > MAX_FILES) {
      throw new StoqError(
        `Cannot install ${manifestUrl}: more than ${MAX_FILES} files or ${MAX_BYTES} bytes`,
      );
    }
    return bytes;
  };
  const localPath = (url: URL): string => {
    if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) {
      throw new StoqError(
        `Cannot install ${manifestUrl}: ${url} is outside the plugin's folder (${base})`,
      );
    }
    const path = decodeURIComponent(url.pathname.slice(base.pathname.length));
    if (path === "" || path.split("/").some((part) => part === ".." || part === "")) {
      throw new StoqError(`Cannot install ${manifestUrl}: bad file path "${path}"`);
    }
    return path;
  };

  const manifestText = new TextDecoder().decode(await get(manifestUrl));
  const ini = parseIni(manifestText, { file: manifestUrl.href });
  const name = ini.get("Core", "Name")?.trim();
  const module = ini.get("Core", "Module")?.trim();
  if (!name || !module) {
    throw new StoqError(`Cannot install ${manifestUrl}: its [Core] needs Name and Module`);
  }
  const moduleUrl = new URL(/\.(ts|js|mjs)$/.test(module) ? module : `${module}.ts`, base);
  const hashes: string[] = [];
  const queue = [moduleUrl];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const url = queue.shift()!;
    if (seen.has(url.href)) continue;
    seen.add(url.href);
    const path = localPath(url);
    const source = new TextDecoder().decode(await get(url));
    const rewritten = rewriteImports(source, url, (specifier) => {
      if (specifier.startsWith("npm:") || specifier.startsWith("node:")) return specifier;
      const resolved = new URL(specifier, url);
      if (resolved.pathname.endsWith("/plugin_api.ts") && localPathOrNull(resolved) === null) {
        return API_URL;
      }
      if (/^[a-z][a-z0-9+.-]*:/i.test(specifier) && resolved.origin !== base.origin) {
        throw new StoqError(
          `Cannot install ${manifestUrl}: ${url} imports "${specifier}"; only relative imports, npm: packages and stoq's plugin_api.ts can be installed`,
        );
      }
      localPath(resolved);
      queue.push(resolved);
      return relativeSpecifier(url, resolved);
    });
    const bytes = new TextEncoder().encode(rewritten);
    files.set(path, bytes);
    hashes.push(`${path} ${sha256(bytes)}`);
  }
  for (const file of ini.getList("Install", "Files") ?? []) {
    const url = new URL(file, base);
    const bytes = await get(url);
    const path = localPath(url);
    files.set(path, bytes);
    hashes.push(`${path} ${sha256(bytes)}`);
  }
  const pinned = [
    manifestText.trimEnd(),
    "",
    "# Written by `stoq install`: where this plugin came from and what was installed.",
    "[Installed]",
    `Source = ${manifestUrl.href}`,
    `Date = ${new Date().toISOString()}`,
    "Sha256 =",
    ...hashes.map((line) => `    ${line}`),
    "",
  ].join("\n");
  files.set(`${name}.stoq`, new TextEncoder().encode(pinned));
  return name;

  function localPathOrNull(url: URL): string | null {
    try {
      return localPath(url);
    } catch {
      return null;
    }
  }
}

/** Replace the specifiers of static imports, re-exports and literal dynamic imports. */
function rewriteImports(
  source: string,
  url: URL,
  replace: (specifier: string) => string,
): string {
  const pattern =
    /(\bimport\s*(?:[\w*{}\s,$]+\s*from\s*)?|\bexport\s*[\w*{}\s,$]+\s*from\s*|\bimport\s*\(\s*)(["'])([^"'\n]+)\2/g;
  return source.replace(pattern, (_, head: string, quote: string, specifier: string) => {
    try {
      return `${head}${quote}${replace(specifier)}${quote}`;
    } catch (err) {
      if (err instanceof StoqError) throw err;
      throw new StoqError(`Cannot install: bad import "${specifier}" in ${url}`);
    }
  });
}

function relativeSpecifier(from: URL, to: URL): string {
  const path = relative(dirname(from.pathname), to.pathname);
  return path.startsWith(".") ? path : `./${path}`;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
