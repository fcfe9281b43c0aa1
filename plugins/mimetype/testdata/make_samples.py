#!/usr/bin/env python3
"""Build the small committed samples of the mimetype golden test (deterministic where the tools allow).

Run from this folder: python3 make_samples.py   (needs 7zz and zstd; Debian bookworm)
Then record the expectations: deno run -A regenerate.ts
"""
import sqlite3, base64, bz2, gzip, io, lzma, os, struct, subprocess, tarfile, tempfile, zipfile, zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "samples")
os.makedirs(OUT, exist_ok=True)
TEXT = b"The quick brown fox jumps over the lazy dog.\n" * 20
FIXED = (2021, 6, 28, 12, 0, 0)


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def zip_of(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, FIXED)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


def tar_of(entries, fmt=tarfile.USTAR_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1624881600, 0o644
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def ar_of(entries):
    out = b"!<arch>\n"
    for name, data in entries:
        out += b"%-16s%-12d%-6d%-6d%-8s%-10d`\n" % (name.encode(), 1624881600, 0, 0, b"100644", len(data))
        out += data + (b"\n" if len(data) % 2 else b"")
    return out


write("text.txt", TEXT)
write("empty.bin", b"")
write("one-byte.bin", b"\x00")
write("zeros.bin", bytes(4096))
write("random.bin", bytes((i * 7919 + (i >> 3) * 31) & 0xFF for i in range(2048)))
write("utf8.txt", "Grüße aus Köln – naïve café ☕\n".encode() * 10)
write("utf16.txt", "\ufeffHello UTF-16 world\r\n".encode("utf-16-le") * 10)
write("page.html", b"<!DOCTYPE html>\n<html><head><title>t</title></head><body><p>hi</p></body></html>\n")
write("doc.xml", b'<?xml version="1.0" encoding="UTF-8"?>\n<root><item a="1">x</item></root>\n')
write("data.json", b'{"name": "stoq", "plugins": ["hash", "yara"], "version": 3}\n')
write("script.sh", b"#!/bin/sh\nset -e\necho hello\nexit 0\n")
write("script.py", b"#!/usr/bin/env python3\nimport sys\nprint(sys.argv)\n")
write("script.pl", b"#!/usr/bin/perl\nuse strict;\nprint \"hi\\n\";\n")
# Text that libmagic names by a regex test: JavaScript and Ruby (case-sensitive tests that need a
# word such as "exports" or "require"), a Windows autorun file (a case-insensitive test for
# "autorun", here "AutoRun"), and text that holds such a word without matching.
write("script.js", b"const x = 1;\nmodule.exports = { x };\n")
write("script.rb", b"require 'json'\n\ndef hello\n  puts JSON.generate([1])\nend\n")
write("autorun.inf", b"[AutoRun]\r\nopen=setup.exe\r\nicon=setup.exe,0\r\n")
write("words.txt", b"The module exports nothing; require no typeof here, the end.\n")
# A search test with a flag that folds case: "Start Component" with /C matches upper-case letters of
# the string in either case, and no "C" is in these bytes.
write("dmi.mif", b'start component\r\n  name = "monitor"\r\nend component\r\n')
write("doc.rtf", b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}}\\f0 Hello}\n")
write("mail.eml", b"Return-Path: <a@example.com>\nReceived: from mx.example.com by mx2.example.com\n"
      b"From: Alice <a@example.com>\nTo: Bob <b@example.org>\nSubject: hello\nDate: Mon, 28 Jun 2021 12:00:00 +0000\n"
      b"Message-ID: <1@example.com>\nMIME-Version: 1.0\nContent-Type: text/plain\n\nHi Bob\n")
write("b64.txt", base64.encodebytes(bytes(range(256)) * 3))
write("pdf.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
      b"trailer << /Root 1 0 R >>\n%%EOF\n")
write("data.gz", gzip.compress(TEXT, mtime=0))
write("data.bz2", bz2.compress(TEXT))
write("data.xz", lzma.compress(TEXT, format=lzma.FORMAT_XZ))
write("data.lzma", lzma.compress(TEXT, format=lzma.FORMAT_ALONE))
write("data.zlib", zlib.compress(TEXT))
write("archive.zip", zip_of([("a.txt", TEXT), ("dir/b.txt", b"second\n")]))
write("archive.tar", tar_of([("a.txt", TEXT)]))
write("archive-gnu.tar", tar_of([("a.txt", TEXT)], tarfile.GNU_FORMAT))
write("archive.ar", ar_of([("a.txt/", TEXT)]))
write("package.deb", ar_of([("debian-binary", b"2.0\n"), ("control.tar.gz", gzip.compress(tar_of([("control", b"Package: x\n")]), mtime=0)),
                            ("data.tar.gz", gzip.compress(tar_of([("a.txt", TEXT)]), mtime=0))]))
write("docx.docx", zip_of([
    ("[Content_Types].xml", b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'),
    ("_rels/.rels", b'<?xml version="1.0"?><Relationships/>'),
    ("word/document.xml", b'<?xml version="1.0"?><w:document/>')]))
write("jar.jar", zip_of([("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\n\r\n"), ("A.class", b"\xca\xfe\xba\xbe\x00\x00\x00\x34")]))
write("odt.odt", b"PK\x03\x04" + b"\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00" + struct.pack("<III", zlib.crc32(b"application/vnd.oasis.opendocument.text"), 39, 39)
      + struct.pack("<HH", 8, 0) + b"mimetype" + b"application/vnd.oasis.opendocument.text")
png_raw = b"".join(b"\x00" + bytes(sum(([x * 16, y * 16, 128] for x in range(8)), [])) for y in range(8))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
write("image.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(png_raw)) + chunk(b"IEND", b""))
write("image.gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
write("image.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\xff\xdb\x00\x43\x00" + bytes(64) + b"\xff\xd9")
write("image.bmp", b"BM" + struct.pack("<IHHI", 58, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 1, 1, 1, 24, 0, 4, 2835, 2835, 0, 0) + b"\x00\x00\xff\x00")
# Executables: synthetic headers, enough for libmagic.
pe = bytearray(512)
pe[0:2] = b"MZ"; struct.pack_into("<I", pe, 0x3C, 0x80)
pe[0x80:0x84] = b"PE\x00\x00"
struct.pack_into("<HHIIIHH", pe, 0x84, 0x14C, 1, 0, 0, 0, 0xE0, 0x0102)
struct.pack_into("<H", pe, 0x98, 0x10B)
struct.pack_into("<H", pe, 0x98 + 68, 2)  # subsystem: GUI
write("pe32.exe", bytes(pe))
dll = bytearray(pe); struct.pack_into("<H", dll, 0x84 + 18, 0x2102)
write("pe32.dll", bytes(dll))
def elf(e_type, pie=False):
    # 64-bit little-endian x86-64 with one PT_LOAD and, for "pie", a PT_DYNAMIC holding DT_FLAGS_1 = DF_1_PIE.
    phnum = 2 if pie else 1
    h = bytearray(64 + 56 * phnum + 32)
    h[0:4] = b"\x7fELF"; h[4] = 2; h[5] = 1; h[6] = 1
    struct.pack_into("<HHIQQQIHHHHHH", h, 16, e_type, 62, 1, 0x1000, 64, 0, 0, 64, 56, phnum, 64, 0, 0)
    struct.pack_into("<IIQQQQQQ", h, 64, 1, 5, 0, 0, 0, len(h), len(h), 0x1000)
    if pie:
        dyn = 64 + 56 * phnum
        struct.pack_into("<IIQQQQQQ", h, 64 + 56, 2, 6, dyn, dyn, dyn, 32, 32, 8)
        struct.pack_into("<QQQQ", h, dyn, 0x6FFFFFFB, 0x08000000, 0, 0)
    return bytes(h)
write("elf-exec", elf(2))
write("elf-dyn", elf(3))
write("elf-pie", elf(3, pie=True))
write("elf-rel.o", elf(1))
write("elf-core", elf(4))
write("macho", struct.pack("<IiiIIII", 0xFEEDFACF, 0x01000007, 3, 2, 0, 0, 0) + bytes(100))
write("java.class", b"\xca\xfe\xba\xbe\x00\x00\x00\x34\x00\x0a" + bytes(60))
write("ole.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<HHH", 0x3E, 3, 0xFFFE) + struct.pack("<H", 9) + bytes(512 - 32))
write("cab.cab", b"MSCF\x00\x00\x00\x00" + struct.pack("<I", 100) + bytes(4) + struct.pack("<I", 44) + bytes(4) + b"\x03\x01\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00" + bytes(60))
write("rar.rar", b"Rar!\x1a\x07\x00" + b"\xcf\x90\x73\x00\x00\x0d\x00\x00\x00\x00\x00\x00\x00" + bytes(40))
write("rar5.rar", b"Rar!\x1a\x07\x01\x00" + bytes(40))
write("cws.swf", b"CWS\x0a" + struct.pack("<I", 1000) + zlib.compress(bytes(100)))
write("data.zst", subprocess.run(["zstd", "-q", "-c", "--no-check"], input=TEXT, capture_output=True, check=True).stdout)
write("data.Z", b"\x1f\x9d\x90" + bytes(40))
write("data.cpio", b"070701" + b"0" * 104 + b"TRAILER!!!\x00" + bytes(12))
write("data.rpm", b"\xed\xab\xee\xdb\x03\x00\x00\x00\x00\x01" + b"name-1.0-1".ljust(66, b"\x00") + b"\x00\x01\x00\x05" + bytes(16))
write("lnk.lnk", b"L\x00\x00\x00\x01\x14\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00F" + bytes(56))
db = sqlite3.connect(":memory:"); db.execute("create table t (a text)"); db.commit()
write("sqlite.db", db.serialize())
pvd = b"\x01CD001\x01\x00" + b"LINUX".ljust(32) + b"STOQ".ljust(32) + bytes(2048 - 72)
write("image.iso", bytes(32768) + pvd + b"\xffCD001\x01" + bytes(2041))
write("wasm.wasm", b"\x00asm\x01\x00\x00\x00")

with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(tmp, "a.txt")
    with open(src, "wb") as f:
        f.write(TEXT)
    os.utime(src, (1624881600, 1624881600))
    target = os.path.join(tmp, "archive.7z")
    subprocess.run(["7zz", "a", "-bd", "-mtm=off", "-mtc=off", "-mta=off", target, src], check=True, capture_output=True)
    write("archive.7z", open(target, "rb").read())

