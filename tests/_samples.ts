/**
 * Builders of hostile samples for the tests and the fuzzer: zip, tar and gzip writers small enough
 * to read, and the classic attacks made with them (a 42.zip-style nested bomb, David Fifield's
 * overlapping-entry zip bomb, a gzip stream that inflates to many GiB, path traversal names, links,
 * ZipCrypto with an unknown password, Python's `recursion.tar`). Every sample is built in memory,
 * deterministically, in well under a second.
 *
 * @module
 */
import { constants, deflateRawSync, gzipSync } from "node:zlib";
import { crc32, CRC_TABLE } from "../plugins/decompress/_crc32.ts";

const encoder = new TextEncoder();
const MiB = 1 << 20;

/** CRC-32 of `data`, continuing from `crc` (the CRC of what came before). */
export { crc32 };

/** CRC-32 of `count` zero bytes, continuing from `crc`. */
export function crc32Zeros(count: number, crc = 0): number {
  const block = new Uint8Array(Math.min(count, MiB));
  for (let left = count; left > 0; left -= block.length) {
    crc = crc32(left >= block.length ? block : block.subarray(0, left), crc);
  }
  return crc;
}

/**
 * Raw deflate data that inflates to `size` zero bytes, made of one compressed segment repeated:
 * segments ended by a sync flush are byte-aligned and only refer back within themselves, so they
 * can be concatenated; an empty final block closes the stream. About 1 KiB per MiB of output.
 */
export function zeroDeflate(size: number, options: { final?: boolean } = {}): Uint8Array {
  const step = 16 * MiB;
  const flush = { finishFlush: constants.Z_SYNC_FLUSH, level: 9 };
  const full = size >= step ? deflateRawSync(new Uint8Array(step), flush) : undefined;
  const rest = size % step ? deflateRawSync(new Uint8Array(size % step), flush) : undefined;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < Math.floor(size / step); i++) parts.push(full!);
  if (rest) parts.push(rest);
  if (options.final ?? true) parts.push(Uint8Array.of(0x03, 0x00)); // fixed block, final, empty
  return concat(parts);
}

/** Concatenate byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** One zip member as it is written: its data already compressed (and encrypted). */
export interface ZipMember {
  name: string;
  /** The member's bytes as stored in the archive. */
  raw: Uint8Array;
  /** 0 stored, 8 deflate. */
  method: number;
  crc: number;
  /** Uncompressed size. */
  size: number;
  /** General purpose flags (1: encrypted). */
  flags?: number;
}

/** A stored or deflated member of `data`. */
export function zipMember(
  name: string,
  data: Uint8Array | string,
  options: { deflate?: boolean } = {},
): ZipMember {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  const deflate = options.deflate ?? true;
  return {
    name,
    raw: deflate ? deflateRawSync(bytes) : bytes,
    method: deflate ? 8 : 0,
    crc: crc32(bytes),
    size: bytes.length,
  };
}

/** The 30-byte local file header (plus name) of a member. */
export function localHeader(member: ZipMember): Uint8Array {
  const name = encoder.encode(member.name);
  const header = new Uint8Array(30 + name.length);
  const view = new DataView(header.buffer);
  view.setUint32(0, 0x04034b50, true);
  view.setUint16(4, 20, true);
  view.setUint16(6, member.flags ?? 0, true);
  view.setUint16(8, member.method, true);
  view.setUint32(14, member.crc, true);
  view.setUint32(18, member.raw.length, true);
  view.setUint32(22, member.size, true);
  view.setUint16(26, name.length, true);
  header.set(name, 30);
  return header;
}

function centralHeader(member: ZipMember, offset: number): Uint8Array {
  const name = encoder.encode(member.name);
  const header = new Uint8Array(46 + name.length);
  const view = new DataView(header.buffer);
  view.setUint32(0, 0x02014b50, true);
  view.setUint16(4, 20, true);
  view.setUint16(6, 20, true);
  view.setUint16(8, member.flags ?? 0, true);
  view.setUint16(10, member.method, true);
  view.setUint32(16, member.crc, true);
  view.setUint32(20, member.raw.length, true);
  view.setUint32(24, member.size, true);
  view.setUint16(28, name.length, true);
  view.setUint32(42, offset, true);
  header.set(name, 46);
  return header;
}

function endOfCentralDirectory(
  options: { count: number; size: number; offset: number },
): Uint8Array {
  const eocd = new Uint8Array(22);
  const view = new DataView(eocd.buffer);
  view.setUint32(0, 0x06054b50, true);
  view.setUint16(8, options.count, true);
  view.setUint16(10, options.count, true);
  view.setUint32(12, options.size, true);
  view.setUint32(16, options.offset, true);
  return eocd;
}

/** A zip archive of `members`, names written as given (`../x` and `/etc/x` included). */
export function zip(members: ZipMember[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const member of members) {
    const header = localHeader(member);
    central.push(centralHeader(member, offset));
    parts.push(header, member.raw);
    offset += header.length + member.raw.length;
  }
  const cd = concat(central);
  return concat([
    ...parts,
    cd,
    endOfCentralDirectory({ count: members.length, size: cd.length, offset }),
  ]);
}

/** ZipCrypto ("traditional PKWARE") encryption of a member, as `zip -P` writes it. */
export function zipCrypto(member: ZipMember, password: string): ZipMember {
  const keys = [0x12345678, 0x23456789, 0x34567890];
  const crcByte = (crc: number, b: number) => (CRC_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8)) >>> 0;
  const update = (b: number) => {
    keys[0] = crcByte(keys[0], b);
    keys[1] = (Math.imul(keys[1] + (keys[0] & 0xff), 134775813) + 1) >>> 0;
    keys[2] = crcByte(keys[2], keys[1] >>> 24);
  };
  const stream = () => {
    const t = (keys[2] | 2) & 0xffff;
    return (Math.imul(t, t ^ 1) >>> 8) & 0xff;
  };
  for (const b of encoder.encode(password)) update(b);
  const header = new Uint8Array(12);
  for (let i = 0; i < 11; i++) header[i] = (i * 37 + 11) & 0xff;
  header[11] = member.crc >>> 24;
  const plain = concat([header, member.raw]);
  const out = new Uint8Array(plain.length);
  for (let i = 0; i < plain.length; i++) {
    out[i] = plain[i] ^ stream();
    update(plain[i]);
  }
  return { ...member, raw: out, flags: (member.flags ?? 0) | 1 };
}

/** One tar member. */
export interface TarMember {
  name: string;
  data?: Uint8Array | string;
  /** "0" file, "1" hard link, "2" symlink, "5" folder, "x" pax header. */
  type?: string;
  linkname?: string;
  /** Write this in the size field instead of the data's length. */
  size?: number;
}

function tarHeader(member: TarMember, size: number): Uint8Array {
  const header = new Uint8Array(512);
  const put = (text: string, offset: number, length: number) =>
    header.set(encoder.encode(text).subarray(0, length), offset);
  put(member.name, 0, 100);
  put("0000644\0", 100, 8);
  put("0000000\0", 108, 8);
  put("0000000\0", 116, 8);
  put(size.toString(8).padStart(11, "0") + "\0", 124, 12);
  put("00000000000\0", 136, 12);
  header[156] = (member.type ?? "0").charCodeAt(0);
  put(member.linkname ?? "", 157, 100);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  header.fill(0x20, 148, 156);
  const sum = header.reduce((a, b) => a + b, 0);
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  return header;
}

/** A ustar archive of `members`, with the two zero blocks at the end. */
export function tar(members: TarMember[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const member of members) {
    const data = typeof member.data === "string"
      ? encoder.encode(member.data)
      : member.data ?? new Uint8Array(0);
    parts.push(tarHeader(member, member.size ?? data.length));
    parts.push(data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  return concat(parts);
}

/** A pax extended header record (`"<len> key=value\n"`, the length counting itself). */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length++;
  return `${length}${body}`;
}

/**
 * A 42.zip-style nested bomb: `depth` levels of zips, each holding `width` copies of the level
 * below; the innermost holds `width` files of `leafSize` zero bytes. With the defaults it expands
 * to 16⁴ × 256 MiB = 16 TiB while being a few hundred KiB.
 */
export function nestedZipBomb(
  options: { depth?: number; width?: number; leafSize?: number } = {},
): Uint8Array {
  const { depth = 4, width = 16, leafSize = 256 * MiB } = options;
  const leaf = zeroDeflate(leafSize);
  const leafCrc = crc32Zeros(leafSize);
  let level = zip(
    Array.from({ length: width }, (_, i) => ({
      name: `${i}.bin`,
      raw: leaf,
      method: 8,
      crc: leafCrc,
      size: leafSize,
    })),
  );
  for (let d = 1; d < depth; d++) {
    const inner = zipMember("x", level);
    level = zip(Array.from({ length: width }, (_, i) => ({ ...inner, name: `${d}-${i}.zip` })));
  }
  return level;
}

/**
 * David Fifield's overlapping-entry zip bomb ("A better zip bomb", 2019), quoted variant: one
 * deflate kernel of `kernelSize` zero bytes shared by `count` members. Each member's local header
 * is quoted by the previous member's data as a non-final stored block, so member i inflates to the
 * headers of members i+1… followed by the kernel: the output grows with count² while the file
 * grows with count. CRCs are correct.
 */
export function overlappingZipBomb(
  options: { count?: number; kernelSize?: number } = {},
): Uint8Array {
  const { count = 250, kernelSize = 256 * 1024 } = options;
  const kernel = zeroDeflate(kernelSize);
  // Built back to front: member i's header states the CRC and sizes of what follows it.
  const members: ZipMember[] = new Array(count);
  const headers: Uint8Array[] = new Array(count);
  let packed = kernel.length;
  let size = kernelSize;
  for (let i = count - 1; i >= 0; i--) {
    let crc = 0;
    for (let j = i + 1; j < count; j++) crc = crc32(headers[j], crc);
    crc = crc32Zeros(kernelSize, crc);
    // `raw` only sets the stated compressed size; the bytes are laid out below.
    members[i] = {
      name: `f${String(i).padStart(4, "0")}`,
      raw: new Uint8Array(packed),
      method: 8,
      crc,
      size,
    };
    headers[i] = localHeader(members[i]);
    packed += 5 + headers[i].length;
    size += headers[i].length;
  }
  // Header 0, quote of header 1, header 1, quote of header 2, … header n-1, kernel.
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      const quote = storedBlockHeader(headers[i].length);
      parts.push(quote);
      offset += quote.length;
    }
    offsets.push(offset);
    parts.push(headers[i]);
    offset += headers[i].length;
  }
  parts.push(kernel);
  offset += kernel.length;
  const central = concat(members.map((member, i) => centralHeader(member, offsets[i])));
  return concat([
    ...parts,
    central,
    endOfCentralDirectory({ count, size: central.length, offset }),
  ]);
}

/** The 5-byte header of a non-final stored deflate block of `length` bytes. */
function storedBlockHeader(length: number): Uint8Array {
  return Uint8Array.of(0, length & 0xff, length >>> 8, ~length & 0xff, (~length >>> 8) & 0xff);
}

/** A gzip file of `members` concatenated members of `memberSize` zeros each (valid CRCs). */
export function gzipBomb(options: { members?: number; memberSize?: number } = {}): Uint8Array {
  const { members = 512, memberSize = 16 * MiB } = options;
  const one = gzipSync(new Uint8Array(memberSize), { level: 9 });
  return concat(Array.from({ length: members }, () => one));
}

/**
 * Python's `recursion.tar` (CVE-2019-20907): a pax header whose record says its length is 0, on
 * which Python's tarfile looped forever; here followed by a regular member.
 */
export function recursionTar(): Uint8Array {
  return tar([
    { name: "././@PaxHeader", type: "x", data: "0 path=loop\n" },
    { name: "after.txt", data: "still here" },
  ]);
}

/** A tar whose pax header gives a negative size, which would move a naive reader backwards. */
export function negativeSizeTar(): Uint8Array {
  return tar([
    { name: "././@PaxHeader", type: "x", data: paxRecord("size", "-1024") },
    { name: "back.txt", data: "x" },
  ]);
}
