#!/bin/sh
# Every examples/*.ini runs, on the cpu backend, so that none rots. An
# example too big for a test names smaller settings in comment lines
#   ; make check: -s 'parameters.rho=linspace(0, 21, 64)'
# whose words (shell quoting applies) are added to its command line. TAP.
cubie=${CUBIE_BUILDDIR:-.}/cubie
src=${CUBIE_SRCDIR:-.}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cubie-examples.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
CUBIE_SYSTEM_DEFAULTS=
XDG_CONFIG_HOME=$tmp/no-config
export CUBIE_SYSTEM_DEFAULTS XDG_CONFIG_HOME

n=0 failed=0
for ini in "$src"/examples/*.ini; do
	[ -f "$ini" ] || continue
	name=${ini##*/}
	name=${name%.ini}
	# the output goes here, never beside the example (srcdir may be read-only)
	ext=$(sed -n 's/^file *= *[^;]*\.\([A-Za-z0-9]*\) *\(;.*\)\{0,1\}$/\1/p' "$ini" | head -n 1)
	out=$tmp/$name.${ext:-npy}
	extra=$(sed -n 's/^; *make check: *//p' "$ini")
	n=$((n + 1))
	# $extra is split into words on purpose
	if eval "\"\$cubie\" run \"\$ini\" -q -s device.backend=cpu -o \"\$out\" $extra" \
		>"$tmp/out" 2>"$tmp/err" && [ -e "$out" ]; then
		echo "ok $n - examples/$name.ini runs"
	else
		echo "not ok $n - examples/$name.ini runs"
		sed 's/^/# /' "$tmp/err"
		failed=1
	fi
done
if [ "$n" = 0 ]; then
	echo "1..0 # SKIP no examples/*.ini in $src"
	exit 0
fi
echo "1..$n"
exit $failed
