#!/bin/sh
# Several GPUs in one process against one ([device] gpu = 0, 1 against
# gpu = 0): Lorenz, final state only, at 2^LOG2N runs (default 24), rk4
# float32 and dormand_prince_54 at atol = rtol = 1e-6; the solve walls
# (median of 5 after a warm-up, host arrays in and out) and the speed-up.
# Run from a built tree on a machine with two GPUs (nvidia-h200-x2), as
# bench/device.sh does with CUBIE_BENCH=multigpu, or by hand:
#   make bench/lorenz-bench && CUBIE_PLUGIN_PATH=$PWD/plugin-dir sh bench/multigpu.sh
# GPUS: the several-GPU list (default "0, 1").
set -u
log2n=${CUBIE_MULTIGPU_LOG2N:-24}
gpus=${GPUS:-0, 1}
bench=./bench/lorenz-bench
[ -x "$bench" ] || make bench/lorenz-bench >/dev/null || exit 1
nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader 2>/dev/null
wall() { sed -n 's/.*solve wall \([0-9.]*\) ms.*/\1/p' | tail -1; }
for m in rk4 dormand_prince_54; do
	set -- -s solve.integrator=$m
	[ $m = rk4 ] || set -- "$@" -s solve.atol=1e-6 -s solve.rtol=1e-6
	echo "== $m, float32, 2^$log2n runs, final state"
	out1=$("$bench" bench/lorenz.ini "$log2n" "$@" -s device.gpu=0 2>&1)
	echo "$out1" | grep -E '^(N =|plan:|backend:)'
	outn=$("$bench" bench/lorenz.ini "$log2n" "$@" -s "device.gpu=$gpus" 2>&1)
	echo "$outn" | grep -E '^(N =|plan:|gpu [0-9]+:)'
	if [ -n "${CUBIE_BENCH_LOG:-}" ]; then # the host's share of the last solve
		echo "one GPU:"; echo "$out1" | grep '^log: solve' | tail -3
		echo "gpu = $gpus:"; echo "$outn" | grep '^log: solve' | tail -5
	fi
	w1=$(echo "$out1" | wall) wn=$(echo "$outn" | wall)
	if [ -n "$w1" ] && [ -n "$wn" ]; then
		echo "$m: one GPU $w1 ms, gpu = $gpus $wn ms: speed-up $(echo "$w1 $wn" |
			awk '{ printf "%.2fx", $1 / $2 }')"
	else
		echo "$m: no wall time (see above)"; echo "$out1" | tail -3; echo "$outn" | tail -3
	fi
done
