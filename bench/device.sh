#!/bin/sh
# On the GPU machine: build the tarball from .dev/ (see device-prepare.sh),
# run the test suite (its CUDA tests run here), then the benchmark.
# Logs go to $OUT when set.
set -u
dev=$(cd "$(dirname "$0")/.." && pwd)/.dev
out=${OUT:-/tmp}
work=$(mktemp -d)
cd "$work" && tar xf "$dev"/cubie-*.tar.gz && cd cubie-*/ || exit 1
export LD_LIBRARY_PATH=$dev${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
{ ./configure INIH_CFLAGS="-I$dev" INIH_LIBS="-L$dev -linih" && make -j"$(nproc)"; } \
	>"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
make -j"$(nproc)" check >"$out/check.log" 2>&1; rc=$?
cp test-suite.log t/*.log "$out"/ 2>/dev/null
grep -E '^(PASS|FAIL|SKIP|ERROR|XFAIL|XPASS|# )' "$out/check.log" | grep -v '^# ' ; grep -h -E '^(not ok|# )' t/*.log | head -40
echo "make check: exit $rc"
./cubie run examples/lorenz.ini -v -o "$work/lorenz.npy" 2>&1 | tail -3
export CUBIE_PLUGIN_PATH=$PWD/plugin-dir
make bench/lorenz-bench bench/pipeline-bench bench/stiff-bench >/dev/null || exit 1
for b in ${CUBIE_BENCH:-spine adaptive pipeline stiff}; do
	echo "== $b"
	case $b in
	spine) ./bench/lorenz-bench bench/lorenz.ini 20 22 ;;
	adaptive)
		for m in dormand_prince_54 tsit5; do for tol in 1e-6 1e-8; do
			echo "-- $m atol = rtol = $tol"
			./bench/lorenz-bench bench/lorenz.ini 20 22 -s solve.integrator=$m \
				-s solve.atol=$tol -s solve.rtol=$tol | grep '^N ='
		done; done ;;
	pipeline) for c in 8 16; do ./bench/pipeline-bench bench/lorenz.ini 22 $c; done ;;
	stiff) ./bench/stiff-bench bench/robertson.ini 14 16 20 ;;
	esac
done
