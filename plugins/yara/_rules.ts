/**
 * Reading a YARA rule file for the engine: `include` statements are expanded here, relative to the
 * including file as libyara does, so every file is read through Deno (and its permissions) and a
 * compile error can name the file and line it comes from. The rules' `meta:` sections are parsed
 * too, because the binding reports boolean meta values (and strings that are not UTF-8) as
 * `"unknown"`.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import type { Engine, EngineRules } from "./_engine.ts";

/** A meta value as written in the rule source. */
export type MetaValue = string | number | boolean;

/** Compiled rules and the meta of each rule, from the source. */
export interface LoadedRules {
  /** The compiled rules. */
  rules: EngineRules;
  /** Meta entries by rule identifier, as written (the last of duplicate keys wins, as in YARA). */
  meta: Map<string, Record<string, MetaValue>>;
  /** The files read, the top file first. */
  files: string[];
  /** The source compiled: the top file with its includes expanded. */
  source: string;
}

interface Token {
  type: "ident" | "string" | "number" | "punct" | "regex";
  text: string;
  /** The decoded value of a string token. */
  value?: string;
  start: number;
  end: number;
}

interface Chunk {
  file: string;
  /** First line of the chunk in its file (1-based). */
  fileLine: number;
  /** First line of the chunk in the combined source (1-based). */
  line: number;
}

const MAX_INCLUDE_DEPTH = 16;

/**
 * Read a rule file with its includes, compile it, and parse its meta.
 *
 * @example
 * ```ts ignore
 * const { rules, meta } = loadRules(loadEngine(), "/path/rules/stoq.yar");
 * ```
 */
export function loadRules(engine: Engine, path: string): LoadedRules {
  const chunks: Chunk[] = [];
  const parts: string[] = [];
  const files: string[] = [];
  let line = 1;
  const push = (text: string, file: string, fileLine: number) => {
    if (text === "") return;
    chunks.push({ file, fileLine, line });
    parts.push(text);
    line += countLines(text);
  };
  const expand = (file: string, stack: string[]) => {
    if (stack.includes(file)) {
      throw new Error(`Cannot load YARA rules: circular include of "${file}" in "${stack.at(-1)}"`);
    }
    if (stack.length > MAX_INCLUDE_DEPTH) {
      throw new Error(`Cannot load YARA rules: includes nested too deep at "${file}"`);
    }
    let text: string;
    try {
      text = Deno.readTextFileSync(file);
    } catch (err) {
      const where = stack.length ? ` (included from "${stack.at(-1)}")` : "";
      throw new Error(
        `Cannot read YARA rules file "${file}"${where}: ${
          err instanceof Error ? err.message : err
        }`,
        { cause: err },
      );
    }
    files.push(file);
    let from = 0;
    for (const include of findIncludes(text)) {
      push(text.slice(from, include.start), file, lineAt(text, from));
      parts.push("\n");
      line += 1;
      expand(resolve(dirname(file), include.path), [...stack, file]);
      parts.push("\n");
      line += 1;
      from = include.end;
    }
    push(text.slice(from), file, lineAt(text, from));
  };
  expand(resolve(path), []);
  const source = parts.join("");
  let rules: EngineRules;
  try {
    rules = engine.compile(source);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`Cannot compile YARA rules "${files[0]}": ${describe(message, chunks)}`, {
      cause: err,
    });
  }
  return { rules, meta: parseMeta(source), files, source };
}

/**
 * Both rule sets compiled as one, so that one pass over a payload finds the matches of both, or
 * null when that could change a match: a `global` rule (it would gate the other set's rules too) or
 * a rule name in both sets (the engine has no namespaces to keep them apart; it refuses them).
 * The matches of one set are the same as when it is compiled alone: rules see only the rules of
 * their own file, and the engine reports matching rules in the order they are declared.
 */
export function combineRules(
  engine: Engine,
  first: LoadedRules,
  second: LoadedRules,
): EngineRules | null {
  const hasGlobal = (source: string) => {
    let depth = 0;
    for (const token of tokenize(source)) {
      if (token.type === "punct" && token.text === "{") depth++;
      else if (token.type === "punct" && token.text === "}") depth--;
      else if (depth === 0 && token.type === "ident" && token.text === "global") return true;
    }
    return false;
  };
  if (hasGlobal(first.source) || hasGlobal(second.source)) return null;
  for (const name of second.meta.keys()) if (first.meta.has(name)) return null;
  try {
    return engine.compile(`${first.source}\n${second.source}`);
  } catch {
    return null;
  }
}

/** `error[E009]: unknown identifier `x`` at `"file" line N`, from the engine's report. */
function describe(message: string, chunks: Chunk[]): string {
  const headline = message.split("\n").find((l) => /^error(\[\w+\])?:/.test(l.trim()))?.trim() ??
    message.split("\n")[0];
  const location = /-->\s*line:(\d+):(\d+)/.exec(message);
  if (!location) return headline;
  const combined = Number(location[1]);
  const chunk = chunks.findLast((c) => c.line <= combined);
  if (!chunk) return headline;
  return `"${chunk.file}" line ${chunk.fileLine + combined - chunk.line}: ${headline}`;
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

function lineAt(text: string, offset: number): number {
  return countLines(text.slice(0, offset)) + 1;
}

/** `include "path"` statements outside rules, comments and strings. */
function findIncludes(text: string): { path: string; start: number; end: number }[] {
  const tokens = tokenize(text);
  const out: { path: string; start: number; end: number }[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.type === "punct" && token.text === "{") depth++;
    else if (token.type === "punct" && token.text === "}") depth--;
    else if (depth === 0 && token.type === "ident" && token.text === "include") {
      const next = tokens[i + 1];
      if (next?.type === "string") {
        out.push({ path: next.value ?? "", start: token.start, end: next.end });
        i++;
      }
    }
  }
  return out;
}

/** Meta entries of every rule in a (combined) source. */
export function parseMeta(source: string): Map<string, Record<string, MetaValue>> {
  const tokens = tokenize(source);
  const out = new Map<string, Record<string, MetaValue>>();
  const isSection = (i: number, names: string[]) =>
    tokens[i]?.type === "ident" && names.includes(tokens[i].text) && tokens[i + 1]?.text === ":";
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i].type !== "ident" || tokens[i].text !== "rule") continue;
    const name = tokens[i + 1];
    if (name?.type !== "ident") continue;
    let j = i + 2;
    while (j < tokens.length && tokens[j].text !== "{") j++;
    j++;
    const meta: Record<string, MetaValue> = {};
    if (isSection(j, ["meta"])) {
      j += 2;
      while (j < tokens.length && !isSection(j, ["strings", "condition"])) {
        const key = tokens[j];
        if (key.type !== "ident" || tokens[j + 1]?.text !== "=") break;
        let value = tokens[j + 2];
        let negative = false;
        if (value?.text === "-") {
          negative = true;
          value = tokens[j + 3];
          j++;
        }
        if (!value) break;
        if (value.type === "string") meta[key.text] = value.value ?? "";
        else if (value.type === "number") {
          meta[key.text] = (negative ? -1 : 1) * Number(value.text);
        } else if (value.type === "ident" && (value.text === "true" || value.text === "false")) {
          meta[key.text] = value.text === "true";
        } else break;
        j += 3;
      }
    }
    out.set(name.text, meta);
    i = j - 1;
  }
  return out;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeString(body: string): string {
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "\\" && i + 1 < body.length) {
      const e = body[++i];
      if (e === "n") bytes.push(10);
      else if (e === "t") bytes.push(9);
      else if (e === "r") bytes.push(13);
      else if (e === "x" && /^[0-9a-fA-F]{2}$/.test(body.slice(i + 1, i + 3))) {
        bytes.push(parseInt(body.slice(i + 1, i + 3), 16));
        i += 2;
      } else bytes.push(...encoder.encode(e));
    } else {
      bytes.push(...encoder.encode(c));
    }
  }
  const array = new Uint8Array(bytes);
  try {
    return utf8.decode(array);
  } catch {
    return String.fromCharCode(...array);
  }
}

/** A YARA lexer good enough to find includes and meta: it skips comments, strings and regexps. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      i = end === -1 ? n : end;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end === -1 ? n : end + 2;
    } else if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"' && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
      tokens.push({
        type: "string",
        text: text.slice(i, j + 1),
        value: decodeString(text.slice(i + 1, j)),
        start: i,
        end: j + 1,
      });
      i = j + 1;
    } else if (c === "/" && startsRegex(tokens.at(-1))) {
      let j = i + 1;
      while (j < n && text[j] !== "/" && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
      while (j + 1 < n && /[a-z]/.test(text[j + 1])) j++;
      tokens.push({ type: "regex", text: text.slice(i, j + 1), start: i, end: j + 1 });
      i = j + 1;
    } else if (/[A-Za-z_$#@!]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_*]/.test(text[j])) j++;
      tokens.push({ type: "ident", text: text.slice(i, j), start: i, end: j });
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[0-9a-fA-FxXoO.]/.test(text[j])) j++;
      tokens.push({ type: "number", text: text.slice(i, j), start: i, end: j });
      i = j;
    } else if (/\s/.test(c)) {
      i++;
    } else {
      tokens.push({ type: "punct", text: c, start: i, end: i + 1 });
      i++;
    }
  }
  return tokens;
}

function startsRegex(previous: Token | undefined): boolean {
  return previous !== undefined &&
    ((previous.type === "punct" && previous.text === "=") ||
      (previous.type === "ident" && previous.text === "matches"));
}
