#!/bin/sh
# Rebuilds libmagic.wasm and magic.mgc.gz next to this script: Debian bookworm's libmagic 5.44
# (source package file 1:5.44-3, with Debian's patches) for wasm32-wasi, with gnulib's regular
# expressions (glibc's engine, as Debian's `file` uses) instead of wasi-libc's (musl's TRE), and
# Debian's compiled magic database (libmagic-mgc 1:5.44-3). Two patches of stoq's on top,
# skip-continuations.patch and fail-early.patch, make match() and magiccheck() faster without
# changing an answer.
#
# Run as root on Debian bookworm: `sh plugins/mimetype/libmagic/build.sh`. It installs the
# toolchain with apt-get (adding a deb-src entry for `apt-get source`), builds in a temporary
# folder, and prints the SHA-256 of both outputs; README.md records the committed ones.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
FILE_VERSION=1:5.44-3

if [ ! -e /etc/apt/sources.list.d/stoq-src.sources ]; then
  cat > /etc/apt/sources.list.d/stoq-src.sources <<'SOURCES'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  clang-14 lld-14 llvm-14 wasi-libc libclang-rt-14-dev-wasm32 gnulib autoconf automake \
  autotools-dev dpkg-dev make patch >/dev/null

cd "$work"
apt-get source -qq "file=$FILE_VERSION" >/dev/null 2>&1
apt-get download -qq "libmagic-mgc=$FILE_VERSION"
dpkg-deb -x libmagic-mgc_*.deb mgc
src=$(ls -d "$work"/file-5.44)
for name in skip-continuations fail-early; do
  patch -s -p1 -d "$src" < "$here/$name.patch"
done

cc="clang-14 --target=wasm32-wasi"
# No signals, process clocks or mmap in WASI; libmagic's code that would use them is never reached
# by magic_buffer(), but it has to compile.
wasi="-D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_MMAN"
# Bulk memory: memcpy() and memset() become single instructions the engine runs natively, instead
# of wasi-libc's loops (libmagic copies and clears small structures for every test). With it, clang
# 14 keeps thread-local variables (errno) as TLS, which it supports only as local-exec.
cflags="-O2 -mbulk-memory -ftls-model=local-exec $wasi -ffile-prefix-map=$work=."
libs="-lwasi-emulated-signal -lwasi-emulated-process-clocks -lwasi-emulated-mman"

# gnulib's regex module, configured for wasm32-wasi.
gnulib-tool --create-testdir --dir="$work/gl" --without-tests --single-configure regex >/dev/null 2>&1
cp /usr/share/misc/config.sub "$work/gl/build-aux/config.sub"
(cd "$work/gl" && CC="$cc" CFLAGS="$cflags" LDFLAGS="$libs" \
  ./configure -q --host=wasm32-unknown-wasi --disable-threads &&
  make -s -C gllib >/dev/null 2>&1)
llvm-ranlib-14 "$work/gl/gllib/libgnu.a"
# glregex.h repeats what gnulib's configure decided; stop if it decided otherwise.
for define in "_REGEX_LARGE_OFFSETS 1" "_REGEX_INCLUDE_LIMITS_H 1" "regcomp rpl_regcomp" \
  "regexec rpl_regexec" "regerror rpl_regerror" "regfree rpl_regfree"; do
  grep -q "^#define $define\$" "$work/gl/config.h" || { echo "gnulib config.h lacks: $define" >&2; exit 1; }
done
mkdir -p "$work/inc"
cp "$work/gl/gllib/regex.h" "$work/inc/regex.h"

# libmagic: its configure writes config.h; the sources are compiled here, without fsmagic.c
# (stat() of paths, which a buffer scan never does; stubs.c stands in).
cp /usr/share/misc/config.sub "$src/config.sub"
(cd "$src" && CC="$cc" CFLAGS="$cflags" ./configure -q --host=wasm32-unknown-wasi \
  --disable-shared --enable-static --disable-zlib --disable-bzlib --disable-xzlib \
  --disable-zstdlib --disable-lzlib --disable-libseccomp >/dev/null)
objects=""
for name in apprentice apptype ascmagic buffer cdf cdf_time compress der encoding fmtcheck funcs \
  is_csv is_json is_tar magic print readcdf readelf softmagic; do
  $cc $cflags -DHAVE_CONFIG_H -I"$work/inc" -include "$here/glregex.h" -I"$src" -I"$src/src" \
    -w -c "$src/src/$name.c" -o "$work/$name.o"
  objects="$objects $work/$name.o"
done
$cc $cflags -I"$src/src" -c "$here/glue.c" -o "$work/glue.o"
$cc $cflags -c "$here/stubs.c" -o "$work/stubs.o"
# shellcheck disable=SC2086
$cc -mexec-model=reactor -O2 -Wl,--strip-debug $objects "$work/glue.o" "$work/stubs.o" \
  "$work/gl/gllib/libgnu.a" $libs -o "$here/libmagic.wasm"

gzip -9 -n -c "$work/mgc/usr/lib/file/magic.mgc" > "$here/magic.mgc.gz"
cp "$src/COPYING" "$here/COPYING.libmagic"
cp /usr/share/common-licenses/LGPL-2.1 "$here/COPYING.LGPL-2.1"
cd "$here" && sha256sum libmagic.wasm magic.mgc.gz
