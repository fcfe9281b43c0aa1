/**
 * A reader for INI files in Python `configparser` syntax, as accepted by
 * `configparser.ConfigParser()` with default settings: used for `stoq.cfg` and
 * plugin `.stoq` manifests.
 *
 * Parsing follows configparser: `[section]` headers (case-sensitive names),
 * `=` or `:` delimiters (the first one wins), lower-cased keys, full-line `#`
 * and `;` comments (no inline comments), indented continuation lines, a
 * `[DEFAULT]` section inherited by every section, and strict duplicate checks.
 * Values are interpolated on read with configparser's `BasicInterpolation`
 * (`%(name)s` and `%%`), except that a bare `%` is kept literally.
 *
 * @module
 */

import { ConfigError } from "./errors.ts";

/** One option of a section, as written in the file. */
export interface IniOption {
  /** The raw value, before interpolation; `null` for a key without a value (`allowNoValue`). */
  readonly value: string | null;
  /** The 1-based line of the key. */
  readonly line: number;
}

/** One `[section]` of an INI file. */
export interface IniSection {
  /** The section name, as written between the brackets. */
  readonly name: string;
  /** The 1-based line of the section header; 0 for a `[DEFAULT]` that is not in the file. */
  readonly line: number;
  /** The section's own options, keyed by lower-cased name, in file order. */
  readonly options: Map<string, IniOption>;
}

/** Options of {@linkcode parseIni}. */
export interface ParseIniOptions {
  /** The path to name in error messages. */
  file?: string;
  /** Accept a key without a delimiter as an option whose value is `null` (configparser's `allow_no_value`). */
  allowNoValue?: boolean;
}

/** Options of {@linkcode readIniFile}. */
export interface ReadIniFileOptions {
  /** Accept a key without a delimiter as an option whose value is `null` (configparser's `allow_no_value`). */
  allowNoValue?: boolean;
}

/** The name of the section every other section inherits from, as in configparser. */
const DEFAULT_SECTION = "DEFAULT";

/** configparser's `MAX_INTERPOLATION_DEPTH`. */
const MAX_INTERPOLATION_DEPTH = 10;

/** The characters Python's `str.isspace()` accepts, which `str.strip()` and regex `\s` use. */
const SPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const LEADING_SPACE = new RegExp(`^[${SPACE}]+`);
const TRAILING_SPACE = new RegExp(`[${SPACE}]+$`);
/** configparser's `SECTCRE`, applied to a stripped line: the LAST `]` closes the name. */
const SECTION_HEADER = /^\[(.+)\]/s;
/** configparser's `_KEYCRE`. */
const REFERENCE = /^%\(([^)]+)\)s/;

/** A parsed INI file: its sections, its `[DEFAULT]` section, and interpolating accessors. */
export class IniFile {
  /** The path used in error messages, if known. */
  readonly file: string | undefined;
  /** The sections by (case-sensitive) name, in file order; `[DEFAULT]` is not in here. */
  readonly sections: Map<string, IniSection>;
  /** The `[DEFAULT]` section (empty if absent), inherited by every section. */
  readonly defaults: IniSection;

  /**
   * Wraps already parsed sections; use {@linkcode parseIni} or {@linkcode readIniFile} to get one.
   *
   * @param init The file name for messages, the sections, and the `[DEFAULT]` section.
   */
  constructor(
    init: { file?: string; sections: Map<string, IniSection>; defaults: IniSection },
  ) {
    this.file = init.file;
    this.sections = init.sections;
    this.defaults = init.defaults;
  }

  /**
   * Whether the file has a section of that (case-sensitive) name; false for `DEFAULT`, as in configparser.
   *
   * @param name The section name.
   */
  hasSection(name: string): boolean {
    return this.sections.has(name);
  }

  /** The section names in file order, excluding `DEFAULT`. */
  sectionNames(): string[] {
    return [...this.sections.keys()];
  }

  /**
   * The interpolated value of an option, or undefined when the section or option is absent.
   * Option lookup is case-insensitive and falls back to `[DEFAULT]`; `get("DEFAULT", ...)` reads
   * `[DEFAULT]` itself. A key without a value (`allowNoValue`) gives `null`.
   *
   * @param section The section name (case-sensitive).
   * @param option The option name (case-insensitive).
   * @throws {ConfigError} When interpolation refers to a missing option, has a malformed
   * `%(...)` reference, or nests more than 10 levels deep.
   */
  get(section: string, option: string): string | null | undefined {
    const key = option.toLowerCase();
    const own = this.#optionsOf(section);
    if (own === undefined) return undefined;
    const found = own.get(key) ?? this.defaults.options.get(key);
    if (found === undefined) return undefined;
    return this.#interpolate(section, key, found);
  }

  /**
   * Every option of a section with `[DEFAULT]` merged in, interpolated, with the line of its key,
   * sorted by line (file order). Empty when the section is absent.
   *
   * @param section The section name (case-sensitive).
   * @throws {ConfigError} When a value cannot be interpolated, as in {@linkcode IniFile.get}.
   */
  entries(section: string): Array<[key: string, value: string | null, line: number]> {
    const own = this.#optionsOf(section);
    if (own === undefined) return [];
    const merged = new Map(this.defaults.options);
    for (const [key, option] of own) merged.set(key, option);
    return [...merged]
      .sort(([, a], [, b]) => a.line - b.line)
      .map(([key, option]) => [key, this.#interpolate(section, key, option), option.line]);
  }

  /**
   * A comma-separated option as a list: split on `,`, items trimmed, empty items dropped.
   * Undefined when absent; an empty list for a key without a value.
   *
   * @param section The section name (case-sensitive).
   * @param option The option name (case-insensitive).
   * @throws {ConfigError} When the value cannot be interpolated, as in {@linkcode IniFile.get}.
   */
  getList(section: string, option: string): string[] | undefined {
    const value = this.get(section, option);
    if (value === undefined) return undefined;
    if (value === null) return [];
    return value.split(",").map((item) => item.trim()).filter((item) => item !== "");
  }

  /**
   * The "where" text for messages: `"<file>" line N`, or `line N` when the file is unknown.
   *
   * @param line The 1-based line.
   */
  where(line: number): string {
    return this.file === undefined ? `line ${line}` : `"${this.file}" line ${line}`;
  }

  #optionsOf(section: string): Map<string, IniOption> | undefined {
    if (section === DEFAULT_SECTION) return this.defaults.options;
    return this.sections.get(section)?.options;
  }

  #interpolate(section: string, key: string, option: IniOption): string | null {
    if (option.value === null) return null;
    const out: string[] = [];
    const top = { key, line: option.line };
    this.#expand(section, top, top, option.value, out, 1);
    return out.join("");
  }

  /** configparser's `BasicInterpolation._interpolate_some`, keeping a bare `%` literally. */
  #expand(
    section: string,
    top: { key: string; line: number },
    owner: { key: string; line: number },
    text: string,
    out: string[],
    depth: number,
  ): void {
    if (depth > MAX_INTERPOLATION_DEPTH) {
      throw new ConfigError(
        `Cannot interpolate ${this.where(top.line)}: option ${quote(top.key)} in section ` +
          `${quote(section)} nests references more than ${MAX_INTERPOLATION_DEPTH} levels deep ` +
          `(is there a reference loop?)`,
        { file: this.file, line: top.line },
      );
    }
    const error = (problem: string) => {
      const subject = owner === top
        ? `option ${quote(owner.key)} in section ${quote(section)}`
        : `option ${quote(owner.key)} (needed by option ${quote(top.key)} in section ` +
          `${quote(section)})`;
      return new ConfigError(
        `Cannot interpolate ${this.where(owner.line)}: ${subject} ${problem}`,
        { file: this.file, line: owner.line },
      );
    };
    let rest = text;
    while (rest !== "") {
      const at = rest.indexOf("%");
      if (at < 0) {
        out.push(rest);
        return;
      }
      out.push(rest.slice(0, at));
      rest = rest.slice(at);
      const next = rest[1];
      if (next === "%") {
        out.push("%");
        rest = rest.slice(2);
      } else if (next === "(") {
        const match = REFERENCE.exec(rest);
        if (match === null) {
          throw error(`has a bad reference, expected "%(name)s" or "%%", got ${quote(rest)}`);
        }
        rest = rest.slice(match[0].length);
        const name = match[1].toLowerCase();
        const target = this.#optionsOf(section)?.get(name) ?? this.defaults.options.get(name);
        if (target === undefined) throw error(`refers to missing option ${quote(name)}`);
        if (target.value === null) {
          throw error(`refers to option ${quote(name)}, which has no value`);
        }
        if (target.value.includes("%")) {
          this.#expand(
            section,
            top,
            { key: name, line: target.line },
            target.value,
            out,
            depth + 1,
          );
        } else out.push(target.value);
      } else {
        // Deliberately lenient: configparser raises InterpolationSyntaxError here.
        out.push("%");
        rest = rest.slice(1);
      }
    }
  }
}

/**
 * Parses INI text in Python `configparser` syntax (`ConfigParser()` with default settings).
 *
 * A UTF-8 BOM is skipped and CRLF, CR and LF line endings are accepted. Parsing stops at the
 * first problem, unlike configparser, which collects some of them.
 *
 * @example
 * ```ts
 * import { parseIni } from "./config.ts";
 * import assert from "node:assert/strict";
 *
 * const ini = parseIni(
 *   `[DEFAULT]
 * root = /srv/stoq
 *
 * [core]
 * Plugin_Dir = %(root)s/plugins
 * providers = dirmon, s3 ,
 * filter: {
 *     "size": 100
 *   }
 * `,
 *   { file: "stoq.cfg" },
 * );
 * assert.deepEqual(ini.sectionNames(), ["core"]);
 * assert.equal(ini.get("core", "plugin_dir"), "/srv/stoq/plugins");
 * assert.equal(ini.get("core", "ROOT"), "/srv/stoq");
 * assert.deepEqual(ini.getList("core", "providers"), ["dirmon", "s3"]);
 * assert.equal(ini.get("core", "filter"), '{\n"size": 100\n}');
 * assert.throws(() => parseIni("[core]\ngarbage", { file: "stoq.cfg" }), {
 *   name: "ConfigError",
 *   message: 'Cannot parse "stoq.cfg" line 2: expected "key = value", got "garbage"',
 * });
 * ```
 *
 * @param text The file's text.
 * @param options The file name for error messages, and whether keys without a value are allowed.
 * @returns The parsed file.
 * @throws {ConfigError} On a key outside any section, a line without a delimiter (unless
 * `allowNoValue`), an empty key, a duplicate section or option, or a continuation line of a key
 * without a value. The message and `.file`/`.line` name the place.
 */
export function parseIni(text: string, options: ParseIniOptions = {}): IniFile {
  const { file, allowNoValue = false } = options;
  const where = (line: number) => file === undefined ? `line ${line}` : `"${file}" line ${line}`;
  const error = (line: number, problem: string) =>
    new ConfigError(`Cannot parse ${where(line)}: ${problem}`, { file, line });

  type Pending = { parts: string[] | null; line: number };
  type PendingSection = { name: string; line: number; options: Map<string, Pending> };
  const pendingSections = new Map<string, PendingSection>();
  const pendingDefaults: PendingSection = { name: DEFAULT_SECTION, line: 0, options: new Map() };

  let current: PendingSection | undefined;
  let currentOption: { key: string; pending: Pending } | undefined;
  let indentLevel = 0;

  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/);
  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    const raw = lines[index];
    const value = strip(raw);
    if (value.startsWith("#") || value.startsWith(";")) continue;
    if (value === "") {
      // empty_lines_in_values: kept inside a value; trailing ones are dropped when joining.
      currentOption?.pending.parts?.push("");
      continue;
    }
    const indent = raw.length - raw.replace(LEADING_SPACE, "").length;
    if (current !== undefined && currentOption !== undefined && indent > indentLevel) {
      const { key, pending } = currentOption;
      if (pending.parts === null) {
        throw error(
          lineNo,
          `continuation line for option ${quote(key)}, which has no value, got ${quote(value)}`,
        );
      }
      pending.parts.push(value);
      continue;
    }
    indentLevel = indent;

    const header = SECTION_HEADER.exec(value);
    if (header !== null) {
      const name = header[1];
      if (name === DEFAULT_SECTION) {
        // Like configparser, [DEFAULT] may appear more than once; its options merge.
        if (pendingDefaults.line === 0) pendingDefaults.line = lineNo;
        current = pendingDefaults;
      } else {
        const previous = pendingSections.get(name);
        if (previous !== undefined) {
          throw error(
            lineNo,
            `duplicate section ${quote(name)}, first defined on line ${previous.line}`,
          );
        }
        current = { name, line: lineNo, options: new Map() };
        pendingSections.set(name, current);
      }
      currentOption = undefined;
      continue;
    }
    if (current === undefined) throw error(lineNo, `key outside any section, got ${quote(value)}`);

    const delimiter = value.search(/[=:]/);
    if (delimiter < 0 && !allowNoValue) {
      throw error(lineNo, `expected "key = value", got ${quote(value)}`);
    }
    const key = rstrip(delimiter < 0 ? value : value.slice(0, delimiter)).toLowerCase();
    if (key === "") throw error(lineNo, `expected "key = value", got ${quote(value)}`);
    const previous = current.options.get(key);
    if (previous !== undefined) {
      throw error(
        lineNo,
        `duplicate option ${quote(key)} in section ${quote(current.name)}, ` +
          `first defined on line ${previous.line}`,
      );
    }
    const pending: Pending = {
      parts: delimiter < 0 ? null : [strip(value.slice(delimiter + 1))],
      line: lineNo,
    };
    current.options.set(key, pending);
    currentOption = { key, pending };
  }

  const finish = ({ name, line, options }: PendingSection): IniSection => ({
    name,
    line,
    options: new Map(
      [...options].map(([key, { parts, line }]) => [
        key,
        { value: parts === null ? null : rstrip(parts.join("\n")), line },
      ]),
    ),
  });
  return new IniFile({
    file,
    sections: new Map([...pendingSections].map(([name, section]) => [name, finish(section)])),
    defaults: finish(pendingDefaults),
  });
}

/**
 * Reads and parses an INI file synchronously. The text must be UTF-8 (a BOM is skipped).
 *
 * @example
 * ```ts ignore
 * import { readIniFile } from "./config.ts";
 * const cfg = readIniFile("stoq.cfg");
 * const providers = cfg.getList("core", "providers") ?? [];
 * ```
 *
 * @param path The file to read; also the name used in error messages.
 * @param options Whether keys without a value are allowed.
 * @returns The parsed file.
 * @throws {ConfigError} When the file cannot be read (naming the path and the OS reason), is not
 * valid UTF-8, or cannot be parsed (see {@linkcode parseIni}).
 */
export function readIniFile(path: string, options: ReadIniFileOptions = {}): IniFile {
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(path);
  } catch (err) {
    throw new ConfigError(`Cannot read "${path}": ${osReason(err)}`, { file: path, cause: err });
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (err) {
    throw new ConfigError(`Cannot read "${path}": not valid UTF-8`, { file: path, cause: err });
  }
  return parseIni(text, { file: path, allowNoValue: options.allowNoValue });
}

/** Python's `str.strip()`. */
function strip(text: string): string {
  return rstrip(text.replace(LEADING_SPACE, ""));
}

/** Python's `str.rstrip()`. */
function rstrip(text: string): string {
  return text.replace(TRAILING_SPACE, "");
}

/** A value quoted for a message. */
function quote(text: string): string {
  return JSON.stringify(text);
}

/** The OS reason of a read failure, without Deno's `: readfile '<path>'` suffix. */
function osReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/: \w+ '.*'$/s, "");
}
