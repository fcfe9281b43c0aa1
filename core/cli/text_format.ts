/**
 * `formatText()`: a response as a readable tree: each payload with its type, size, sha256 and rule
 * hits, children indented under the payload they came from, then the errors.
 *
 * @module
 */
import type { PayloadResultsJson, StoqResponseJson } from "../schemas.ts";

/**
 * Render a response as a tree.
 *
 * @example
 * ```ts ignore
 * console.log(formatText(response.toJSON()));
 * ```
 */
export function formatText(response: StoqResponseJson): string {
  const lines: string[] = [];
  const byId = new Map(response.results.map((r) => [r.payload_id, r]));
  const children = new Map<string, PayloadResultsJson[]>();
  const roots: PayloadResultsJson[] = [];
  for (const result of response.results) {
    const parent = result.extracted_from.find((id) => byId.has(id) && id !== result.payload_id);
    if (parent) {
      const list = children.get(parent) ?? [];
      list.push(result);
      children.set(parent, list);
    } else {
      roots.push(result);
    }
  }
  const seen = new Set<string>();
  const walk = (result: PayloadResultsJson, prefix: string, last: boolean, depth: number) => {
    const branch = depth === 0 ? "" : last ? "└─ " : "├─ ";
    lines.push(prefix + branch + describe(result));
    if (seen.has(result.payload_id)) return;
    seen.add(result.payload_id);
    const kids = children.get(result.payload_id) ?? [];
    const next = depth === 0 ? "" : prefix + (last ? "   " : "│  ");
    kids.forEach((kid, i) => walk(kid, next, i === kids.length - 1, depth + 1));
  };
  for (const root of roots) walk(root, "", true, 0);
  if (response.errors.length > 0) {
    lines.push("", `errors (${response.errors.length}):`);
    for (const error of response.errors) {
      lines.push(`  - ${error.plugin_name ? `[${error.plugin_name}] ` : ""}${error.error}`);
    }
  }
  return lines.join("\n");
}

function describe(result: PayloadResultsJson): string {
  const workers = result.workers as Record<string, Record<string, unknown> | undefined>;
  const name = stringOf(result.payload_meta.extra_data.filename) ??
    `(${result.payload_id.slice(0, 8)})`;
  const type = stringOf(workers.mimetype?.mimetype) ?? "";
  const sha256 = stringOf(workers.hash?.sha256);
  const parts = [type, formatSize(result.size), sha256 ? `sha256 ${sha256}` : ""].filter(Boolean);
  const via = result.extracted_by.length > 0
    ? ` <- ${[...new Set(result.extracted_by)].join(", ")}`
    : "";
  let line = `${name}  (${parts.join(", ")})${via}`;
  const hits = hitsOf(workers);
  if (hits.length > 0) line += `  hits: ${hits.join(", ")}`;
  return line;
}

function hitsOf(workers: Record<string, Record<string, unknown> | undefined>): string[] {
  const hits: string[] = [];
  for (const [name, results] of Object.entries(workers)) {
    const matches = results?.matches;
    if (!Array.isArray(matches)) continue;
    for (const match of matches) {
      const rule = (match as Record<string, unknown>)?.rule;
      if (typeof rule === "string") hits.push(`${name}:${rule}`);
    }
  }
  return hits;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
