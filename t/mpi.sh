#!/bin/sh
# MPI: `mpirun -n R cubie run` on the cpu backend writes the same file as
# one process, byte for byte (csv, npy; npz member by member, its zip
# times aside; h5 dataset by dataset), with chunked and failed runs; npy
# is written by every rank into its own runs (the writer's join), the
# others gathered to rank 0, also with several devices a rank; runs
# stopped by an event are no failures; a rank that cannot join the
# output, write into it or finish its part, or is killed mid-solve, fails
# the job and leaves no output. Skips when cubie was built without MPI or
# mpirun is missing. TAP.
build=$(cd "${CUBIE_BUILDDIR:-.}" && pwd)
src=${CUBIE_SRCDIR:-.}
cubie=$build/cubie
if ! grep -q '^#define HAVE_MPI 1' "$build/config.h" 2>/dev/null; then
	echo "1..0 # SKIP built without MPI (configure --with-mpi)"; exit 0
fi
command -v mpirun >/dev/null 2>&1 || { echo "1..0 # SKIP no mpirun"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cubie-mpi.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
# CI runs as root; Open MPI refuses that unless told. Its own allocations
# are not ours to report under a sanitized build.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export OMPI_MCA_rmaps_base_oversubscribe=1
to=; command -v timeout >/dev/null 2>&1 && to="timeout 120"
mpi() { # ranks, cubie arguments...
	r=$1; shift
	$to mpirun -n "$r" --oversubscribe "$cubie" "$@"
}
. "$src/t/tap.sh"
ok() { # description, command...: exits 0 ($tmp/out and $tmp/err untouched)
	desc=$1; shift
	if "$@" >/dev/null 2>&1; then pass "$desc"; else fail "$desc"; fi
}
no_output() { # name pattern: nothing in $tmp starts with it, nor a temporary beside it
	ls "$tmp" >"$tmp/list"
	if grep -q "^$1" "$tmp/list"; then fail "... and leaves no output, nor a temporary"; show "$tmp/list"
	else pass "... and leaves no output, nor a temporary"; fi
}
same_npz() {
	python3 -c '
import sys, zipfile
a, b = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2])
assert a.testzip() is None and b.testzip() is None
assert a.namelist() == b.namelist()
for m in a.namelist():
    assert a.read(m) == b.read(m), m
' "$1" "$2"
}

# Runs with k above about 0.5 blow up before t = 2: they fail (max_steps).
cat >"$tmp/m.ini" <<'INI'
[model]
states = x, y
parameters = k
[equations]
dx = k * x * x
dy = x - y
[initial]
x = 1
y = 0
[parameters]
k = linspace(0.1, 0.8, 120)
[solve]
integrator = tsit5
duration = 2
dt = 0.01
max_steps = 100
[output]
save_every = 0.5
save = x, y, steps
[device]
backend = cpu
[memory]
chunk_runs = 5
INI
# blocks of 7 runs: many blocks, each a few chunks
export CUBIE_MPI_BLOCK=7

check "serial csv (failed runs exit 1)" 1 "$cubie" run "$tmp/m.ini" -q -o "$tmp/s.csv"
check "serial npz" 1 "$cubie" run "$tmp/m.ini" -q -o "$tmp/s.npz"
check "serial npy" 1 "$cubie" run "$tmp/m.ini" -q -o "$tmp/s.npy"
check "1 rank: csv" 1 mpi 1 run "$tmp/m.ini" -q -o "$tmp/1.csv"
ok "... the serial file" cmp "$tmp/s.csv" "$tmp/1.csv"
check "2 ranks: csv" 1 mpi 2 run "$tmp/m.ini" -o "$tmp/2.csv"
ok "... the serial file" cmp "$tmp/s.csv" "$tmp/2.csv"
has "... rank 0 alone names the failed runs" "^cubie: run [0-9]* failed (x=1, y=0, k=" "$tmp/err"
if [ "$(grep -c 'runs in' "$tmp/err")" = 1 ]; then pass "... and reports once"
else fail "... and reports once"; show "$tmp/err"; fi
check "2 ranks: npy (every rank writes its runs: the writer's join)" 1 \
	mpi 2 run "$tmp/m.ini" -v -o "$tmp/2.npy"
has "... through the join path" "MPI: every rank writes its own runs into .*2\.npy\.tmp-.*npydir's join" "$tmp/err"
ok "... the serial files" diff -r "$tmp/s.npy" "$tmp/2.npy"
check "4 ranks: npy, with the chunks forced smaller" 1 mpi 4 run "$tmp/m.ini" -q \
	-o "$tmp/4.npy" -s memory.chunk_runs=2
ok "... the serial files" diff -r "$tmp/s.npy" "$tmp/4.npy"
CUBIE_TEST_CPU_DEVICES=3 check "2 ranks of 3 (cpu test) devices each: npy" 1 \
	mpi 2 run "$tmp/m.ini" -q -o "$tmp/2d.npy"
ok "... the serial files" diff -r "$tmp/s.npy" "$tmp/2d.npy"
check "2 ranks: csv under -v" 1 mpi 2 run "$tmp/m.ini" -v -o "$tmp/2v.csv"
has "... gathered to rank 0 (csv has no join)" "MPI: rank 0 writes every rank's runs (writer csv has no join)" "$tmp/err"
check "4 ranks: csv, with the chunks forced smaller" 1 mpi 4 run "$tmp/m.ini" -q \
	-o "$tmp/4.csv" -s memory.chunk_runs=2
ok "... the serial file" cmp "$tmp/s.csv" "$tmp/4.csv"
check "4 ranks: npz" 1 mpi 4 run "$tmp/m.ini" -q -o "$tmp/4.npz"
if command -v python3 >/dev/null 2>&1; then
	ok "... the serial members, with good CRCs" same_npz "$tmp/s.npz" "$tmp/4.npz"
else
	skip "no python3"
fi
# hdf5 (gathered to rank 0), read back through the HDF5 C API by
# test-hdf5 --dump: the same attributes, shapes and values
if [ -x "$build/t/test-hdf5" ]; then
	mkdir "$tmp/h1" "$tmp/h4" # one name for both: the settings attribute records it
	here=$(pwd)
	cd "$tmp/h1" && check "serial h5" 1 "$cubie" run ../m.ini -q -o out.h5
	cd "$tmp/h4" && check "4 ranks: h5" 1 mpi 4 run ../m.ini -q -o out.h5
	cd "$here" || exit 1
	"$build/t/test-hdf5" --dump "$tmp/h1/out.h5" >"$tmp/s.h5.txt" 2>&1
	"$build/t/test-hdf5" --dump "$tmp/h4/out.h5" >"$tmp/4.h5.txt" 2>&1
	has "... read back" '^dataset values' "$tmp/s.h5.txt"
	same "... the serial datasets and attributes" "$tmp/s.h5.txt" "$tmp/4.h5.txt"
else
	for i in 1 2 3 4; do skip "built without HDF5"; done
fi

# runs stopped by an event are no failures, on any rank
cat >"$tmp/stop.ini" <<'INI'
[model]
states = x, v
parameters = w
[equations]
dx = v
dv = -w^2 * x
[initial]
x = 1
v = 0
[parameters]
w = linspace(0.5, 3, 37)
[events]
zero = x
zero.direction = down
zero.action = stop
[solve]
integrator = rk45
duration = 4
[device]
backend = cpu
INI
check "2 ranks: runs stopped by an event" 0 mpi 2 run "$tmp/stop.ini" -o "$tmp/stop.npy"
has "... are not counted as failed" "37 runs in .*, 0 failed" "$tmp/err"

# a rank that cannot open the joined output, write its blocks or finish its
# part: the job fails, naming the rank, and leaves no output
fails_on() { # CUBIE_TEST_MPI_ variable, rank, description, message (grep), output name
	export "CUBIE_TEST_MPI_$1=$2"
	check "$3: the job fails" 3 mpi 2 run "$tmp/m.ini" -q -o "$tmp/$5.npy"
	unset "CUBIE_TEST_MPI_$1"
	has "... naming rank $2" "$4" "$tmp/err"
	no_output "$5\\.npy"
}
# (a worker names the block it was handed, where it had one by then)
fails_on JOIN_FAIL 1 "a worker rank cannot join the npy output" \
	"rank 1\(, runs \[[0-9]*, [0-9]*)\)*: writer npydir: cannot open .* (injected)" j
fails_on JOIN_FAIL 0 "rank 0 cannot join it" "rank 0: writer npydir: cannot open" j
fails_on CLOSE_FAIL 1 "a worker rank cannot finish its part of the npy output" \
	"rank 1: writer npydir: cannot finish the output (injected)" c
fails_on CLOSE_FAIL 0 "rank 0 cannot finish its part" \
	"rank 0: writer npydir: cannot finish the output (injected)" c
fails_on WRITE_FAIL 1 "a worker rank cannot write its blocks" \
	"rank 1, runs \[[0-9]*, [0-9]*): writer npydir: no space left (injected)" w
fails_on WRITE_FAIL 0 "rank 0 cannot write its blocks" \
	"rank 0, runs \[[0-9]*, [0-9]*): writer npydir: no space left (injected)" w

# a rank that dies mid-solve: the job fails, naming it, and writes nothing
CUBIE_MPI_BLOCK=2 CUBIE_TEST_MPI_KILL=1 check "a worker rank killed: the job fails" 137 \
	mpi 2 run "$tmp/m.ini" -q -o "$tmp/k.csv"
has "... naming the rank and its runs" "runs \[[0-9]*, [0-9]*) of rank 1 unfinished" "$tmp/err"
no_output 'k\.csv'
rm -rf "$tmp"/k.csv*
CUBIE_MPI_BLOCK=2 CUBIE_TEST_MPI_KILL=1 check "a worker rank killed during a joined npy job: the job fails" \
	137 mpi 2 run "$tmp/m.ini" -q -o "$tmp/k.npy"
no_output 'k\.npy'
CUBIE_MPI_BLOCK=2 CUBIE_TEST_MPI_KILL=0:2 check "rank 0 killed: the job fails" 137 \
	mpi 2 run "$tmp/m.ini" -q -o "$tmp/k.csv"
if [ -e "$tmp/k.csv" ]; then fail "... and leaves no output"
else pass "... and leaves no output"; fi
check "the next job writes it" 1 mpi 2 run "$tmp/m.ini" -q -o "$tmp/k.csv"
ok "... the serial file" cmp "$tmp/s.csv" "$tmp/k.csv"
ls "$tmp" >"$tmp/list"
if grep -q 'tmp-' "$tmp/list"; then fail "... removing the dead job's temporary"
else pass "... removing the dead job's temporary"; fi
done_testing
