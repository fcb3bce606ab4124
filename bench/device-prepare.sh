#!/bin/sh
# Here: make a release tarball and gather inih (which the GPU machine lacks)
# into .dev/, the folder the device tool carries. Then, on the GPU machine:
# sh bench/device.sh
set -e
cd "$(dirname "$0")/.."
[ -f Makefile ] || { ./bootstrap && ./configure; }
make dist >/dev/null
rm -rf .dev && mkdir -p .dev
cp cubie-*.tar.gz .dev/
cp /usr/include/ini.h .dev/
for f in /usr/lib/x86_64-linux-gnu/libinih.so /usr/lib/x86_64-linux-gnu/libinih.so.[0-9]; do
	cp -L "$f" .dev/
done
ls .dev
