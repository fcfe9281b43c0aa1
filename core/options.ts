/**
 * Plugin options: merging the manifest's `[options]`, the stoq.cfg section and `--plugin-opts`
 * (rising precedence), and coercing their text to what each plugin's zod schema expects, once, at
 * load.
 *
 * @module
 */
import { z } from "zod";
import { ConfigError } from "./errors.ts";

/** One option value and where it came from, for error messages. */
export interface RawOption {
  /** The value: text from a config file, or a value given in code. */
  readonly value: unknown;
  /** Where it was set, e.g. `"stoq.cfg" line 12` or `--plugin-opts`. */
  readonly origin: string;
  /**
   * Who set it: the plugin's own manifest, the operator's stoq.cfg, or the caller's code or command
   * line. Only the operator's values (config and code) can widen a plugin's permissions.
   */
  readonly source?: "manifest" | "config" | "code";
  /** The folder relative paths in this value are relative to (the manifest's or stoq.cfg's). */
  readonly baseDir?: string;
}

/** Option values by lower-cased name. */
export type RawOptions = Record<string, RawOption>;

/**
 * Options the core reads itself for every plugin; they never reach a plugin's schema.
 * `required_workers` is stoQ's; the others are stoq's.
 */
export const CORE_OPTION_KEYS: ReadonlySet<string> = new Set([
  "required_workers",
  "min_stoq_version",
  "max_stoq_version",
  "timeout",
  "max_tlp",
  "heartbeat_interval",
  "request_scope",
  "dispatch_once",
  "share_content",
  "isolation",
  "concurrency",
  "memory_limit",
  "allow_read",
  "allow_write",
  "allow_net",
  "allow_env",
  "allow_run",
  "allow_ffi",
  "allow_sys",
]);

/** Merge option layers; later layers win. Keys are lower-cased, as configparser does. */
export function mergeOptions(...layers: RawOptions[]): RawOptions {
  const out: RawOptions = {};
  for (const layer of layers) {
    for (const [key, option] of Object.entries(layer)) out[key.toLowerCase()] = option;
  }
  return out;
}

/**
 * Coerce and validate a plugin's options with its schema. Text values are converted to the type
 * the schema expects: `True`/`False`/`yes`/`no`/`on`/`off`/`1`/`0` to booleans, numbers, comma lists
 * (or a JSON array) to arrays, JSON to objects. Unknown options are an error.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { coerceOptions } from "./options.ts";
 * const schema = z.object({ recursive: z.boolean().default(false), names: z.array(z.string()).default([]) });
 * const options = coerceOptions("filedir", schema, {
 *   recursive: { value: "True", origin: "stoq.cfg line 3" },
 *   names: { value: "a, b", origin: "stoq.cfg line 4" },
 * });
 * console.assert(options.recursive === true && options.names.length === 2);
 * ```
 */
export function coerceOptions<Schema extends z.ZodType>(
  plugin: string,
  schema: Schema | undefined,
  raw: RawOptions,
): z.output<Schema> {
  const pluginRaw = Object.entries(raw).filter(([key]) => !CORE_OPTION_KEYS.has(key));
  if (!schema) {
    const [key, option] = pluginRaw[0] ?? [];
    if (key && option) {
      throw new ConfigError(
        `Unknown option "${key}" for plugin "${plugin}" (${option.origin}): the plugin takes no options`,
      );
    }
    return {} as z.output<Schema>;
  }
  const shape = objectShape(schema);
  const input: Record<string, unknown> = {};
  for (const [key, option] of pluginRaw) {
    if (shape && !(key in shape)) {
      const known = Object.keys(shape).map((k) => `"${k}"`).join(", ") || "none";
      throw new ConfigError(
        `Unknown option "${key}" for plugin "${plugin}" (${option.origin}): known options are ${known}`,
      );
    }
    input[key] = shape ? coerceValue(shape[key], option.value) : option.value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue.path.length > 0 ? String(issue.path[0]) : undefined;
    const where = key && raw[key] ? ` (${raw[key].origin})` : "";
    const got = key && raw[key] ? `, got ${JSON.stringify(raw[key].value)}` : "";
    const path = issue.path.map(String).join(".");
    throw new ConfigError(
      `Invalid option ${
        path ? `"${path}" ` : ""
      }for plugin "${plugin}"${where}: ${issue.message}${got}`,
    );
  }
  return parsed.data;
}

/** configparser's `getboolean` words. */
export function parseBoolean(text: string): boolean | undefined {
  const lower = text.trim().toLowerCase();
  if (["1", "yes", "true", "on"].includes(lower)) return true;
  if (["0", "no", "false", "off"].includes(lower)) return false;
  return undefined;
}

/** Split a comma list, trimming items and dropping empty ones (stoQ's `getlist`). */
export function splitList(text: string): string[] {
  return text.split(",").map((item) => item.trim()).filter((item) => item !== "");
}

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; element?: z.ZodType };

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let i = 0; i < 20; i++) {
    const def = defOf(current);
    if (
      def.innerType &&
      ["default", "optional", "nullable", "prefault", "catch", "readonly"].includes(def.type)
    ) {
      current = def.innerType;
    } else if (def.type === "pipe" && def.in) {
      current = def.in;
    } else {
      return current;
    }
  }
  return current;
}

function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const base = unwrap(schema);
  return base instanceof z.ZodObject ? base.shape as Record<string, z.ZodType> : undefined;
}

function coerceValue(schema: z.ZodType | undefined, value: unknown): unknown {
  if (schema === undefined || typeof value !== "string") return value;
  const base = unwrap(schema);
  const type = defOf(base).type;
  const text = value.trim();
  switch (type) {
    case "boolean":
      return parseBoolean(text) ?? value;
    case "number":
    case "int":
    case "bigint": {
      const n = Number(text);
      return text !== "" && Number.isFinite(n) ? n : value;
    }
    case "array":
    case "set":
    case "tuple": {
      const items = text.startsWith("[") ? tryJson(text) : splitList(text);
      if (!Array.isArray(items)) return value;
      const element = defOf(base).element;
      return items.map((item) => coerceValue(element, item));
    }
    case "object":
    case "record":
    case "map":
      return tryJson(text) ?? value;
    case "union":
    case "unknown":
    case "any":
      return text.startsWith("{") || text.startsWith("[") ? (tryJson(text) ?? value) : value;
    default:
      return value;
  }
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
