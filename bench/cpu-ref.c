/* The reference loops of bench/cpu-ref.h in float32 and float64, built
 * with -O3 -march=native and OpenMP (Makefile.am) for bench/cpu.c. */
#include <math.h>
#include <stdio.h>

/* The step controller needs exp2 and log2 that vectorize: glibc's libmvec
 * has them (x86_64, glibc 2.35 on); elsewhere the reference calls the
 * scalar ones, and its adaptive loop runs slower. */
#if defined(__x86_64__) && defined(__GLIBC__) && \
	(__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#define VECTOR_MATH "libmvec"
#pragma omp declare simd notinbranch
double exp2(double);
#pragma omp declare simd notinbranch
double log2(double);
#pragma omp declare simd notinbranch
float exp2f(float);
#pragma omp declare simd notinbranch
float log2f(float);
#else
#define VECTOR_MATH "scalar libm"
#endif

/* Lanes per block: four 512-bit vectors' worth. The loops are chains of
 * dependent operations, and several independent vectors in flight hide
 * their latency: on the 2-core AVX-512 machine of RESULTS.md this beat 1
 * and 2 vectors (dopri5 about 2x, rk4 about 1.5x), 8 was no better. */
#ifndef REF_WF
#define REF_WF 64
#endif
#ifndef REF_WD
#define REF_WD 32
#endif

#define R float
#define F(name) name##_f
#define FN(fn) fn##f
#define W REF_WF
#include "cpu-ref.h"
#undef R
#undef F
#undef FN
#undef W
#define R double
#define F(name) name##_d
#define FN(fn) fn
#define W REF_WD
#include "cpu-ref.h"

void cpu_ref(int f64, int adaptive, long n, const void *rho, void *out);
const char *cpu_ref_built(void);

/* rk4: 1000 steps of 1e-3; dopri5: first step 1e-3, atol = rtol = 1e-6 */
void cpu_ref(int f64, int adaptive, long n, const void *rho, void *out)
{
	if (f64 && adaptive)
		ref_dopri5_d(n, rho, out, 1e-3, 1.0, 1e-6);
	else if (f64)
		ref_rk4_d(n, rho, out, 1000, 1e-3);
	else if (adaptive)
		ref_dopri5_f(n, rho, out, 1e-3f, 1.0, 1e-6f);
	else
		ref_rk4_f(n, rho, out, 1000, 1e-3f);
}

const char *cpu_ref_built(void)
{
	static char s[160];
	snprintf(s, sizeof s, "%d/%d lanes (float/double), %s, vector exp2/log2 from %s", REF_WF, REF_WD,
#ifdef __AVX512F__
	         "AVX-512",
#elif defined(__AVX2__)
	         "AVX2",
#elif defined(__AVX__)
	         "AVX",
#else
	         "baseline vector ISA",
#endif
	         VECTOR_MATH);
	return s;
}
