#!/bin/sh
# The cpu backend's speed rests on its lane loops vectorizing (lanes.h):
# one && among the adaptive step's selects once left them scalar, 10x
# slower, with every result still right. With GCC, the kept kernel source
# is compiled with the backend's flags (backend_cpu.c) and GCC's report
# must show a vectorized loop inside the lane function. TAP.
cubie=${CUBIE_BUILDDIR:-.}/cubie
src=${CUBIE_SRCDIR:-.}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cubie-vectorize.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$src/t/tap.sh"
cc=${CUBIE_TEST_CC:-cc}
if ! $cc -v 2>&1 | grep -q '^gcc version'; then
	skip "$cc is not GCC (its vectorizer report is what is read)"
	done_testing
fi

# lane function, then cubie check's overrides
vectorized() {
	fn=$1; shift
	rm -rf "$tmp/cache"
	if ! CUBIE_KEEP_SOURCE=1 CUBIE_CACHE_DIR="$tmp/cache" "$cubie" check \
		"$src/bench/lorenz.ini" --backend cpu "$@" >"$tmp/out" 2>&1; then
		fail "$fn: the kernel builds ($*)"; show "$tmp/out"; return
	fi
	k=$(ls "$tmp"/cache/kernel-*.c)
	$cc -O3 -march=native -fno-math-errno -fno-trapping-math -fopenmp -fPIC -shared \
		-fopt-info-vec-optimized -o "$tmp/k.so" "$k" 2>"$tmp/vec"
	# the report's lines are the source's after its #line "cubie-kernel"
	from=$(grep -n "^CUBIE_DEV [a-z ]*$fn(" "$k" | head -1 | cut -d: -f1)
	to=$(awk -v f="$from" 'NR > f && /^CUBIE_DEV /{print NR; exit}' "$k")
	base=$(grep -n '^#line [0-9]* "cubie-kernel"' "$k" | tail -1)
	at=${base%%:*} first=$(echo "$base" | cut -d' ' -f2)
	hit=$(sed -n 's/^cubie-kernel:\([0-9]*\):[0-9]*: optimized: loop vectorized.*/\1/p' "$tmp/vec" |
		awk -v o=$((at + 1 - first)) -v a="$from" -v b="$to" '$1 + o >= a && $1 + o < b' | head -1)
	if [ -n "$hit" ]; then pass "$fn: its lane loop vectorizes ($*)"
	else fail "$fn: its lane loop vectorizes ($*)"; grep -i "cubie-kernel" "$tmp/vec" | show; fi
}
# the adaptive lane, where every update must stay a select (adaptive.h);
# GCC places the lane loop at its body's first statement, in the function
for p in float32 float64; do
	vectorized cubie_adaptive_lane -s solve.precision=$p -s solve.integrator=dormand_prince_54 \
		-s solve.atol=1e-6 -s solve.rtol=1e-6
done
vectorized cubie_adaptive_lane -s solve.precision=float64 -s solve.integrator=dormand_prince_853 \
	-s solve.atol=1e-8 -s solve.rtol=1e-8
done_testing
