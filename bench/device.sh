#!/bin/sh
# On the GPU machine: build the tarball from .dev/ (see device-prepare.sh),
# run the test suite (its CUDA tests run here), then the benchmark.
# Logs go to $OUT when set. CUBIE_BENCH picks the steps (default: spine
# adaptive pipeline); CUBIE_BENCH=sanitize runs the CUDA tests under
# compute-sanitizer's memcheck and racecheck instead.
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
make bench/lorenz-bench bench/pipeline-bench >/dev/null || exit 1
for b in ${CUBIE_BENCH:-spine adaptive pipeline}; do
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
	sanitize)
		# the tests' environment, as make check gives it
		san=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
		bad=0
		for tool in memcheck racecheck; do for t in t/test-cuda t/test-chunking; do
			log=$out/sanitize-$tool-${t#t/}.log
			CUBIE_CACHE_DIR=$PWD/t/cache CUBIE_SRCDIR=$PWD CUBIE_BUILDDIR=$PWD \
			CUBIE_SYSTEM_DEFAULTS= XDG_CONFIG_HOME=$PWD/t/no-xdg-config \
				"$san" --tool $tool --error-exitcode 99 --print-limit 20 ./$t >"$log" 2>&1
			st=$?
			summary=$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$log" | tail -1)
			if [ $st = 0 ] && ! grep -q '^not ok' "$log"; then
				echo "sanitize $tool $t: PASS (${summary:-no summary})"
			else
				echo "sanitize $tool $t: FAIL (exit $st; ${summary:-see $log})"; bad=1
			fi
		done; done
		echo "sanitize: $([ $bad = 0 ] && echo PASS || echo FAIL)" ;;
	esac
done
