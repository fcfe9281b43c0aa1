/**
 * Zip reader: the central directory (zip64 and prepended data included), or the local headers
 * when the central directory is missing; stored, deflate, bzip2 and xz members; ZipCrypto and
 * WinZip AES encryption with a password list.
 *
 * @module
 */
import { crc32 } from "./_crc32.ts";
import { type Extraction, LimitExceeded, messageOf, type Sink } from "./_extraction.ts";
import { bunzip2, inflateRaw, unxz } from "./_streams.ts";
import { aesDecrypt, zipCryptoDecrypt } from "./_zip_crypto.ts";

interface ZipEntry {
  path: string;
  flags: number;
  method: number;
  modTime: number;
  crc: number;
  packed: number;
  size: number;
  localOffset: number;
  aes?: { strength: number; method: number; vendorVersion: number };
  /** Set for entries found by the local-header scan. */
  dataOffset?: number;
}

const utf8 = new TextDecoder("utf-8");
const METHODS: Record<number, string> = { 0: "stored", 8: "deflate", 12: "bzip2", 95: "xz" };

/** Extract the members of a zip archive. */
export async function extractZip(
  data: Uint8Array,
  options: { extraction: Extraction; passwords: string[] },
): Promise<void> {
  const { extraction } = options;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let entries: ZipEntry[];
  try {
    entries = readCentralDirectory(data, view);
  } catch (error) {
    extraction.error(
      `${messageOf(error)}; members recovered from local headers (truncated or corrupt archive?)`,
    );
    entries = scanLocalHeaders(data, view);
  }
  const overlapping = overlaps(entries.filter((entry) => !entry.path.endsWith("/")), view);
  if (overlapping.size > 0) {
    const first = JSON.stringify([...overlapping][0].path);
    extraction.error(
      `${overlapping.size} member(s) skipped (the first ${first}): their data overlaps another member's (an overlapping-entry zip bomb?)`,
      "overlapping_members",
    );
  }
  for (const entry of entries) {
    if (entry.path.endsWith("/") || overlapping.has(entry)) continue;
    await extractEntry(data, view, { entry, extraction, passwords: options.passwords });
  }
}

/**
 * The entries whose bytes (local header and data) overlap an earlier entry's: many entries sharing
 * one compressed stream is David Fifield's zip bomb, whose output grows with the square of its size.
 * Every such entry but the first is refused; entries whose header cannot be found are left to
 * `extractEntry`, which reports them.
 */
function overlaps(entries: ZipEntry[], view: DataView): Set<ZipEntry> {
  const spans = entries.flatMap((entry) => {
    const start = entry.dataOffset ?? localDataOffset(view, entry.localOffset);
    if (start === undefined) return [];
    return [{ entry, from: entry.localOffset, to: Math.max(start + entry.packed, start) }];
  }).sort((a, b) => a.from - b.from || a.to - b.to);
  const refused = new Set<ZipEntry>();
  let end = -1;
  for (const span of spans) {
    if (span.from < end) refused.add(span.entry);
    else end = span.to;
  }
  return refused;
}

function readCentralDirectory(data: Uint8Array, view: DataView): ZipEntry[] {
  const eocd = findEocd(view);
  if (eocd < 0) throw new Error("end of central directory not found");
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  let cdEnd = eocd;
  const locator = eocd - 20;
  if (locator >= 0 && view.getUint32(locator, true) === 0x07064b50) {
    const zip64 = Number(view.getBigUint64(locator + 8, true));
    if (zip64 + 56 <= data.length && view.getUint32(zip64, true) === 0x06064b50) {
      count = Number(view.getBigUint64(zip64 + 32, true));
      cdSize = Number(view.getBigUint64(zip64 + 40, true));
      cdOffset = Number(view.getBigUint64(zip64 + 48, true));
      cdEnd = zip64;
    }
  }
  // Data before the archive (a self-extractor stub) shifts every offset.
  const shift = cdEnd - cdSize - cdOffset;
  let pos = cdOffset + shift;
  if (pos < 0 || pos > data.length) throw new Error("central directory offset out of range");
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (pos + 46 > data.length || view.getUint32(pos, true) !== 0x02014b50) {
      throw new Error(`central directory entry ${i} is corrupt`);
    }
    const nameLength = view.getUint16(pos + 28, true);
    const extraLength = view.getUint16(pos + 30, true);
    const commentLength = view.getUint16(pos + 32, true);
    const entry: ZipEntry = {
      flags: view.getUint16(pos + 8, true),
      method: view.getUint16(pos + 10, true),
      modTime: view.getUint16(pos + 12, true),
      crc: view.getUint32(pos + 16, true),
      packed: view.getUint32(pos + 20, true),
      size: view.getUint32(pos + 24, true),
      localOffset: view.getUint32(pos + 42, true),
      path: utf8.decode(data.subarray(pos + 46, pos + 46 + nameLength)),
    };
    readExtra(view, { entry, start: pos + 46 + nameLength, length: extraLength });
    entry.localOffset += shift;
    entries.push(entry);
    pos += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function findEocd(view: DataView): number {
  const last = view.byteLength - 22;
  for (let pos = last; pos >= 0 && pos >= last - 65535; pos--) {
    if (view.getUint32(pos, true) === 0x06054b50) return pos;
  }
  return -1;
}

function readExtra(
  view: DataView,
  options: { entry: ZipEntry; start: number; length: number },
): void {
  const { entry } = options;
  const end = Math.min(options.start + options.length, view.byteLength);
  for (let pos = options.start; pos + 4 <= end;) {
    const id = view.getUint16(pos, true);
    const size = view.getUint16(pos + 2, true);
    const body = pos + 4;
    if (id === 0x0001) {
      let field = body;
      const next = () => {
        if (field + 8 > body + size) return undefined;
        const value = Number(view.getBigUint64(field, true));
        field += 8;
        return value;
      };
      if (entry.size === 0xffffffff) entry.size = next() ?? entry.size;
      if (entry.packed === 0xffffffff) entry.packed = next() ?? entry.packed;
      if (entry.localOffset === 0xffffffff) entry.localOffset = next() ?? entry.localOffset;
    } else if (id === 0x9901 && size >= 7) {
      entry.aes = {
        vendorVersion: view.getUint16(body, true),
        strength: view.getUint8(body + 4),
        method: view.getUint16(body + 5, true),
      };
    }
    pos = body + size;
  }
}

function scanLocalHeaders(data: Uint8Array, view: DataView): ZipEntry[] {
  const entries: ZipEntry[] = [];
  for (let pos = 0; pos + 30 <= data.length;) {
    if (view.getUint32(pos, true) !== 0x04034b50) {
      pos++;
      continue;
    }
    const nameLength = view.getUint16(pos + 26, true);
    const extraLength = view.getUint16(pos + 28, true);
    const entry: ZipEntry = {
      flags: view.getUint16(pos + 6, true),
      method: view.getUint16(pos + 8, true),
      modTime: view.getUint16(pos + 10, true),
      crc: view.getUint32(pos + 14, true),
      packed: view.getUint32(pos + 18, true),
      size: view.getUint32(pos + 22, true),
      localOffset: pos,
      path: utf8.decode(data.subarray(pos + 30, pos + 30 + nameLength)),
      dataOffset: pos + 30 + nameLength + extraLength,
    };
    readExtra(view, { entry, start: pos + 30 + nameLength, length: extraLength });
    entries.push(entry);
    pos = entry.dataOffset! + (entry.flags & 8 ? 0 : entry.packed);
    if (pos <= entry.localOffset) pos = entry.localOffset + 4;
  }
  return entries;
}

async function extractEntry(
  data: Uint8Array,
  view: DataView,
  options: { entry: ZipEntry; extraction: Extraction; passwords: string[] },
): Promise<void> {
  const { entry, extraction } = options;
  const name = JSON.stringify(entry.path);
  if (entry.flags & 8 && entry.dataOffset !== undefined && entry.packed === 0) {
    extraction.error(`member ${name} skipped: its size is only in a data descriptor`);
    return;
  }
  const start = entry.dataOffset ?? localDataOffset(view, entry.localOffset);
  if (start === undefined) {
    extraction.error(`member ${name} skipped: local header not found`);
    return;
  }
  if (start + entry.packed > data.length) {
    extraction.error(`member ${name} skipped: data truncated`);
    return;
  }
  const method = entry.method === 99 && entry.aes ? entry.aes.method : entry.method;
  if (!(method in METHODS)) {
    extraction.error(
      `member ${name} skipped: unsupported compression method ${method}`,
      "unsupported",
    );
    return;
  }
  if (!extraction.admit({ path: entry.path, declared: entry.size, packed: entry.packed })) return;
  const raw = data.subarray(start, start + entry.packed);
  const sinkOptions = { path: entry.path, packed: entry.packed, declared: entry.size };
  // AE-2 stores no CRC: the AES authentication code stands in for it.
  const checkCrc = !(entry.aes && entry.aes.vendorVersion === 2);
  if (!(entry.flags & 1)) {
    const sink = extraction.sink(sinkOptions);
    const ok = await decode(raw, { method, sink, extraction, name });
    if (!ok) return;
    const content = sink.bytes();
    if (checkCrc && crc32(content) !== entry.crc) {
      extraction.error(`member ${name}: CRC mismatch`);
    }
    extraction.add({ path: entry.path, content });
    return;
  }
  for (const password of options.passwords) {
    const plain = entry.aes
      ? aesDecrypt(raw, { password, strength: entry.aes.strength })
      : zipCryptoDecrypt(raw, {
        password,
        check: entry.flags & 8 ? (entry.modTime >>> 8) & 0xff : entry.crc >>> 24,
      });
    if (!plain) continue;
    const sink = extraction.sink(sinkOptions);
    const ok = await decode(plain, { method, sink, extraction, name, quiet: true });
    if (sink.refused) return;
    if (!ok) continue;
    const content = sink.bytes();
    if (checkCrc && crc32(content) !== entry.crc) continue;
    extraction.password = password;
    extraction.add({ path: entry.path, content, extra: { password } });
    return;
  }
  extraction.error(
    `member ${name} is encrypted and no password in the list opened it (passwords)`,
    "encrypted",
  );
}

function localDataOffset(view: DataView, offset: number): number | undefined {
  if (offset < 0 || offset + 30 > view.byteLength) return undefined;
  if (view.getUint32(offset, true) !== 0x04034b50) return undefined;
  return offset + 30 + view.getUint16(offset + 26, true) + view.getUint16(offset + 28, true);
}

async function decode(
  raw: Uint8Array,
  options: { method: number; sink: Sink; extraction: Extraction; name: string; quiet?: boolean },
): Promise<boolean> {
  const { method, sink } = options;
  try {
    if (method === 0) sink.push(raw);
    else if (method === 8) inflateRaw(raw, sink);
    else if (method === 12) bunzip2(raw, sink);
    else await unxz(raw, sink);
    return true;
  } catch (error) {
    if (error instanceof LimitExceeded || sink.refused) return false;
    if (!options.quiet) {
      options.extraction.error(
        `member ${options.name}: ${METHODS[method]} data corrupt: ${messageOf(error)}`,
      );
    }
    return false;
  }
}
