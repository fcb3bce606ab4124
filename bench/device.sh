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
if [ "${CUBIE_CHECK:-1}" = 1 ]; then # CUBIE_CHECK=0: benchmarks only
	# CUBIE_CHECK_TESTS="t/test-a t/test-b": those tests only
	make -j"$(nproc)" check ${CUBIE_CHECK_TESTS:+TESTS="$CUBIE_CHECK_TESTS"} >"$out/check.log" 2>&1; rc=$?
	cp test-suite.log "$out"/ 2>/dev/null
	grep -E '^(PASS|FAIL|SKIP|ERROR|XFAIL|XPASS|# )' "$out/check.log" | grep -v '^# ' ; grep -h -E '^(not ok|# )' t/*.log | head -40
	echo "make check: exit $rc"
	# the test that fills the GPU's memory, alone
	CUBIE_TEST_GPU_ALONE=1 make check TESTS=t/test-chunking >/dev/null 2>&1
	grep -h -E '^(not ok|ok .*(crowd|occupied))' t/test-chunking.log
fi
./cubie run examples/lorenz.ini -v -o "$work/lorenz.npy" 2>&1 | tail -3
export CUBIE_PLUGIN_PATH=$PWD/plugin-dir
make bench/lorenz-bench bench/pipeline-bench bench/stiff-bench bench/cpu-bench >/dev/null || exit 1
for b in ${CUBIE_BENCH:-spine adaptive pipeline stiff cpu}; do
	echo "== $b"
	case $b in
	spine) ./bench/lorenz-bench bench/lorenz.ini 20 22
		echo "-- one stream, one chunk (kernel time without concurrent chunks)"
		./bench/lorenz-bench bench/lorenz.ini 20 22 -s memory.streams=1 | grep '^N =' ;;
	adaptive)
		for m in dormand_prince_54 tsit5; do for tol in 1e-6 1e-8; do
			echo "-- $m atol = rtol = $tol"
			./bench/lorenz-bench bench/lorenz.ini 20 22 -s solve.integrator=$m \
				-s solve.atol=$tol -s solve.rtol=$tol | grep '^N ='
			echo "-- ... one stream"
			./bench/lorenz-bench bench/lorenz.ini 20 22 -s solve.integrator=$m \
				-s solve.atol=$tol -s solve.rtol=$tol -s memory.streams=1 | grep '^N ='
		done; done ;;
	adaptive64) # float64, the default precision: kernels at one stream
		for c in "dormand_prince_54 1e-6" "dormand_prince_54 1e-8" "tsit5 1e-8" \
			"dormand_prince_853 1e-10" "vern7 1e-10"; do
			set -- $c
			echo "-- $1 atol = rtol = $2, float64, one stream"
			./bench/lorenz-bench bench/lorenz.ini 20 22 -s solve.precision=float64 \
				-s solve.integrator=$1 -s solve.atol=$2 -s solve.rtol=$2 -s memory.streams=1 |
				grep '^N ='
		done ;;
	large) # Lorenz-96 of 8 to 100 states, dopri5 float32, 2^18 runs, one stream:
		# NVRTC's full optimization against --Ofast-compile=mid (CUBIE_LARGE_OPTIONS)
		for n in ${CUBIE_LARGE_N:-8 24 40 64 100}; do
			sh bench/lorenz96.sh $n >"$work/l96-$n.ini"
			for o in "" "${CUBIE_LARGE_OPTIONS:---Ofast-compile=mid}"; do
				echo "-- $n states [$o]: $(CUBIE_NVRTC_OPTIONS=$o ./bench/lorenz-bench "$work/l96-$n.ini" 18 \
					-s memory.streams=1 | grep '^N =')"
			done
		done ;;
	pipeline) for c in 8 16; do ./bench/pipeline-bench bench/lorenz.ini 22 $c; done ;;
	stiff) ./bench/stiff-bench bench/robertson.ini 14 16 20 ;;
	cpu) # the cpu backend against the hand-vectorized loop of bench/cpu-ref.h, every
		# core: rk4 and dopri5 at 1e-6, float32 and float64, 2^20 runs (CUBIE_CPU_LOG2N)
		lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket)'
		echo "vector ISA: $(grep -o -w -E 'avx|avx2|fma|avx512f' /proc/cpuinfo | sort -u | tr '\n' ' ')"
		./bench/cpu-bench bench/lorenz.ini "${CUBIE_CPU_LOG2N:-20}" ;;
	outputs) sh bench/outputs.sh "${CUBIE_BENCH_DIR:-$work}" ;;
	summaries) sh bench/outputs.sh "$work" summaries ;; # issue 9's summaries only
	events) # issue 13: one record and one stop event against none, 2^20, one stream
		# (x crossing 0, the first 4 kept; a stop at z = 1000, never reached,
		# so that both solves take the same steps)
		for m in rk4 dormand_prince_54; do
			set -- -s solve.integrator=$m -s solve.atol=1e-6 -s solve.rtol=1e-6 -s memory.streams=1
			echo "-- $m, no events: $(./bench/lorenz-bench bench/lorenz.ini 20 "$@" | grep '^N =')"
			echo "-- $m, record + stop: $(./bench/lorenz-bench bench/lorenz.ini 20 "$@" \
				-s events.cross=x -s events.cross.count=4 -s 'events.top=z - 1000' \
				-s events.top.direction=up -s events.top.action=stop | grep '^N =')"
		done ;;
	blocks) # rk4 kernel at 2^22 by block size
		for bs in 64 128 256; do
			echo "-- block $bs: $(./bench/lorenz-bench bench/lorenz.ini 22 -s device.block_size=$bs \
				-s memory.streams=1 | grep '^N =')"
		done ;;
	copybw) # the host <-> GPU copy ceiling, each GPU alone and all at once
		"${CUDA_HOME:-/usr/local/cuda}"/bin/nvcc -O2 -o copybw bench/copybw.cu && ./copybw 256 ;;
	multigpu) # one GPU against every GPU in one process, 2^24 runs (nvidia-h200-x2)
		sh bench/multigpu.sh ;;
	mpi) sh bench/mpi.sh "${CUBIE_BENCH_DIR:-$work}" ;; # issue 14: 1 GPU vs 2 ranks
	regs) # kernel time under register caps (CUBIE_NVRTC_OPTIONS), 2^22
		for cap in none 32 40 48; do
			opt=; [ $cap = none ] || opt=--maxrregcount=$cap
			for m in rk4 dormand_prince_54; do
				echo "-- $m, cap $cap: $(CUBIE_NVRTC_OPTIONS=$opt ./bench/lorenz-bench bench/lorenz.ini 22 \
					-s solve.integrator=$m -s solve.atol=1e-6 -s solve.rtol=1e-6 | grep '^N =')"
			done
		done ;;
	run) # the CLI end to end at 2^20 to .npy, warm cache; -v gives the phases
		for i in 1 2 3; do
			/usr/bin/time -f "cubie run: %e s wall, %M KB peak RSS" ./cubie run bench/lorenz.ini -v \
				-s "parameters.rho=linspace(0, 21, 1048576)" -o "$work/spine.npy" 2>&1 |
				grep -E "setup|solve:|wall|runs in"
		done ;;
	profile) # registers, instructions per step and stall reasons from ncu, and
		# the SASS of each kernel (CUBIE_PROFILE picks the cases)
		ev="-s events.cross=x -s events.cross.count=4 -s events.top=z-1000 -s events.top.direction=up -s events.top.action=stop"
		sm="-s output.save=none -s output.summarise=x,y,z -s output.summaries=mean,max,min,std"
		for c in ${CUBIE_PROFILE:-rk4 dopri5}; do
			case $c in
			rk4) set -- ;;
			dopri5) set -- -s solve.integrator=dormand_prince_54 -s solve.atol=1e-6 -s solve.rtol=1e-6 ;;
			events) set -- $ev ;;
			events-dopri5) set -- -s solve.integrator=dormand_prince_54 -s solve.atol=1e-6 -s solve.rtol=1e-6 $ev ;;
			summaries) set -- $sm ;;
			summaries-grid) set -- $sm -s output.sample_every=0.01 ;;
			*) echo "unknown profile case $c"; continue ;;
			esac
			echo "-- $c"
			CUBIE_CACHE_DIR=$work/cache-$c /usr/local/cuda/bin/ncu --clock-control none \
				--kernel-name cubie_kernel --launch-count 1 --metrics \
				'regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio',smsp__inst_executed.sum,launch__registers_per_thread,sm__warps_active.avg.pct_of_peak_sustained_active,sm__inst_executed_pipe_fma.sum,sm__inst_executed_pipe_alu.sum,sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active,smsp__issue_active.avg.pct_of_peak_sustained_active,gpu__time_duration.sum \
				./bench/lorenz-bench bench/lorenz.ini 20 -s memory.streams=1 "$@" 2>&1 |
				grep -E "^N =|^ +[a-z_]+__|^ +launch__" | grep -v " 0$"
			f=$(ls -tr "$work/cache-$c"/*/*.cubin "$work/cache-$c"/*.cubin 2>/dev/null | head -1)
			[ -n "$f" ] && /usr/local/cuda/bin/cuobjdump -sass "$f" >"$out/sass-$c.txt"
		done ;;
	sanitize)
		# the tests' environment, as make check gives it
		san=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
		bad=0
		tests=${CUBIE_SANITIZE_TESTS:-t/test-cuda t/test-chunking t/test-events}
		make $tests >/dev/null 2>&1 # built by make check, or not yet (CUBIE_CHECK=0)
		for tool in memcheck racecheck; do for t in $tests; do
			log=$out/sanitize-$tool-${t#t/}.log
			CUBIE_CACHE_DIR=$PWD/t/cache CUBIE_SRCDIR=$PWD CUBIE_BUILDDIR=$PWD \
			CUBIE_SYSTEM_DEFAULTS= XDG_CONFIG_HOME=$PWD/t/no-xdg-config \
				"$san" --tool $tool --target-processes all --report-api-errors no --error-exitcode 99 --print-limit 20 ./$t >"$log" 2>&1
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
