#!/bin/sh
# Streaming writers through `cubie run`: a result written chunk by chunk is
# the same file as one written whole; a writer that cannot stream refuses,
# before solving, a result larger than host memory allows. TAP.
cubie=${CUBIE_BUILDDIR:-.}/cubie
src=${CUBIE_SRCDIR:-.}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cubie-streaming.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$src/t/tap.sh"

cat >"$tmp/m.ini" <<'INI'
[model]
states = x, y
parameters = k
[equations]
dx = -k * x
dy = x - y
[initial]
x = 1
y = 0
[parameters]
k = linspace(0.5, 3, 1000)
[solve]
integrator = tsit5
duration = 2
dt = 0.01
[output]
save_every = 0.25
save = x, y, steps
[device]
backend = cpu
INI

# csv: the same bytes whole (one chunk) and in chunks of 96 runs
check "csv in one chunk" 0 "$cubie" run "$tmp/m.ini" -q -o "$tmp/one.csv"
check "csv in chunks of 96 runs" 0 "$cubie" run "$tmp/m.ini" -q -o "$tmp/many.csv" \
	-s memory.chunk_runs=96
same "... the same file" "$tmp/one.csv" "$tmp/many.csv"
check "check shows the host memory of a streamed plan" 0 "$cubie" check "$tmp/m.ini" \
	-s "output.file=$tmp/c.csv" -s memory.chunk_runs=96
has "... staging buffers, not the whole result" "host memory: .*streams to the writer" "$tmp/out"

# npz: the same members whole and in chunks (the zip's times may differ)
check "npz in one chunk" 0 "$cubie" run "$tmp/m.ini" -q -o "$tmp/one.npz"
check "npz in chunks of 96 runs" 0 "$cubie" run "$tmp/m.ini" -q -o "$tmp/many.npz" \
	-s memory.chunk_runs=96
if command -v python3 >/dev/null 2>&1; then
	check "... the same members, with good CRCs (python zipfile)" 0 python3 -c '
import sys, zipfile
a, b = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2])
assert a.testzip() is None and b.testzip() is None
assert sorted(a.namelist()) == sorted(b.namelist())
for m in a.namelist():
    assert a.read(m) == b.read(m), m
' "$tmp/one.npz" "$tmp/many.npz"
else
	skip "no python3"
fi
ls "$tmp" >"$tmp/list"
if grep -q 'tmp-' "$tmp/list"; then fail "temporary files left"
else pass "no temporary file left"; fi

# a writer that cannot stream, and a result larger than host memory allows
avail=$(awk '/^MemAvailable:/ { print $2 * 1024 }' /proc/meminfo 2>/dev/null)
if [ -n "$avail" ]; then
	prop=$(awk -v a="$avail" 'BEGIN { printf "%.3g", 8192 / a }')
	check "npydir: a result larger than mem_proportion of host memory is refused" 2 \
		"$cubie" run "$tmp/m.ini" -o "$tmp/big.npy" -s "memory.mem_proportion=$prop"
	has "... before solving, saying why" "does not fit .* cannot stream" "$tmp/err"
	if [ -e "$tmp/big.npy" ]; then fail "... and writes nothing"
	else pass "... and writes nothing"; fi
	check "npz streams the same result in the same memory" 0 \
		"$cubie" run "$tmp/m.ini" -q -o "$tmp/big.npz" -s "memory.mem_proportion=$prop"
else
	for i in 1 2 3 4; do skip "no /proc/meminfo"; done
fi
done_testing
