/**
 * iocextract: extract and normalize indicators of compromise from a payload's text, as stoQ's
 * public `iocextract` worker does: md5, sha1, sha256, sha512, ipv4, ipv6, mac_address, email,
 * domain and url, each key present only when something was found, values unique and refanged
 * (`[.]`, `(dot)`, `[@]`, `hxxp://`, `meow://` ...). Domains are only accepted with a TLD from the
 * IANA list committed in this folder; an allow-list drops known-good indicators.
 *
 * @module
 */
import { BlockList, isIPv4, isIPv6 } from "node:net";
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import { definePlugin, type Logger } from "../../plugin_api.ts";

/** The indicator types, in result order. */
export const IOC_TYPES = [
  "md5",
  "sha1",
  "sha256",
  "sha512",
  "ipv4",
  "ipv6",
  "mac_address",
  "email",
  "domain",
  "url",
] as const;
/** An indicator type. */
export type IocType = typeof IOC_TYPES[number];

const DOT = String.raw`(?:\.|\[\.\]|<\.>|\{\.\}|\(\.\)|<DOT>|\[DOT\]|\{DOT\}|\(DOT\))`;
const AT = String.raw`(?:@|\[@\]|<@>|\{@\}|\(@\)|<AT>|\[AT\]|\{AT\}|\(AT\))`;
const SCHEME = String.raw`\b(?:H(?:XX|TT)PS?|MEOWS?)(?::|\[:\])\/\/`;
const OCTET = String.raw`(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)`;
const IPV4 = String.raw`\b(?:${OCTET}${DOT}){3}${OCTET}\b`;
const IPV6 = String.raw`(?:[0-9A-F]{0,4}:){2,7}(?:[0-9A-F]{0,4}|${OCTET}(?:\.${OCTET}){3})`;
const URL_TAIL = String.raw`(?:[:/][A-Z0-9/:+%._\-=~&\\#?@!$'()*,;]*)?`;

/** The compiled patterns, built once from the TLD list. */
interface Patterns {
  byType: Record<IocType, RegExp>;
  dot: RegExp;
  at: RegExp;
  scheme: RegExp;
}

function buildPatterns(tlds: string[]): Patterns {
  // Longest first, so that ".community" is not cut to ".com".
  const alternatives = [...tlds].sort((a, b) => b.length - a.length)
    .map((tld) => tld.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&")).join("|");
  const tld = `${DOT}(?:${alternatives})\\b`;
  const fqdn = String.raw`\b(?:[A-Z0-9-]+${DOT}){0,4}[A-Z0-9-]{2,50}${tld}`;
  const flags = "gi";
  return {
    byType: {
      md5: new RegExp(String.raw`\b[A-F0-9]{32}\b`, flags),
      sha1: new RegExp(String.raw`\b[A-F0-9]{40}\b`, flags),
      sha256: new RegExp(String.raw`\b[A-F0-9]{64}\b`, flags),
      sha512: new RegExp(String.raw`\b[A-F0-9]{128}\b`, flags),
      ipv4: new RegExp(IPV4, flags),
      ipv6: new RegExp(IPV6, flags),
      mac_address: new RegExp(String.raw`\b(?:[0-9A-F]{2}[:-]){5}[0-9A-F]{2}\b`, flags),
      email: new RegExp(String.raw`\b[A-Z0-9._%+-]+${AT}${fqdn}`, flags),
      domain: new RegExp(fqdn, flags),
      url: new RegExp(
        String.raw`${SCHEME}(?:${fqdn}|${IPV4}|\[${IPV6}\])${URL_TAIL}`,
        flags,
      ),
    },
    dot: new RegExp(DOT, flags),
    at: new RegExp(AT, flags),
    scheme: new RegExp(SCHEME, flags),
  };
}

/** Refang one indicator of a type: dots, ats, schemes; hosts lower case. */
function normalize(type: IocType, value: string, patterns: Patterns): string {
  let out = value.replace(patterns.dot, ".").replace(patterns.at, "@");
  switch (type) {
    case "domain":
    case "email":
      return type === "domain" ? out.toLowerCase() : out.replace(/@.*$/, (d) => d.toLowerCase());
    case "url": {
      out = out.replace(
        patterns.scheme,
        (scheme) => /s(?::|\[:\])\/\/$/i.test(scheme) ? "https://" : "http://",
      );
      // Scheme and host are case-insensitive; the path is not.
      return out.replace(
        /^(https?:\/\/)([^/:?#]+|\[[^\]]+\])/,
        (_, s, host) => s + host.toLowerCase(),
      );
    }
    case "mac_address":
    case "ipv6":
      return out.toLowerCase();
    default:
      return out;
  }
}

/** One allow-list entry set, by type. */
interface AllowList {
  exact: Map<IocType, Set<string>>;
  domainSuffixes: string[];
  networks: BlockList;
}

function parseAllowList(lines: string[], log: Logger): AllowList {
  const allow: AllowList = { exact: new Map(), domainSuffixes: [], networks: new BlockList() };
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    const type = line.slice(0, colon).trim().toLowerCase() as IocType;
    const pattern = line.slice(colon + 1).trim();
    if (colon < 0 || !IOC_TYPES.includes(type) || pattern === "") {
      log.warning(`Ignoring allow-list entry "${line}": expected "type:pattern"`);
      continue;
    }
    if (type === "ipv4" || type === "ipv6") {
      const [address, prefix] = pattern.split("/");
      const family = type === "ipv4" ? "ipv4" : "ipv6";
      const valid = family === "ipv4" ? isIPv4(address) : isIPv6(address);
      if (!valid) {
        log.warning(`Ignoring allow-list entry "${line}": not an ${family} address`);
        continue;
      }
      const bits = prefix === undefined ? (family === "ipv4" ? 32 : 128) : Number(prefix);
      allow.networks.addSubnet(address, bits, family);
    } else if (type === "domain" || type === "url") {
      allow.domainSuffixes.push(pattern.toLowerCase());
    } else {
      const set = allow.exact.get(type) ?? new Set<string>();
      set.add(pattern.toLowerCase());
      allow.exact.set(type, set);
    }
  }
  return allow;
}

function allowed(type: IocType, value: string, allow: AllowList): boolean {
  if (type === "ipv4" || type === "ipv6") {
    return allow.networks.check(value, type === "ipv4" ? "ipv4" : "ipv6");
  }
  if (type === "domain" || type === "url" || type === "email") {
    const host = type === "url"
      ? /^https?:\/\/([^/:?#]+)/.exec(value)?.[1] ?? ""
      : type === "email"
      ? value.slice(value.indexOf("@") + 1)
      : value;
    const dotted = `.${host}`;
    const domainHit = allow.domainSuffixes.some((p) =>
      p.startsWith(".") ? dotted.endsWith(p) : host === p
    );
    if (type !== "email") return domainHit;
  }
  return allow.exact.get(type)?.has(value.toLowerCase()) ?? false;
}

/** Extract indicators from text; keys only for types found, values unique and sorted. */
function extract(text: string, patterns: Patterns, allow: AllowList): Record<string, string[]> {
  const results: Record<string, string[]> = {};
  for (const type of IOC_TYPES) {
    const found = new Set<string>();
    for (const match of text.matchAll(patterns.byType[type])) {
      const value = normalize(type, match[0], patterns);
      if (type === "ipv6" && !isIPv6(value)) continue;
      if (!allowed(type, value, allow)) found.add(value);
    }
    if (found.size > 0) results[type] = [...found].sort();
  }
  return results;
}

function resolveIn(dir: string, path: string): string {
  return isAbsolute(path) ? path : join(dir, path);
}

/** The iocextract plugin. */
export default definePlugin({
  options: z.object({
    iana_tld_file: z.string().default("tlds-alpha-by-domain.txt"),
    allowlist_file: z.string().default("allowlist.txt"),
    allowlist: z.array(z.string()).default([]),
  }),
  setup({ dir, options, log }) {
    const tlds = Deno.readTextFileSync(resolveIn(dir, options.iana_tld_file)).split(/\r?\n/)
      .map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));
    const patterns = buildPatterns(tlds);
    const lines = [...options.allowlist];
    if (options.allowlist_file !== "") {
      lines.push(...Deno.readTextFileSync(resolveIn(dir, options.allowlist_file)).split(/\r?\n/));
    }
    const allow = parseAllowList(lines, log);
    const decoder = new TextDecoder();
    return {
      scan: function extractIocs(payload) {
        return { results: extract(decoder.decode(payload.content), patterns, allow) };
      },
    };
  },
});
