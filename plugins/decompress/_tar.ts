/**
 * Tar (v7, ustar, GNU long names, pax paths and sizes) and ar (System V/GNU and BSD names; .deb
 * packages are ar archives) readers. Members are stored, so their sizes are known before copying.
 *
 * @module
 */
import type { Extraction } from "./_extraction.ts";

const text = new TextDecoder("utf-8");
const BLOCK = 512;

/** True when the first 512 bytes are a tar header with a valid checksum. */
export function isTar(data: Uint8Array): boolean {
  if (data.length < BLOCK) return false;
  const stored = octal(data.subarray(148, 156));
  return stored !== undefined && stored === headerChecksum(data.subarray(0, BLOCK));
}

/** Extract the regular files of a tar archive. */
export function extractTar(data: Uint8Array, extraction: Extraction): void {
  let longName: string | undefined;
  let pax: Record<string, string> = {};
  for (let pos = 0; pos + BLOCK <= data.length;) {
    const header = data.subarray(pos, pos + BLOCK);
    if (header.every((byte) => byte === 0)) return;
    const stored = octal(header.subarray(148, 156));
    if (stored === undefined || stored !== headerChecksum(header)) {
      extraction.error(`header checksum mismatch at offset ${pos}; stopped reading`);
      return;
    }
    const type = String.fromCharCode(header[156] || 0x30);
    let size = sizeField(header.subarray(124, 136));
    if (pax.size !== undefined) {
      // A negative or non-numeric size would move the reader backwards or nowhere, forever.
      if (!/^\d+$/.test(pax.size)) {
        extraction.error(
          `invalid pax size ${JSON.stringify(pax.size)} at offset ${pos}; stopped reading`,
        );
        return;
      }
      size = Number(pax.size);
    }
    const start = pos + BLOCK;
    const end = start + size;
    pos = start + Math.ceil(size / BLOCK) * BLOCK;
    if (end > data.length) {
      extraction.error(`member ${JSON.stringify(memberName(header, { pax, longName }))} truncated`);
      return;
    }
    const body = data.subarray(start, end);
    if (type === "L") {
      longName = cString(body);
      continue;
    }
    if (type === "x") {
      const parsed = parsePax(body);
      if (parsed.error) extraction.error(`${parsed.error} at offset ${start}; header ignored`);
      pax = parsed.records;
      continue;
    }
    if (type === "g") continue;
    const path = memberName(header, { pax, longName });
    longName = undefined;
    pax = {};
    if (type !== "0" && type !== "7") continue;
    if (!extraction.admit({ path, declared: size })) continue;
    extraction.add({ path, content: body.slice() });
  }
}

function memberName(
  header: Uint8Array,
  options: { pax: Record<string, string>; longName: string | undefined },
): string {
  if (options.pax.path) return options.pax.path;
  if (options.longName !== undefined) return options.longName;
  const base = cString(header.subarray(0, 100));
  const magic = cString(header.subarray(257, 263));
  const prefix = magic === "ustar" ? cString(header.subarray(345, 500)) : "";
  return prefix ? `${prefix}/${base}` : base;
}

function headerChecksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return sum;
}

function sizeField(field: Uint8Array): number {
  if (field[0] & 0x80) {
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i];
    return value;
  }
  return octal(field) ?? 0;
}

function octal(field: Uint8Array): number | undefined {
  const text = cString(field).trim();
  if (!/^[0-7]+$/.test(text)) return undefined;
  return parseInt(text, 8);
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return text.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/**
 * Pax records, `"<length> <key>=<value>\n"` with the length counting the whole record. A record
 * whose length is 0 or runs past the header, or that does not end with a newline, makes the whole
 * header invalid (Python's tarfile looped forever on a length of 0: CVE-2019-20907).
 */
function parsePax(body: Uint8Array): { records: Record<string, string>; error?: string } {
  const records: Record<string, string> = {};
  for (let pos = 0; pos < body.length && body[pos] !== 0;) {
    const space = body.indexOf(0x20, pos);
    const digits = space < 0 ? "" : text.decode(body.subarray(pos, space));
    const length = /^\d{1,9}$/.test(digits) ? Number(digits) : 0;
    const end = pos + length;
    if (length <= digits.length + 1 || end > body.length || body[end - 1] !== 0x0a) {
      return { records: {}, error: `invalid pax record at byte ${pos} of the pax header` };
    }
    const record = text.decode(body.subarray(space + 1, end - 1));
    const equals = record.indexOf("=");
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    pos = end;
  }
  return { records };
}

/** Extract the members of an ar archive (and so a .deb's control and data tarballs). */
export function extractAr(data: Uint8Array, extraction: Extraction): void {
  let names = "";
  // 7-Zip (so stoQ) leaves out a .deb's "debian-binary" (the format version, "2.0\n").
  const deb = text.decode(data.subarray(8, 24)).startsWith("debian-binary");
  for (let pos = 8; pos + 60 <= data.length;) {
    const header = data.subarray(pos, pos + 60);
    if (header[58] !== 0x60 || header[59] !== 0x0a) {
      extraction.error(`bad member header at offset ${pos}; stopped reading`);
      return;
    }
    let name = text.decode(header.subarray(0, 16)).trimEnd();
    const size = parseInt(text.decode(header.subarray(48, 58)).trim(), 10) || 0;
    let start = pos + 60;
    const end = start + size;
    pos = end + (size % 2);
    if (end > data.length) {
      extraction.error(`member ${JSON.stringify(name)} truncated`);
      return;
    }
    if (name === "//") {
      names = text.decode(data.subarray(start, end));
      continue;
    }
    if (name === "/" || name === "/SYM64/" || name === "__.SYMDEF" || name === "__.SYMDEF SORTED") {
      continue;
    }
    if (/^#1\/\d+$/.test(name)) {
      const length = parseInt(name.slice(3), 10);
      name = cString(data.subarray(start, start + length));
      start += length;
    } else if (/^\/\d+$/.test(name)) {
      const offset = parseInt(name.slice(1), 10);
      name = names.slice(offset).split("\n")[0].replace(/\/$/, "");
    } else if (name.endsWith("/")) {
      name = name.slice(0, -1);
    }
    if (deb && name === "debian-binary") continue;
    if (!extraction.admit({ path: name, declared: end - start })) continue;
    extraction.add({ path: name, content: data.slice(start, end) });
  }
}
