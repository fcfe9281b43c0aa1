/**
 * Plugin discovery: `.stoq` manifests found under the plugin directories (the last directory
 * wins), or read from a path or URL. Discovery never imports a module.
 *
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type IniFile, parseIni, readIniFile } from "./config.ts";
import { ConfigError, PluginNotFoundError } from "./errors.ts";
import type { Logger } from "./log.ts";
import type { RawOptions } from "./options.ts";
import { type Kind, KINDS } from "./plugin.ts";

/** What a manifest's `[Documentation]` says. */
export interface PluginDoc {
  /** `Author`, or "". */
  readonly author: string;
  /** `Version`, or "". */
  readonly version: string;
  /** `Website`, or "". */
  readonly website: string;
  /** `Description`, or "". */
  readonly description: string;
}

/** A discovered plugin: its manifest, not yet loaded. */
export interface PluginEntry {
  /** `[Core] Name`. */
  readonly name: string;
  /** Where the manifest is (a path, or a URL for a remote plugin). */
  readonly manifest: string;
  /** The plugin folder as a path ("" for a remote plugin). */
  readonly dir: string;
  /** The module's URL. */
  readonly moduleUrl: string;
  /** `[Documentation]`. */
  readonly doc: PluginDoc;
  /** `[Core] Kinds`, when the manifest declares them. */
  readonly kinds?: readonly Kind[];
  /** `[options]`, with the line each was set on. */
  readonly options: RawOptions;
  /** `[Permissions]`: what the plugin says it needs, before any grant. */
  readonly needs: readonly PermissionNeed[];
}

/** One line of a manifest's `[Permissions]`. */
export interface PermissionNeed {
  /** The permission, e.g. `read` or `net`. */
  readonly permission: PermissionName;
  /** Its items as written, e.g. `${archive_dir}` or `rules/`. */
  readonly items: readonly string[];
  /** Where it was asked, e.g. `"plugins/yara/yara.stoq" line 14`. */
  readonly origin: string;
}

/** The permissions a sandboxed plugin can be given, as Deno names them. */
export const PERMISSION_NAMES = ["read", "write", "net", "env", "run", "ffi", "sys"] as const;
/** A permission a sandboxed plugin can be given. */
export type PermissionName = typeof PERMISSION_NAMES[number];

const MODULE_EXTENSIONS = [".ts", ".js", ".mjs"];

/**
 * Read a plugin manifest (`.stoq`) from a file. Throws `ConfigError` naming the file and line when
 * it cannot be used.
 *
 * @example
 * ```ts ignore
 * import { readManifest } from "./registry.ts";
 * const entry = readManifest("plugins/hash/hash.stoq");
 * console.log(entry.name, entry.moduleUrl);
 * ```
 */
export function readManifest(path: string): PluginEntry {
  const file = resolve(path);
  const ini = readIniFile(file);
  return entryFromIni(ini, file, { dir: dirname(file), base: pathToFileURL(file) });
}

/** Read a manifest from a URL (`file:` or `https:`). */
export async function fetchManifest(url: URL): Promise<PluginEntry> {
  if (url.protocol === "file:") return readManifest(fileURLToPath(url));
  const response = await fetch(url);
  if (!response.ok) {
    await response.body?.cancel();
    throw new ConfigError(`Cannot read manifest "${url}": HTTP ${response.status}`);
  }
  const ini = parseIni(await response.text(), { file: url.href });
  return entryFromIni(ini, url.href, { dir: "", base: url });
}

function entryFromIni(
  ini: IniFile,
  where: string,
  location: { dir: string; base: URL },
): PluginEntry {
  const core = ini.sections.get("Core");
  const need = (key: string) => {
    const value = ini.get("Core", key);
    if (!value) {
      throw new ConfigError(
        `Invalid plugin manifest "${where}": [Core] has no "${key}"`,
        { file: where, line: core?.line },
      );
    }
    return value.trim();
  };
  const name = need("Name");
  const module = need("Module");
  const moduleUrl = resolveModule(module, location.base, location.dir, where);
  const doc = (key: string) =>
    (ini.hasSection("Documentation") ? ini.get("Documentation", key) : "") ?? "";
  const kindsText = ini.getList("Core", "Kinds");
  let kinds: Kind[] | undefined;
  if (kindsText) {
    kinds = [];
    for (const kind of kindsText.map((k) => k.toLowerCase())) {
      if (!(KINDS as readonly string[]).includes(kind)) {
        const line = core?.options.get("kinds")?.line;
        throw new ConfigError(
          `Invalid plugin manifest "${where}"${
            line ? ` line ${line}` : ""
          }: unknown kind "${kind}" (known: ${KINDS.join(", ")})`,
          { file: where, line },
        );
      }
      kinds.push(kind as Kind);
    }
  }
  const options: RawOptions = {};
  if (ini.hasSection("options")) {
    for (const [key, value, line] of ini.entries("options")) {
      options[key] = {
        value: value ?? "",
        origin: `"${where}" line ${line}`,
        source: "manifest",
        baseDir: location.dir || undefined,
      };
    }
  }
  const needs: PermissionNeed[] = [];
  if (ini.hasSection("Permissions")) {
    for (const [key, value, line] of ini.entries("Permissions")) {
      if (!(PERMISSION_NAMES as readonly string[]).includes(key)) {
        throw new ConfigError(
          `Invalid plugin manifest "${where}" line ${line}: unknown permission "${key}" (known: ${
            PERMISSION_NAMES.join(", ")
          })`,
          { file: where, line },
        );
      }
      const items = (value ?? "").split(",").map((item) => item.trim()).filter(Boolean);
      needs.push({
        permission: key as PermissionName,
        items,
        origin: `"${where}" line ${line}`,
      });
    }
  }
  return {
    name,
    manifest: where,
    dir: location.dir,
    moduleUrl,
    doc: {
      author: doc("Author"),
      version: doc("Version"),
      website: doc("Website"),
      description: doc("Description"),
    },
    kinds,
    options,
    needs,
  };
}

function resolveModule(module: string, base: URL, dir: string, where: string): string {
  const hasExtension = MODULE_EXTENSIONS.some((ext) => module.endsWith(ext));
  if (/^[a-z][a-z0-9+.-]*:/i.test(module)) return module;
  const candidates = hasExtension ? [module] : MODULE_EXTENSIONS.map((ext) => module + ext);
  if (dir === "") return new URL(candidates[0], base).href;
  for (const candidate of candidates) {
    const path = isAbsolute(candidate) ? candidate : join(dir, candidate);
    try {
      if (Deno.statSync(path).isFile) return pathToFileURL(path).href;
    } catch { /* try the next one */ }
  }
  throw new ConfigError(
    `Invalid plugin manifest "${where}": module "${module}" not found (looked for ${
      candidates.map((c) => `"${join(dir, c)}"`).join(", ")
    })`,
    { file: where },
  );
}

/**
 * Find every plugin under the given directories, recursively. A later directory's plugin replaces
 * an earlier one of the same name. Invalid manifests and missing directories are logged and skipped.
 */
export function discoverPlugins(dirs: readonly string[], log: Logger): Map<string, PluginEntry> {
  const found = new Map<string, PluginEntry>();
  for (const raw of dirs) {
    const dir = resolve(raw.trim());
    let isDir = false;
    try {
      isDir = Deno.statSync(dir).isDirectory;
    } catch { /* reported below */ }
    if (!isDir) {
      log.warning(`Plugin directory "${dir}" is not a directory, skipping it`);
      continue;
    }
    for (const manifest of findManifests(dir)) {
      try {
        const entry = readManifest(manifest);
        found.set(entry.name, entry);
      } catch (err) {
        log.warning(err instanceof Error ? err.message : String(err));
      }
    }
  }
  return found;
}

function findManifests(dir: string): string[] {
  const out: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return out;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isFile && entry.name.endsWith(".stoq")) out.push(path);
    else if (entry.isDirectory && !entry.name.startsWith(".") && entry.name !== "node_modules") {
      out.push(...findManifests(path));
    }
  }
  return out;
}

/** True when a plugin reference is a path or URL rather than a plain name. */
export function isPluginLocation(reference: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(reference) || reference.includes("/") ||
    reference.endsWith(".stoq") || reference.startsWith(".");
}

/** Read the manifest a path (a `.stoq` file or a folder holding one) or URL points at. */
export async function manifestAt(reference: string): Promise<PluginEntry> {
  if (/^(https?|jsr|npm):/i.test(reference)) {
    throw new PluginNotFoundError(
      `The plugin "${reference}" is remote: install it first with \`stoq install ${reference}\` (stoq never fetches plugin code at scan time)`,
    );
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(reference)) return await fetchManifest(new URL(reference));
  const path = resolve(reference);
  let stat: Deno.FileInfo;
  try {
    stat = Deno.statSync(path);
  } catch {
    throw new PluginNotFoundError(
      `The plugin "${reference}" does not exist: no such file or folder`,
    );
  }
  if (stat.isFile) return readManifest(path);
  const manifests = [...Deno.readDirSync(path)].filter((e) => e.isFile && e.name.endsWith(".stoq"));
  if (manifests.length !== 1) {
    throw new PluginNotFoundError(
      `The plugin folder "${reference}" must hold exactly one .stoq manifest, it holds ${manifests.length}`,
    );
  }
  return readManifest(join(path, manifests[0].name));
}
