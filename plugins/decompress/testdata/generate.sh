#!/bin/sh
# Rebuild the decompress fixtures and expected.json (the golden member listing, from 7-Zip).
# Needs: zip, 7zz (Debian 7zip), tar, gzip, bzip2, xz, ar, dpkg-deb, gcab, genisoimage, bsdtar,
# python3. Run from anywhere: sh plugins/decompress/testdata/generate.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export TZ=UTC SOURCE_DATE_EPOCH=1700000000
mkdir -p src/dir
printf 'hello world\n' > src/hello.txt
seq 1 3000 > src/dir/numbers.txt
printf 'stoq' > "src/dir/$(printf 'long_name_%.0s' 1 2 3 4 5 6 7 8 9 10 11 12).txt"
find src -exec touch -d @1700000000 {} +
cd src
rm -f "$here"/*.zip "$here"/*.7z "$here"/*.tar* "$here"/*.gz "$here"/*.bz2 "$here"/*.xz \
  "$here"/*.a "$here"/*.deb "$here"/*.cab "$here"/*.cpio
zip -q -X -r "$here/plain.zip" hello.txt dir
zip -q -X -r -P infected "$here/zipcrypto.zip" hello.txt dir
7zz a -bd -tzip -mem=AES256 -pinfected "$here/aes256.zip" hello.txt dir/numbers.txt > /dev/null
7zz a -bd -tzip -mem=AES128 -ppassword "$here/aes128.zip" hello.txt > /dev/null
zip -q -X -P not-in-the-list "$here/unknown_password.zip" hello.txt
tar --format=gnu --sort=name --owner=0 --group=0 --mtime=@1700000000 -cf "$here/gnu.tar" hello.txt dir
tar --format=pax --sort=name --owner=0 --group=0 --mtime=@1700000000 -cf ../pax.tar hello.txt dir
gzip -9 -c ../pax.tar > "$here/pax.tar.gz"
bzip2 -9 -c ../pax.tar > "$here/pax.tar.bz2"
xz -9 -c ../pax.tar > "$here/pax.tar.xz"
7zz a -bd -t7z "$here/plain.7z" hello.txt dir > /dev/null
7zz a -bd -t7z -mhe=on -pinfected "$here/encrypted_headers.7z" hello.txt dir > /dev/null
ar rcD "$here/plain.a" hello.txt dir/numbers.txt
gcab -c "$here/plain.cab" hello.txt dir/numbers.txt
find hello.txt dir | bsdtar -n --format newc -cf "$here/plain.cpio" -T -
genisoimage -quiet -R -J -o ../plain.iso .
gzip -9 -n -c ../plain.iso > "$here/plain.iso.gz"
mkdir -p ../pkg/DEBIAN ../pkg/usr/share/doc/stoq-fixture
printf 'Package: stoq-fixture\nVersion: 1.0\nArchitecture: all\nMaintainer: stoq <stoq@example.invalid>\nDescription: fixture\n' > ../pkg/DEBIAN/control
cp hello.txt ../pkg/usr/share/doc/stoq-fixture/
dpkg-deb --root-owner-group -Zgzip --build ../pkg "$here/plain.deb" > /dev/null
cd "$here"
cp "$work/plain.iso" "$work/plain.iso.listed"
python3 - "$work" <<'PY'
import json, os, subprocess, sys
work = sys.argv[1]
out = {"tool": subprocess.run(["7zz"], capture_output=True, text=True).stdout.strip().splitlines()[0], "archives": {}}
files = sorted(f for f in os.listdir(".") if f.split(".")[-1] in ("zip", "7z", "tar", "gz", "bz2", "xz", "a", "deb", "cab", "cpio"))
for name in files:
    path = name
    if name == "plain.iso.gz":
        path = os.path.join(work, "plain.iso")  # listed as the ISO it holds
    password = {"zipcrypto.zip": "infected", "aes256.zip": "infected", "aes128.zip": "password", "encrypted_headers.7z": "infected"}.get(name, "x")
    kind = ["-tar"] if name.endswith(".deb") else []  # the ar layer, not 7-Zip's deb shortcut
    text = subprocess.run(["7zz", "l", "-slt", "-p" + password, *kind, path], capture_output=True, text=True).stdout
    members, block, started = [], {}, False
    for line in text.splitlines() + [""]:
        if line.startswith("----------"):
            started = True
            continue
        if not started:
            continue
        if not line.strip():
            if "Path" not in block and "Size" in block:
                block["Path"] = name.rsplit(".", 1)[0]  # single-stream: 7-Zip names it so
            if "Path" in block and block.get("Folder") != "+" and not block.get("Attributes", "").startswith("D"):
                members.append({"path": block["Path"], "size": int(block["Size"]) if block.get("Size") else None})
            block = {}
        elif " = " in line:
            key, value = line.split(" = ", 1)
            block[key] = value
    out["archives"][name] = sorted(members, key=lambda m: m["path"])
with open("expected.json", "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
PY
