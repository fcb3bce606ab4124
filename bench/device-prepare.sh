#!/bin/sh
# Here: make a release tarball and gather inih (which the GPU machine lacks)
# into .dev/, the folder the device tool carries. Then, on the GPU machine:
# sh bench/device.sh
# BUILD names a configured build directory (default: the source tree).
set -e
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$src}
cd "$build"
[ -f Makefile ] || { "$src"/bootstrap && "$src"/configure; }
rm -f cubie-*.tar.gz
make dist >/dev/null
rm -rf "$src/.dev" && mkdir -p "$src/.dev"
cp cubie-*.tar.gz "$src/.dev/"
cd "$src"
cp /usr/include/ini.h .dev/
for f in /usr/lib/x86_64-linux-gnu/libinih.so /usr/lib/x86_64-linux-gnu/libinih.so.[0-9]; do
	cp -L "$f" .dev/
done
ls .dev
