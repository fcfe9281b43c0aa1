/**
 * Archive format detection: by magic bytes first, then by the mimetype worker's results (a
 * `format` id, or a MIME type) when the bytes say nothing.
 *
 * @module
 */
import { isTar } from "./_tar.ts";

/** The archive formats this plugin reads. */
export const FORMATS = [
  "zip",
  "gzip",
  "bzip2",
  "xz",
  "tar",
  "ar",
  "7z",
  "rar",
  "cab",
  "iso",
  "cpio",
  "rpm",
] as const;
/** An archive format id. */
export type Format = typeof FORMATS[number];

function startsWith(data: Uint8Array, magic: number[], offset = 0): boolean {
  if (data.length < offset + magic.length) return false;
  return magic.every((byte, i) => data[offset + i] === byte);
}

const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** The format the bytes announce, or undefined. */
export function detectFormat(data: Uint8Array): Format | undefined {
  if (
    startsWith(data, [0x50, 0x4b, 0x03, 0x04]) || startsWith(data, [0x50, 0x4b, 0x05, 0x06]) ||
    startsWith(data, [0x50, 0x4b, 0x07, 0x08])
  ) return "zip";
  if (startsWith(data, [0x1f, 0x8b])) return "gzip";
  if (startsWith(data, ascii("BZh")) && data[3] >= 0x31 && data[3] <= 0x39) return "bzip2";
  if (startsWith(data, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return "xz";
  if (startsWith(data, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) return "7z";
  if (startsWith(data, ascii("Rar!\x1a\x07"))) return "rar";
  if (startsWith(data, ascii("MSCF\0\0\0\0"))) return "cab";
  if (startsWith(data, ascii("!<arch>\n"))) return "ar";
  if (startsWith(data, [0xed, 0xab, 0xee, 0xdb])) return "rpm";
  if (startsWith(data, ascii("070701")) || startsWith(data, ascii("070702"))) return "cpio";
  if (startsWith(data, ascii("070707")) || startsWith(data, [0xc7, 0x71])) return "cpio";
  if (startsWith(data, ascii("ustar"), 257) || isTar(data)) return "tar";
  for (const offset of [0x8001, 0x8801, 0x9001]) {
    if (startsWith(data, ascii("CD001"), offset)) return "iso";
  }
  return undefined;
}

const HINTS: Record<string, Format> = {
  "zip": "zip",
  "application/zip": "zip",
  "application/x-zip-compressed": "zip",
  "gz": "gzip",
  "gzip": "gzip",
  "tgz": "gzip",
  "application/gzip": "gzip",
  "application/x-gzip": "gzip",
  "bz2": "bzip2",
  "bzip2": "bzip2",
  "application/x-bzip2": "bzip2",
  "xz": "xz",
  "application/x-xz": "xz",
  "tar": "tar",
  "ustar": "tar",
  "application/x-tar": "tar",
  "ar": "ar",
  "deb": "ar",
  "application/x-archive": "ar",
  "application/vnd.debian.binary-package": "ar",
  "application/x-debian-package": "ar",
  "7z": "7z",
  "application/x-7z-compressed": "7z",
  "rar": "rar",
  "application/x-rar": "rar",
  "application/vnd.rar": "rar",
  "application/x-rar-compressed": "rar",
  "cab": "cab",
  "application/vnd.ms-cab-compressed": "cab",
  "iso": "iso",
  "iso9660": "iso",
  "application/x-iso9660-image": "iso",
  "cpio": "cpio",
  "application/x-cpio": "cpio",
  "rpm": "rpm",
  "application/x-rpm": "rpm",
};

/** The format named by the mimetype worker's results (`format`, `ext` or `mimetype`), if any. */
export function formatFromHint(results: unknown): Format | undefined {
  if (!results || typeof results !== "object") return undefined;
  const record = results as Record<string, unknown>;
  for (const key of ["format", "ext", "mimetype"]) {
    const value = record[key];
    if (typeof value === "string" && HINTS[value.toLowerCase()]) return HINTS[value.toLowerCase()];
  }
  return undefined;
}
