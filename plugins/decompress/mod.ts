/**
 * decompress: unpack archives (zip, gzip, bzip2, xz, tar, ar/deb, 7z, rar, cab, iso, cpio, rpm)
 * into extracted payloads, as stoQ's public `decompress` worker does, without external programs.
 * Encrypted zip and 7z members are tried with a password list. Limits on member size, total
 * size, member count and compression ratio are checked on the declared sizes before inflating and
 * again on the running output, so a bomb is stopped early; each limit hit is an error entry.
 *
 * @module
 */
import { z } from "zod";
import { definePlugin, ExtractedPayload, type Payload } from "../../plugin_api.ts";
import { detectFormat, type Format, formatFromHint } from "./_detect.ts";
import { Extraction, LimitExceeded, type Limits, messageOf } from "./_extraction.ts";
import { extractWith7z } from "./_sevenzip.ts";
import { bunzip2, gunzip, unxz } from "./_streams.ts";
import { extractAr, extractTar } from "./_tar.ts";
import { extractZip } from "./_zip.ts";

const options = z.object({
  passwords: z.array(z.string()).default(["infected", "password"]),
  maximum_size: z.number().int().positive().default(50_000_000),
  maximum_total_size: z.number().int().positive().default(250_000_000),
  maximum_members: z.number().int().positive().default(1000),
  maximum_ratio: z.number().positive().default(100),
  ratio_threshold: z.number().int().nonnegative().default(1_048_576),
  always_dispatch: z.array(z.string()).default([]),
  archive_extracted: z.boolean().default(true),
});

const SINGLE_STREAM: Partial<Record<Format, string[]>> = {
  gzip: [".gz", ".gzip", ".z"],
  bzip2: [".bz2", ".bzip2", ".bz"],
  xz: [".xz"],
};
const SEVEN_ZIP_TYPES: Partial<Record<Format, string>> = {
  "7z": "7z",
  rar: "rar",
  cab: "cab",
  iso: "iso",
  cpio: "cpio",
  rpm: "rpm",
};

/** The decompress plugin. */
export default definePlugin({
  options,
  setup({ options }) {
    const limits: Limits = {
      maximumSize: options.maximum_size,
      maximumTotalSize: options.maximum_total_size,
      maximumMembers: options.maximum_members,
      maximumRatio: options.maximum_ratio,
      ratioThreshold: options.ratio_threshold,
    };
    return {
      scan: async function decompress(payload) {
        const format = detectFormat(payload.content) ??
          formatFromHint(payload.results.workers["mimetype"]);
        if (!format) return;
        const extraction = new Extraction(format, limits);
        const passwords = passwordsFor(payload, options.passwords);
        try {
          await extract(payload, { format, extraction, passwords });
        } catch (error) {
          if (!(error instanceof LimitExceeded)) extraction.error(messageOf(error));
        }
        const archivePath = typeof payload.payloadMeta.extraData.archive_path === "string"
          ? payload.payloadMeta.extraData.archive_path
          : undefined;
        const extracted = extraction.members.map((member) =>
          new ExtractedPayload(member.content, {
            shouldArchive: options.archive_extracted,
            dispatchTo: [...options.always_dispatch],
            extraData: {
              filename: baseName(member.path),
              archive_path: archivePath ? `${archivePath}/${member.path}` : member.path,
              archive_format: format,
              ...member.extra,
            },
          })
        );
        const results: Record<string, unknown> = { format, extracted: extracted.length };
        if (extraction.password !== undefined) results.password = extraction.password;
        return { results, extracted, errors: extraction.errors };
      },
    };
  },
});

async function extract(
  payload: Payload,
  options: { format: Format; extraction: Extraction; passwords: string[] },
): Promise<void> {
  const { format, extraction, passwords } = options;
  const data = payload.content;
  if (format === "zip") return await extractZip(data, { extraction, passwords });
  if (format === "tar") return extractTar(data, extraction);
  if (format === "ar") return extractAr(data, extraction);
  const sevenZipType = SEVEN_ZIP_TYPES[format];
  if (sevenZipType) return await extractWith7z(data, { extraction, passwords, type: sevenZipType });
  const path = innerName(payload, format);
  const sink = extraction.sink({ path, packed: data.length });
  try {
    if (format === "gzip") gunzip(data, sink);
    else if (format === "bzip2") bunzip2(data, sink);
    else await unxz(data, sink);
  } catch (error) {
    if (error instanceof LimitExceeded || sink.refused) return;
    // A truncated stream still yields what was decoded before the damage.
    extraction.error(`data corrupt or truncated: ${messageOf(error)}`);
    if (sink.size === 0) return;
  }
  extraction.add({ path, content: sink.bytes() });
}

/** The inner file's name: gzip's stored name, else the archive's name less its extension. */
function innerName(payload: Payload, format: Format): string {
  const data = payload.content;
  // gzip FLG.FNAME: the original name follows the 10-byte header (and the FEXTRA field).
  if (format === "gzip" && data.length > 10 && data[3] & 0x08) {
    let pos = 10;
    if (data[3] & 0x04) pos += 2 + (data[10] | (data[11] << 8));
    const end = data.indexOf(0, pos);
    if (end > pos) return new TextDecoder().decode(data.subarray(pos, end));
  }
  const filename = payload.payloadMeta.extraData.filename;
  if (typeof filename === "string" && filename) {
    const lower = filename.toLowerCase();
    if (/\.(tgz|tbz2?|txz)$/.test(lower)) return filename.replace(/\.[^.]+$/, ".tar");
    for (const ext of SINGLE_STREAM[format] ?? []) {
      if (lower.endsWith(ext)) return filename.slice(0, -ext.length);
    }
    return filename;
  }
  return "data";
}

/**
 * A member's base name for `extra_data.filename`: the last component of its path, with `/` and `\`
 * as separators, never `.`, `..` or empty (`../../etc/passwd` → `passwd`, `..` → `data`), so a
 * consumer that writes files by that name stays in its folder.
 */
function baseName(path: string): string {
  const last = path.split(/[\\/]/).filter((part) => part !== "" && part !== "." && part !== "..")
    .pop();
  return last ?? "data";
}

/** The payload's own passwords (`extra_data.passwords`, stoQ's override) then the option's. */
function passwordsFor(payload: Payload, configured: string[]): string[] {
  const own = payload.payloadMeta.extraData.passwords;
  const list = typeof own === "string"
    ? own.split(",").map((value) => value.trim())
    : Array.isArray(own)
    ? own.map(String)
    : [];
  return [...new Set([...list, ...configured])];
}
