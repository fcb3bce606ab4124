/* What every generated kernel sees first: the real type, the function
 * qualifiers, the math-function spelling of the chosen precision and the
 * lanes (lanes.h).
 * The including source defines CUBIE_PRECISION (32 or 64) beforehand. */
#ifndef CUBIE_DEVICE_PRELUDE_H
#define CUBIE_DEVICE_PRELUDE_H

#if defined(__CUDACC__)
#define CUBIE_DEV static __device__ __forceinline__
#define CUBIE_UNROLL _Pragma("unroll")
/* the fixed-step loop: the loop's count, compare and branch and the step's
 * h products once per 8 steps (rk4 at 2^22 on an H200: 6.86 ms, against
 * 7.27 ms by 4) */
#define CUBIE_UNROLL_STEPS _Pragma("unroll 8")
/* adaptive.h's attempts: by two in float32, two attempts to schedule as
 * one (dopri5 at 2^22 on an H200: 1.41 ms, against 1.45 ms by one; by
 * three 1.3% faster, but dop853 then needs 103 registers, not 71); by one in
 * float64, where the FP64 pipe is the limit and two attempts' registers
 * halve the warps (dopri5 2.68 ms, against 2.82 ms by two; vern7 15%) */
#ifndef CUBIE_ATTEMPTS_UNROLL /* -D in CUBIE_NVRTC_OPTIONS: a tuning run's */
#define CUBIE_ATTEMPTS_UNROLL (CUBIE_PRECISION == 32 ? 2 : 1)
#endif
#define CUBIE_PRAGMA_(x) _Pragma(#x)
#define CUBIE_PRAGMA(x) CUBIE_PRAGMA_(x)
#define CUBIE_UNROLL_ATTEMPTS CUBIE_PRAGMA(unroll CUBIE_ATTEMPTS_UNROLL)
#define CUBIE_NAN __longlong_as_double(0x7ff8000000000000ULL)
#define CUBIE_INF __longlong_as_double(0x7ff0000000000000ULL)
#define CUBIE_COUNT(p) atomicAdd((p), 1)
#else
#include <math.h>
#if defined(__GNUC__)
/* inlined into the lane loop, or the loop cannot vectorize */
#define CUBIE_DEV static inline __attribute__((always_inline))
#else
#define CUBIE_DEV static inline
#endif
#define CUBIE_UNROLL_ATTEMPTS
#define CUBIE_NAN ((double)NAN)
#define CUBIE_INF ((double)INFINITY)
#define CUBIE_COUNT(p) __atomic_fetch_add((p), 1, __ATOMIC_RELAXED)
#if defined(__clang__)
#define CUBIE_UNROLL _Pragma("unroll")
#define CUBIE_UNROLL_STEPS _Pragma("unroll 4")
#elif defined(__GNUC__)
#define CUBIE_UNROLL _Pragma("GCC unroll 64")
#define CUBIE_UNROLL_STEPS _Pragma("GCC unroll 4")
#else
#define CUBIE_UNROLL
#define CUBIE_UNROLL_STEPS
#endif
#endif

#if CUBIE_PRECISION == 32
typedef float cubie_real;
#define CUBIE_M(fn) fn##f /* sqrt -> sqrtf */
#else
typedef double cubie_real;
#define CUBIE_M(f) f
#endif
#define CUBIE_R(x) ((cubie_real)(x))

#include <cubie/device/status.h>
#include <cubie/device/args.h>
#include <cubie/device/lanes.h>
#include <cubie/device/vmath.h>
#endif
