#!/bin/sh
# Issue 9's benchmark, on the GPU machine from a built tree (bench/device.sh
# runs it as the "outputs" case): the disk's write speed (dd), then
#  1. Lorenz, 2^22 runs, 401 saves of 3 float32 states (20 GB) streamed to
#     HDF5 on the local disk: wall time, write rate, peak host RSS;
#  2. 2^24 runs with summaries = mean, max, min, std and no saved series,
#     against the plain final-state solve: kernel time, wall, peak RSS.
# Usage: outputs.sh [DIR [summaries]]: with "summaries", part 2 only.
set -u
work=${1:-$(mktemp -d)}
if [ "${2:-}" != summaries ]; then
echo "-- disk: dd of 8 GiB with fdatasync into $work"
dd if=/dev/zero of="$work/dd" bs=1M count=8192 conv=fdatasync 2>&1 | tail -1
rm -f "$work/dd"
if [ -e plugin-dir/writer/hdf5.so ]; then
	echo "-- 2^22 runs x 401 saves x 3 float32 states to HDF5"
	/usr/bin/time -f "wall %e s, peak RSS %M KB" ./cubie run bench/lorenz.ini -v \
		-s "parameters.rho=linspace(0, 21, 4194304)" -s output.save_every=0.0025 \
		-o "$work/big.h5" 2>&1 | grep -E "plan:|host memory|runs in|wall"
	ls -l "$work/big.h5" | awk '{ printf "file: %.2f GB\n", $5 / 1e9 }'
	rm -f "$work/big.h5"
else
	echo "-- no hdf5 writer built here (pkg-config hdf5 not found)"
fi
fi
echo "-- 2^24 runs, final state only (reference)"
/usr/bin/time -f "wall %e s, peak RSS %M KB" ./bench/lorenz-bench bench/lorenz.ini 24 \
	-s memory.streams=1 2>&1 | grep -E "^N =|wall"
echo "-- 2^24 runs, summaries = mean, max, min, std of x, y, z, no saved series"
/usr/bin/time -f "wall %e s, peak RSS %M KB" ./bench/lorenz-bench bench/lorenz.ini 24 \
	-s memory.streams=1 -s output.save=none -s output.summarise=x,y,z \
	-s "output.summaries=mean, max, min, std" 2>&1 | grep -E "^N =|wall"
echo "-- ... sampled every 0.01 (100 samples instead of every one of the 1000 steps)"
/usr/bin/time -f "wall %e s, peak RSS %M KB" ./bench/lorenz-bench bench/lorenz.ini 24 \
	-s memory.streams=1 -s output.save=none -s output.summarise=x,y,z -s output.sample_every=0.01 \
	-s "output.summaries=mean, max, min, std" 2>&1 | grep -E "^N =|wall"
