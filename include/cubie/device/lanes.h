/* Lanes: the loop integrates CUBIE_W runs side by side, every per-run
 * statement inside CUBIE_LANES(l) with l the lane, and per-run values kept
 * lane-major (y[state][lane]). One loop source serves both backends:
 *  - GPU: W = 1, one thread one run; the lane loop runs once with l = 0 and
 *    vanishes, the [.][1] arrays are registers: the code of a plain
 *    per-run loop.
 *  - CPU: a block of W runs per OpenMP iteration; CUBIE_LANES is an
 *    `omp simd` loop, so each run sits in one SIMD lane. Fixed steps keep
 *    every lane in lockstep; adaptive steps mask the lanes that are done.
 *    W is a compile-time constant and every lane always computes (a short
 *    last block repeats its last run), so a run gets the same vector code
 *    and the same result in whatever lane and block it lands: results stay
 *    the same whatever the chunking.
 * CUBIE_W may be given beforehand (the core does not; a test or a tuning
 * run may). The default is four vector registers' worth of the working
 * precision (64 floats, 32 doubles with AVX-512): a step is a chain of
 * dependent operations, and independent vectors in flight hide their
 * latency (Lorenz on AVX-512: rk4 float32 took 1.5x as long with one
 * vector's worth, 1.0-1.3x with two). Larger models get fewer (their
 * stages fill the registers anyway, and the block lives on the stack). */
#ifndef CUBIE_DEVICE_LANES_H
#define CUBIE_DEVICE_LANES_H

#if defined(__CUDACC__)
#undef CUBIE_W
#define CUBIE_W 1
#define CUBIE_LANES(l) for (int l = 0; l < 1; l++)
#else
#ifndef CUBIE_W
#if defined(__AVX512F__)
#define CUBIE_VECTOR_BYTES 64
#elif defined(__AVX__)
#define CUBIE_VECTOR_BYTES 32
#else
#define CUBIE_VECTOR_BYTES 16
#endif
#define CUBIE_VECTORS (CUBIE_NSTATES <= 8 ? 4 : CUBIE_NSTATES <= 32 ? 2 : 1)
#define CUBIE_W (CUBIE_VECTORS * CUBIE_VECTOR_BYTES / (CUBIE_PRECISION / 8))
#endif
#define CUBIE_LANES(l) _Pragma("omp simd") for (int l = 0; l < CUBIE_W; l++)
#endif

/* Run i0 + l of a block; a lane past the last run repeats it (never stored). */
#define CUBIE_LANE_RUN(a, i0, l) \
	(CUBIE_W == 1 ? (i0) : (i0) + (l) < (a)->n ? (i0) + (l) : (a)->n - 1)
#endif
