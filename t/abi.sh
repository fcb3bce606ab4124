#!/bin/sh
# libcubie exports exactly the symbols listed in libcubie.sym (README.md,
# "Versioning"): an API change shows up here as a change to that list. TAP.
build=${CUBIE_BUILDDIR:-.}
src=${CUBIE_SRCDIR:-.}
lib=$build/.libs/libcubie.so
command -v nm >/dev/null 2>&1 || { echo "1..0 # SKIP no nm"; exit 0; }
[ -f "$lib" ] || { echo "1..0 # SKIP no $lib"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cubie-abi.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDRB]$/ { print $3 }' | sort >"$tmp/have"
sort "$src/libcubie.sym" >"$tmp/want"
echo "1..2"
if cmp -s "$tmp/have" "$tmp/want"; then echo "ok 1 - exported symbols = libcubie.sym"
else echo "not ok 1 - exported symbols = libcubie.sym"; diff "$tmp/want" "$tmp/have" | sed 's/^/# /'; fi
if grep -vq '^cubie_' "$tmp/have"; then echo "not ok 2 - every export starts with cubie_"
else echo "ok 2 - every export starts with cubie_"; fi
