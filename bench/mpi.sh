#!/bin/sh
# Issue 14's benchmark, on the two-GPU machine from a built tree (configure
# found MPI; run it as `sh bench/mpi.sh [DIR]`, or through bench/device.sh
# as CUBIE_BENCH=mpi): Lorenz rk4 float32 final state, and
# dormand_prince_54 at atol = rtol = 1e-6, 2^24 runs each, written to .npz
# (CUBIE_MPI_FORMAT=npy: to .npy, which every rank writes itself) in DIR, by one process on one GPU, by two MPI ranks (one GPU each) and,
# where the build has it, by one process on both GPUs ([device] gpu = all).
# Prints the walls (end to end: setup, solve, gather, write), the speedups,
# and whether the files hold the same arrays, and under each rank run where
# its ranks' time went (cubie run -v). CUBIE_MPI_CASES picks among rk4,
# dormand_prince_54 and rk4-long (default: all three). Arguments after DIR are
# added to every run (-s device.backend=cpu tries the script on a CPU).
set -u
work=${1:-$(mktemp -d)}
[ $# -gt 0 ] && shift
extra="$*" # more -s settings for every run (e.g. -s device.backend=cpu to try it)
cubie=./cubie
n=${CUBIE_MPI_LOG2N:-24}
runs=$((1 << n))
ext=${CUBIE_MPI_FORMAT:-npz}
export CUBIE_PLUGIN_PATH=${CUBIE_PLUGIN_PATH:-$PWD/plugin-dir}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
grep -q '^#define HAVE_MPI 1' config.h || { echo "built without MPI: nothing to compare"; exit 1; }
nvidia-smi --query-gpu=index,name --format=csv,noheader 2>/dev/null
wall() { # label, command...: the wall of the command in seconds
	label=$1; shift
	t0=$(date +%s.%N)
	"$@" >"$work/log" 2>&1 || { echo "$label: failed"; tail -5 "$work/log"; return 1; }
	t1=$(date +%s.%N)
	w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	printf '%-26s %7.2f s wall; %s; %s\n' "$label" "$w" \
		"$(grep -o 'setup [0-9.]* ms, solve and write [0-9.]* ms' "$work/log" | head -1)" \
		"$(grep -o 'runs in [0-9.]* s' "$work/log" | head -1)"
	# where each rank's time went, block by block
	grep -o -E '(MPI: rank|solve: (setup|wall)).*' "$work/log" | sed 's/^/  /'
	echo "$w" >"$work/wall"
	grep -o 'solve and write [0-9.]*' "$work/log" | head -1 | awk '{ print $4 }' >"$work/sw"
}
ratio() { # one process's wall and solve-and-write, against the last command's
	awk -v a="$1" -v b="$(cat "$work/wall")" -v c="$2" -v d="$(cat "$work/sw")" \
		'BEGIN { printf "%.2fx wall, %.2fx solve and write", a / b, (d > 0 ? c / d : 0) }'
}
same() { # two outputs: npy directories byte for byte, npz member by member
	if [ "$ext" = npy ]; then
		diff -rq "$1" "$2" >/dev/null && echo "same arrays" || echo "DIFFERENT"
		return
	fi
	python3 -c '
import sys, zipfile
a, b = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2])
print("same arrays" if all(a.read(m) == b.read(m) for m in a.namelist()) else "DIFFERENT")
' "$1" "$2"
}
# the issue's two cases, then rk4 over 100 time units (100x the steps): a
# 2^24-run solve of the first two takes tens of ms on one H200, so that
# their walls are mostly start-up and writing; the third is solve-bound.
for m in ${CUBIE_MPI_CASES:-rk4 dormand_prince_54 rk4-long}; do
	# shellcheck disable=SC2086
	set -- $extra -s "parameters.rho=linspace(0, 21, $runs)" -s solve.integrator=${m%-long}
	[ $m = dormand_prince_54 ] && set -- "$@" -s solve.atol=1e-6 -s solve.rtol=1e-6
	[ $m = rk4-long ] && set -- "$@" -s solve.duration=100
	echo "== $m, 2^$n runs"
	# the kernels into the cache (a rank's may differ: cpu threads)
	$cubie run bench/lorenz.ini "$@" -q -s "parameters.rho=linspace(0, 21, 4096)" -o "$work/warm.$ext"
	mpirun -n 2 $cubie run bench/lorenz.ini "$@" -q -s "parameters.rho=linspace(0, 21, 4096)" \
		-o "$work/warm.$ext"
	wall "one process, one GPU" $cubie run bench/lorenz.ini "$@" -v -o "$work/one.$ext" || continue
	w1=$(cat "$work/wall") s1=$(cat "$work/sw")
	if wall "two ranks, one GPU each" mpirun -n 2 $cubie run bench/lorenz.ini "$@" \
		-v -o "$work/mpi.$ext"; then
		echo "  speedup $(ratio "$w1" "$s1"); $(same "$work/one.$ext" "$work/mpi.$ext")"
	fi
	if $cubie check bench/lorenz.ini -q -s device.gpu=all >/dev/null 2>&1 &&
		wall "one process, both GPUs" $cubie run bench/lorenz.ini "$@" -s device.gpu=all \
			-v -o "$work/two.$ext"; then
		echo "  speedup $(ratio "$w1" "$s1"); $(same "$work/one.$ext" "$work/two.$ext")"
	fi
	rm -rf "$work"/*."$ext"
done
