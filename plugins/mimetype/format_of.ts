/**
 * `formatOf()`: a normalized format id for a payload, from its libmagic MIME type and, where the
 * MIME type says nothing useful, its leading bytes. Extraction dispatching keys on this id rather
 * than on MIME strings, which differ between libmagic builds (`application/x-rar` in Debian's
 * file 5.44, `application/vnd.rar` in newer magic databases; `application/x-dosexec` in stoQ's days,
 * `application/vnd.microsoft.portable-executable` now).
 *
 * @module
 */

/** Every format id `formatOf()` can return. */
export const FORMATS = [
  "zip",
  "gzip",
  "bzip2",
  "xz",
  "lzma",
  "zstd",
  "zlib",
  "compress",
  "tar",
  "7z",
  "rar",
  "cab",
  "iso9660",
  "ar",
  "deb",
  "rpm",
  "cpio",
  "pe",
  "elf",
  "macho",
  "javaclass",
  "wasm",
  "pdf",
  "ole",
  "ooxml",
  "odf",
  "rtf",
  "png",
  "jpeg",
  "gif",
  "bmp",
  "swf",
  "lnk",
  "sqlite",
  "email",
  "html",
  "xml",
  "json",
  "script",
  "base64",
  "text",
  "empty",
  "unknown",
] as const;

/** A normalized format id. */
export type Format = typeof FORMATS[number];

/** Exact MIME types (lower case) and the format they mean. */
const BY_MIME: Readonly<Record<string, Format>> = {
  "application/zip": "zip",
  "application/x-zip-compressed": "zip",
  "application/java-archive": "zip",
  "application/vnd.android.package-archive": "zip",
  "application/gzip": "gzip",
  "application/x-gzip": "gzip",
  "application/x-bzip2": "bzip2",
  "application/x-xz": "xz",
  "application/x-lzma": "lzma",
  "application/zstd": "zstd",
  "application/zlib": "zlib",
  "application/x-compress": "compress",
  "application/x-tar": "tar",
  "application/x-gtar": "tar",
  "application/x-ustar": "tar",
  "application/x-7z-compressed": "7z",
  "application/x-rar": "rar",
  "application/vnd.rar": "rar",
  "application/x-rar-compressed": "rar",
  "application/vnd.ms-cab-compressed": "cab",
  "application/x-iso9660-image": "iso9660",
  "application/x-archive": "ar",
  "application/vnd.debian.binary-package": "deb",
  "application/x-debian-package": "deb",
  "application/x-rpm": "rpm",
  "application/x-cpio": "cpio",
  "application/vnd.microsoft.portable-executable": "pe",
  "application/x-dosexec": "pe",
  "application/x-msdownload": "pe",
  "application/x-mach-binary": "macho",
  "application/x-java-applet": "javaclass",
  "application/wasm": "wasm",
  "application/pdf": "pdf",
  "application/x-ole-storage": "ole",
  "application/cdfv2": "ole",
  "application/msword": "ole",
  "application/vnd.ms-excel": "ole",
  "application/vnd.ms-powerpoint": "ole",
  "application/vnd.ms-outlook": "ole",
  "application/vnd.ms-office": "ole",
  "application/x-msi": "ole",
  "text/rtf": "rtf",
  "application/rtf": "rtf",
  "image/png": "png",
  "image/jpeg": "jpeg",
  "image/gif": "gif",
  "image/bmp": "bmp",
  "image/x-ms-bmp": "bmp",
  "application/x-shockwave-flash": "swf",
  "application/x-ms-shortcut": "lnk",
  "application/vnd.sqlite3": "sqlite",
  "application/x-sqlite3": "sqlite",
  "message/rfc822": "email",
  "text/html": "html",
  "text/xml": "xml",
  "application/xml": "xml",
  "application/json": "json",
  "application/javascript": "script",
  "text/javascript": "script",
  // libmagic's name for Windows setup information (.inf), autorun.inf among them: it runs programs.
  "application/x-setupscript": "script",
  "application/x-empty": "empty",
  "inode/x-empty": "empty",
};

/** MIME type prefixes (lower case) and their format, tried in order after the exact table. */
const BY_PREFIX: readonly [string, Format][] = [
  ["application/vnd.openxmlformats-officedocument.", "ooxml"],
  ["application/vnd.ms-word.", "ooxml"],
  ["application/vnd.ms-excel.", "ooxml"],
  ["application/vnd.ms-powerpoint.", "ooxml"],
  ["application/vnd.oasis.opendocument.", "odf"],
  ["application/x-mach-o", "macho"],
  ["text/x-script.", "script"],
];

/** libmagic's script MIME types (`text/x-<language>`). */
const SCRIPTS = new Set([
  "text/x-shellscript",
  "text/x-perl",
  "text/x-python",
  "text/x-ruby",
  "text/x-php",
  "text/x-lua",
  "text/x-tcl",
  "text/x-awk",
  "text/x-msdos-batch",
  "text/x-powershell",
  "text/x-vbscript",
]);

/** ELF MIME types; only trusted with the ELF magic (libmagic uses some for a.out and COFF too). */
const ELF_MIMES = new Set([
  "application/x-executable",
  "application/x-sharedlib",
  "application/x-pie-executable",
  "application/x-object",
  "application/x-coredump",
]);

function startsWith(content: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (content.length < offset + signature.length) return false;
  return signature.every((byte, i) => content[offset + i] === byte);
}

function ascii(text: string): number[] {
  return Array.from(text, (ch) => ch.charCodeAt(0));
}

/** Leading-byte signatures of the formats extraction cares about, for MIME types that drift. */
const SIGNATURES: readonly [Format, number[], number][] = [
  ["zip", [0x50, 0x4b, 0x03, 0x04], 0],
  ["zip", [0x50, 0x4b, 0x05, 0x06], 0],
  ["gzip", [0x1f, 0x8b], 0],
  ["bzip2", ascii("BZh"), 0],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 0],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd], 0],
  ["7z", [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], 0],
  ["rar", ascii("Rar!\x1a\x07"), 0],
  ["cab", ascii("MSCF\0\0\0\0"), 0],
  ["deb", ascii("!<arch>\ndebian-binary"), 0],
  ["ar", ascii("!<arch>\n"), 0],
  ["tar", ascii("ustar"), 257],
  ["iso9660", ascii("CD001"), 32769],
  ["elf", [0x7f, 0x45, 0x4c, 0x46], 0],
  ["pdf", ascii("%PDF-"), 0],
  ["ole", [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], 0],
  ["png", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 0],
  ["jpeg", [0xff, 0xd8, 0xff], 0],
  ["gif", ascii("GIF8"), 0],
  ["wasm", ascii("\0asm"), 0],
];

/**
 * Whether text is one base64 blob (whitespace allowed between lines): at least 32 characters of
 * the alphabet, padded to a multiple of 4, with digits or `+`/`/` and both letter cases, so that a
 * word, a hex digest or a sentence does not qualify. One pass over the bytes, which stops at the
 * first that cannot be base64 (in most text, within the first line).
 */
function isBase64(content: Uint8Array): boolean {
  if (content.length < 32) return false;
  let count = 0;
  let padding = 0;
  let upper = false;
  let lower = false;
  let digitOrSign = false;
  for (let i = 0; i < content.length; i++) {
    const byte = content[i];
    if (byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09) continue;
    if (byte === 0x3d) {
      // "=" only at the end, at most twice, after at least one character of the alphabet.
      if (count === padding || padding === 2) return false;
      padding++;
    } else if (padding > 0) {
      return false;
    } else if (byte >= 0x41 && byte <= 0x5a) upper = true;
    else if (byte >= 0x61 && byte <= 0x7a) lower = true;
    else if ((byte >= 0x30 && byte <= 0x39) || byte === 0x2b || byte === 0x2f) digitOrSign = true;
    else return false;
    count++;
  }
  return count >= 32 && count % 4 === 0 && upper && lower && digitOrSign;
}

function isPe(content: Uint8Array): boolean {
  if (!startsWith(content, ascii("MZ")) || content.length < 0x40) return false;
  const offset = new DataView(content.buffer, content.byteOffset, content.byteLength)
    .getUint32(0x3c, true);
  return startsWith(content, ascii("PE\0\0"), offset);
}

/**
 * The normalized format of a payload, from its libmagic MIME type and its first bytes (as many as
 * were given to libmagic). Unrecognized content is `"unknown"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatOf } from "./format_of.ts";
 * assert.equal(formatOf("application/vnd.rar", new Uint8Array()), "rar");
 * assert.equal(formatOf("application/x-rar", new Uint8Array()), "rar");
 * assert.equal(formatOf("text/x-shellscript", new TextEncoder().encode("#!/bin/sh\n")), "script");
 * assert.equal(formatOf("application/octet-stream", Uint8Array.of(0x1f, 0x8b, 8, 0)), "gzip");
 * ```
 */
export function formatOf(mimetype: string, content: Uint8Array): Format {
  const mime = mimetype.split(";")[0].trim().toLowerCase();
  if (ELF_MIMES.has(mime)) return startsWith(content, [0x7f, 0x45, 0x4c, 0x46]) ? "elf" : "unknown";
  const exact = BY_MIME[mime];
  if (exact !== undefined) return exact;
  for (const [prefix, format] of BY_PREFIX) if (mime.startsWith(prefix)) return format;
  if (SCRIPTS.has(mime)) return "script";
  if (mime.startsWith("text/")) return isBase64(content) ? "base64" : "text";
  for (const [format, signature, offset] of SIGNATURES) {
    if (startsWith(content, signature, offset)) return format;
  }
  if (isPe(content)) return "pe";
  if (content.length === 0) return "empty";
  return "unknown";
}
