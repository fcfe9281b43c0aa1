/**
 * yara: scan payloads with YARA rules (YARA-X, through the `@litko/yara-x` Node-API binding), as a
 * worker (report matches, like stoQ's `yarascan`) and as a dispatcher (route a payload to the
 * plugins a matching rule names in `meta.plugin`).
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import { definePlugin, type Payload } from "../../plugin_api.ts";
import { type EngineRuleMatch, loadEngine } from "./_engine.ts";
import { combineRules, type LoadedRules, loadRules, type MetaValue } from "./_rules.ts";
import { xorInfo } from "./_xor.ts";

/** One rule match, in stoQ's shape: `strings` is `[offset, identifier, bytes]` triples. */
export interface YaraMatch {
  tags: string[];
  namespace: string;
  rule: string;
  meta: Record<string, unknown>;
  strings: [number, string, Uint8Array][];
}

const Options = z.object({
  /** The worker's rule file; empty for none. Relative paths are relative to the plugin folder. */
  worker_rules: z.string().default("rules/stoq.yar"),
  /** The dispatcher's rule file; empty for none. */
  dispatch_rules: z.string().default("rules/dispatcher.yar"),
  /** Keep at most this many string matches per rule (stoQ's `strings_limit`). */
  strings_limit: z.number().int().positive().nullable().default(null),
  /** One `xorkey` per rule (true) or every key found, as `xor_info` (false). */
  xor_first_match: z.boolean().default(true),
});

/** The yara plugin. */
export default definePlugin({
  options: Options,
  setup({ dir, options, log }) {
    const engine = loadEngine();
    const load = (file: string): LoadedRules | null => {
      if (!file.trim()) return null;
      const loaded = loadRules(engine, isAbsolute(file) ? file : join(dir, file));
      const warnings = loaded.rules.getWarnings();
      if (warnings.length) {
        log.debug(`${warnings.length} warning(s) compiling "${loaded.files[0]}"`);
      }
      return loaded;
    };
    const workerRules = load(options.worker_rules);
    const dispatchRules = load(options.dispatch_rules);

    // Both sets as one: a payload the core dispatches and then scans is read once, not twice.
    const bothRules = workerRules && dispatchRules
      ? combineRules(engine, workerRules, dispatchRules)
      : null;

    const CACHE_SIZE = 4096;
    // stoQ's match shape, from what the engine found in `content` with the rules of `loaded`.
    const shape = (loaded: LoadedRules, found: EngineRuleMatch[], content: Uint8Array) =>
      found.map((m): YaraMatch => {
        const source = loaded.meta.get(m.ruleIdentifier) ?? {};
        const meta: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(m.meta)) {
          meta[key] = value === "unknown" && key in source ? source[key] : value;
        }
        const strings = m.matches.map((s): [number, string, Uint8Array] => [
          s.offset,
          s.identifier,
          content.slice(s.offset, s.offset + s.length),
        ]);
        return {
          tags: m.tags,
          namespace: m.namespace,
          rule: m.ruleIdentifier,
          meta,
          strings: options.strings_limit === null
            ? strings
            : strings.slice(0, options.strings_limit),
        };
      });
    const matchesOf = (loaded: LoadedRules | null, content: Uint8Array): YaraMatch[] =>
      loaded ? shape(loaded, loaded.rules.scan(content), content) : [];
    const remember = (cache: Map<string, YaraMatch[]>, key: string, matches: YaraMatch[]) => {
      cache.set(key, matches);
      if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
    };

    const dispatchCache = new Map<string, YaraMatch[]>();
    // The worker's matches found by a dispatch pass, until the worker asks for them. Only once
    // this instance has been called as a worker: a dispatcher alone keeps nothing.
    const workerCache = new Map<string, YaraMatch[]>();
    let calledAsWorker = false;

    return {
      scan: function yaraScan(payload: Payload) {
        calledAsWorker = true;
        let matches = workerCache.get(payload.payloadId);
        if (matches === undefined) matches = matchesOf(workerRules, payload.content);
        else workerCache.delete(payload.payloadId);
        return { results: { matches } };
      },
      getDispatches: function yaraDispatch(payload: Payload) {
        const pluginNames: string[] = [];
        const meta: Record<string, YaraMatch> = {};
        // With `dispatch_once = False` (the manifest sets True) the core asks every round, as stoQ
        // does; the bytes do not change between rounds, so the matches are kept per payload.
        let matches = dispatchCache.get(payload.payloadId);
        if (matches === undefined) {
          if (bothRules && calledAsWorker) {
            const found = bothRules.scan(payload.content);
            const ofWorker = found.filter((m) => workerRules!.meta.has(m.ruleIdentifier));
            const ofDispatch = found.filter((m) => !workerRules!.meta.has(m.ruleIdentifier));
            remember(
              workerCache,
              payload.payloadId,
              shape(workerRules!, ofWorker, payload.content),
            );
            matches = shape(dispatchRules!, ofDispatch, payload.content);
          } else {
            matches = matchesOf(dispatchRules, payload.content);
          }
          remember(dispatchCache, payload.payloadId, matches);
        }
        for (const original of matches) {
          const match = structuredClone(original);
          if (String(match.meta.save ?? "").trim().toLowerCase() === "false") {
            payload.payloadMeta.shouldArchive = false;
          }
          const names = String(match.meta.plugin ?? "").toLowerCase().split(",")
            .map((name) => name.trim()).filter((name) => name !== "");
          if (names.includes("xordecode")) addXorKey(match, options.xor_first_match);
          for (const name of new Set(names)) {
            if (!pluginNames.includes(name)) pluginNames.push(name);
            meta[name] = match;
          }
        }
        return { pluginNames, meta };
      },
    };
  },
});

const XOR_PREFIX = "xor_plaintext_for_string_";

/** Derive XOR keys from `meta.xor_plaintext_for_string_<id>` and the bytes `$<id>` matched. */
function addXorKey(match: YaraMatch, firstMatch: boolean): void {
  const plaintexts = new Map<string, Uint8Array>();
  for (const [key, value] of Object.entries(match.meta)) {
    if (key.startsWith(XOR_PREFIX) && value !== "" && value !== false) {
      plaintexts.set(`$${key.slice(XOR_PREFIX.length)}`, toBytes(value as MetaValue));
    }
  }
  if (plaintexts.size === 0) return;
  const info = xorInfo(match.strings, plaintexts);
  if (info.length === 0) return;
  if (firstMatch) match.meta.xorkey = info[0][2].join(",");
  else match.meta.xor_info = info;
}

function toBytes(value: MetaValue): Uint8Array {
  return new TextEncoder().encode(String(value));
}
