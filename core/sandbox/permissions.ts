/**
 * What a sandboxed plugin may do, computed by the core before the plugin's module is imported.
 *
 * A plugin gets a default by kind (its own folder to read, and the folders and hosts its operator
 * configured for archivers, connectors and providers). Anything else it asks for in its manifest's
 * `[Permissions]` must be granted by the operator with an `allow_<permission>` line in its stoq.cfg
 * section, or the plugin does not load. A plugin never grants itself anything: values it sets in
 * its own manifest count as its own request, not as configuration.
 *
 * @module
 */
import { isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, PermissionDeniedError } from "../errors.ts";
import type { RawOption, RawOptions } from "../options.ts";
import type { Kind } from "../plugin.ts";
import {
  PERMISSION_NAMES,
  type PermissionName,
  type PermissionNeed,
  type PluginEntry,
} from "../registry.ts";

/** One permission: `true` for all of it, or the paths, hosts or names granted (empty: none). */
export type Grant = true | string[];

/** What a sandboxed plugin may do. */
export type Permissions = Record<PermissionName, Grant>;

/** Nothing at all: what a sandboxed plugin gets when no permissions were computed for it. */
export const NO_PERMISSIONS: Readonly<Permissions> = Object.freeze({
  read: [],
  write: [],
  net: [],
  env: [],
  run: [],
  ffi: [],
  sys: [],
});

/** The permissions whose items are paths. */
const PATH_PERMISSIONS: ReadonlySet<PermissionName> = new Set(["read", "write", "ffi"]);

/**
 * What each kind may receive for values its operator configured (stoq.cfg or `--plugin-opts`).
 * `env`, `run`, `ffi` and `sys` appear nowhere: only an `allow_*` line grants them.
 */
const CONFIGURED_CAP: Record<Kind, readonly PermissionName[]> = {
  worker: ["read"],
  dispatcher: ["read"],
  decorator: ["read"],
  archiver: ["read", "write", "net"],
  connector: ["write", "net"],
  provider: ["read", "net"],
};

/** The folder npm packages are installed in (`${node_modules}` in a manifest). */
export const NODE_MODULES_DIR: string = fileURLToPath(
  new URL("../../node_modules", import.meta.url),
);

/**
 * What every sandboxed plugin may read besides its grants: the code it imports (the plugin API and
 * the core modules behind it, and npm packages). Deno checks a Worker's dynamic `import()` against
 * its read permission, so without these no plugin could load. None of it is secret.
 */
export const CODE_PATHS: readonly string[] = [
  fileURLToPath(new URL("../../plugin_api.ts", import.meta.url)),
  fileURLToPath(new URL("../../mod.ts", import.meta.url)),
  fileURLToPath(new URL("../", import.meta.url)),
  NODE_MODULES_DIR,
];

/** What `computePermissions()` needs to know. */
export interface PermissionInput {
  /** The plugin's manifest. */
  entry: PluginEntry;
  /** The merged options (manifest, stoq.cfg, code), with their sources. */
  options: RawOptions;
  /** The kinds the plugin is taken to implement (the manifest's `Kinds`; worker when absent). */
  kinds: readonly Kind[];
  /** Where `${node_modules}` points (default: stoq's own node_modules). */
  nodeModules?: string;
}

/** The result of `computePermissions()`. */
export interface PermissionPlan {
  /** What the plugin gets. */
  permissions: Permissions;
  /**
   * The options with every path that a `[Permissions]` line takes from them made absolute (relative
   * to the manifest's folder or to stoq.cfg's), so that what the plugin opens is what it was
   * granted.
   */
  options: RawOptions;
}

/**
 * Compute a plugin's permissions. Throws `PermissionDeniedError` naming the plugin, the permission
 * and the stoq.cfg line that would grant it, and `ConfigError` for a malformed `allow_*` line.
 *
 * @example
 * ```ts ignore
 * const { permissions } = computePermissions({ entry, options, kinds: ["worker"] });
 * // permissions.read: [entry.dir]; everything else: []
 * ```
 */
export function computePermissions(input: PermissionInput): PermissionPlan {
  const { entry, kinds } = input;
  const nodeModules = input.nodeModules ?? NODE_MODULES_DIR;
  const options: RawOptions = { ...input.options };
  const granted: Record<PermissionName, Set<string> | true> = {
    read: new Set(entry.dir ? [entry.dir] : []),
    write: new Set(),
    net: new Set(),
    env: new Set(),
    run: new Set(),
    ffi: new Set(),
    sys: new Set(),
  };
  const operator = operatorGrants(entry, options, nodeModules);
  for (const name of PERMISSION_NAMES) {
    const grant = operator[name];
    if (grant === true) granted[name] = true;
    else if (grant) { for (const item of grant.items) add(granted, name, item); }
  }
  const configurable = new Set(kinds.flatMap((kind) => CONFIGURED_CAP[kind]));

  for (const need of entry.needs) {
    for (const template of need.items) {
      for (const item of expand(template, need, entry, options, nodeModules)) {
        const { value, configured } = item;
        if (value === "") continue;
        const byKind = (need.permission === "read" &&
          ((entry.dir !== "" && within(value, entry.dir)) ||
            CODE_PATHS.some((code) => within(value, code)))) ||
          (configured && configurable.has(need.permission));
        if (byKind) {
          add(granted, need.permission, value);
          continue;
        }
        const grant = operator[need.permission];
        if (grant === true || grant?.items.some((g) => covers(need.permission, g, value))) continue;
        const suggestion = /^\$\{node_modules\}/i.test(template) ? template : value;
        throw denied(entry, kinds, need, value, suggestion, grant?.origin);
      }
    }
  }
  const permissions = {} as Permissions;
  for (const name of PERMISSION_NAMES) {
    const grant = granted[name];
    permissions[name] = grant === true ? true : [...grant].sort();
  }
  return { permissions, options };
}

/** The permissions in Deno's Worker form (`deno.permissions`). */
export function workerPermissions(permissions: Permissions): Deno.PermissionOptionsObject {
  const out: Record<string, boolean | string[]> = {};
  for (const name of PERMISSION_NAMES) {
    const grant = withCode(name, permissions[name]);
    out[name] = grant === true ? true : grant.length === 0 ? false : grant;
  }
  return { ...out, import: false } as Deno.PermissionOptionsObject;
}

/** The permissions as `deno run` flags, for a subprocess. */
export function permissionFlags(permissions: Permissions): string[] {
  const flags: string[] = [];
  for (const name of PERMISSION_NAMES) {
    const grant = withCode(name, permissions[name]);
    if (grant === true) flags.push(`--allow-${name}`);
    else if (grant.length > 0) flags.push(`--allow-${name}=${grant.join(",")}`);
  }
  return flags;
}

/** One line per granted permission, for `stoq list`; "none" when the plugin gets nothing. */
export function describePermissions(permissions: Permissions): string[] {
  const lines: string[] = [];
  for (const name of PERMISSION_NAMES) {
    const grant = permissions[name];
    if (grant === true) lines.push(`${name}: all`);
    else if (grant.length > 0) lines.push(`${name}: ${grant.join(", ")}`);
  }
  return lines.length > 0 ? lines : ["none"];
}

function withCode(name: PermissionName, grant: Grant): Grant {
  if (name !== "read" || grant === true) return grant;
  return [...new Set([...grant, ...CODE_PATHS])];
}

interface OperatorGrant {
  items: string[];
  origin: string;
}

function operatorGrants(
  entry: PluginEntry,
  options: RawOptions,
  nodeModules: string,
): Partial<Record<PermissionName, OperatorGrant | true>> {
  const out: Partial<Record<PermissionName, OperatorGrant | true>> = {};
  for (const name of PERMISSION_NAMES) {
    const option = options[`allow_${name}`];
    if (!option) continue;
    if (option.source === "manifest") {
      throw new PermissionDeniedError(
        entry.name,
        `Plugin "${entry.name}" grants itself ${name} access (${option.origin}): only the operator can, in stoq.cfg`,
      );
    }
    const items = listOf(option.value).map((item) =>
      item.replaceAll("${node_modules}", nodeModules)
    );
    if (items.length === 1 && /^(true|yes|on|all|\*)$/i.test(items[0])) {
      out[name] = true;
      continue;
    }
    if (items.length === 1 && /^(false|no|off|none)$/i.test(items[0])) continue;
    for (const item of items) {
      if (item.includes("${")) {
        throw new ConfigError(
          `Invalid option "allow_${name}" for plugin "${entry.name}" (${option.origin}): only \${node_modules} can be used in it, got "${item}"`,
        );
      }
    }
    out[name] = {
      items: PATH_PERMISSIONS.has(name) ? items.map((item) => absolute(item, option)) : items,
      origin: option.origin,
    };
  }
  return out;
}

interface Expanded {
  value: string;
  /** True when every option the value came from was set by the operator. */
  configured: boolean;
}

/** Expand `${option}` and `${node_modules}` in one item of a `[Permissions]` line. */
function expand(
  template: string,
  need: PermissionNeed,
  entry: PluginEntry,
  options: RawOptions,
  nodeModules: string,
): Expanded[] {
  const refs = [...template.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1].toLowerCase());
  const optionRefs = refs.filter((ref) => ref !== "node_modules");
  const literal = template.replaceAll(/\$\{node_modules\}/gi, nodeModules);
  if (optionRefs.length === 0) {
    const value = PATH_PERMISSIONS.has(need.permission)
      ? (isAbsolute(literal) ? literal : resolve(entry.dir || ".", literal))
      : hostOf(need.permission, literal);
    return [{ value, configured: false }];
  }
  if (optionRefs.length === 1 && template === `\${${optionRefs[0]}}`) {
    // A whole-value reference: the option may be a list, and paths in it are made absolute in the
    // options the plugin receives.
    const key = optionRefs[0];
    const option = options[key];
    if (!option || option.value === "" || option.value == null) return [];
    const items = listOf(option.value);
    const configured = option.source === "config" || option.source === "code";
    if (PATH_PERMISSIONS.has(need.permission)) {
      const paths = items.map((item) => absolute(item, option));
      options[key] = { ...option, value: Array.isArray(option.value) ? paths : paths.join(",") };
      return paths.map((value) => ({ value, configured }));
    }
    return items.map((item) => ({ value: hostOf(need.permission, item), configured }));
  }
  let configured = true;
  let missing = false;
  const value = literal.replaceAll(/\$\{([A-Za-z0-9_]+)\}/g, (_, ref: string) => {
    const option = options[ref.toLowerCase()];
    if (!option || option.value === "" || option.value == null) {
      missing = true;
      return "";
    }
    if (option.source !== "config" && option.source !== "code") configured = false;
    return String(option.value);
  });
  if (missing) return [];
  return [{
    value: PATH_PERMISSIONS.has(need.permission)
      ? (isAbsolute(value) ? value : resolve(entry.dir || ".", value))
      : hostOf(need.permission, value),
    configured,
  }];
}

/** `net` items: a URL becomes its host (and port); anything else is kept. */
function hostOf(permission: PermissionName, value: string): string {
  if (permission !== "net") return value;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    try {
      return new URL(value).host;
    } catch { /* keep it as written */ }
  }
  return value;
}

function absolute(path: string, option: RawOption): string {
  if (isAbsolute(path)) return resolve(path);
  return resolve(option.baseDir ?? Deno.cwd(), path);
}

function listOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String).map((v) => v.trim()).filter(Boolean);
  return String(value ?? "").split(",").map((v) => v.trim()).filter(Boolean);
}

function within(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

function covers(permission: PermissionName, grant: string, value: string): boolean {
  if (PATH_PERMISSIONS.has(permission)) return within(value, grant);
  if (permission === "net") {
    // A grant without a port covers every port of that host, as Deno's --allow-net does.
    return grant === value || (!grant.includes(":") && value.split(":")[0] === grant);
  }
  return grant === value;
}

function add(granted: Record<PermissionName, Set<string> | true>, name: PermissionName, v: string) {
  const set = granted[name];
  if (set === true) return;
  if (v.includes(",")) {
    throw new ConfigError(`Cannot grant ${name} access to "${v}": a comma cannot be granted`);
  }
  set.add(v);
}

function denied(
  entry: PluginEntry,
  kinds: readonly Kind[],
  need: PermissionNeed,
  value: string,
  suggestion: string,
  grantOrigin: string | undefined,
): PermissionDeniedError {
  const what = kinds.length === 1 ? `a ${kinds[0]} plugin` : `a ${kinds.join("/")} plugin`;
  const tail = grantOrigin
    ? ` (the "allow_${need.permission}" at ${grantOrigin} does not cover it)`
    : "";
  return new PermissionDeniedError(
    entry.name,
    `Plugin "${entry.name}" needs ${need.permission} access to "${value}" (${need.origin}), which ${what} does not get by default${tail}: grant it in stoq.cfg with "[${entry.name}] allow_${need.permission} = ${suggestion}"`,
  );
}
