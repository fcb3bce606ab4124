/* The few math functions of the loop itself (not of models) in a form
 * that vectorizes on the CPU: libm's exp2, log2 and fmax are calls, and a
 * call keeps a loop from vectorizing. On the GPU they are the hardware's
 * approximations, in float whatever the working precision. The CPU
 * versions are polynomials in the working precision, as accurate as a
 * float (the controller needs no more: float64 dopri5 on two cores 8%
 * faster than to double's ulp); they serve the step-size controller,
 * whose inputs are bounded, or whose results go unused where they are
 * not (see control.h). */
#ifndef CUBIE_DEVICE_VMATH_H
#define CUBIE_DEVICE_VMATH_H

#if defined(__CUDACC__)
#define CUBIE_FMAX(a, b) CUBIE_M(fmax)(a, b)
#define CUBIE_FMIN(a, b) CUBIE_M(fmin)(a, b)
/* The controller needs no more than the hardware's float approximations
 * (MUFU, a few ulp), in float64 too: its input is the log of an error
 * estimate, its output a step-size gain that is then clamped. control.h
 * keeps their inputs normal and within float's range (an infinite sum's
 * log is infinite, and unused). With ftz they are one instruction each,
 * where exp2f and __fdividef guard against subnormals, log2f is a
 * polynomial of some twenty, and double's are some thirty each on the
 * FP64 pipe (float64 dopri5 on an H200: 27% off the kernel's time, with
 * the approximate reciprocal below). */
CUBIE_DEV cubie_real cubie_exp2(cubie_real x)
{
	float r;
	asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"((float)x));
	return r;
}
CUBIE_DEV cubie_real cubie_log2(cubie_real x)
{
	float r;
	asm("lg2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"((float)x));
	return r;
}
/* the norm's reciprocals, in the working precision: a float64 tolerance
 * may be below float's range */
#if CUBIE_PRECISION == 32
CUBIE_DEV float cubie_recip(float x)
{
	float r;
	asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(x));
	return r;
}
#else
CUBIE_DEV double cubie_recip(double x)
{
	double r;
	asm("rcp.approx.ftz.f64 %0, %1;" : "=d"(r) : "d"(x));
	return r;
}
#endif
#else
/* b where a is NaN, as fmax; NaN where b is, where fmax would not: b is
 * a running maximum that is never NaN, or a value that rejects the step
 * when NaN anyway */
#define CUBIE_FMAX(a, b) ((a) > (b) ? (a) : (b))
#define CUBIE_FMIN(a, b) ((a) < (b) ? (a) : (b))

#if CUBIE_PRECISION == 32
typedef int cubie_bits_;
#define CUBIE_MANT_ 23
#define CUBIE_BIAS_ 127
#else
typedef long long cubie_bits_;
#define CUBIE_MANT_ 52
#define CUBIE_BIAS_ 1023
#endif
union cubie_pun_ {
	cubie_real r;
	cubie_bits_ i;
};

/* 2^x for |x| <= 120 (clamped beyond): 2^n e^(f ln 2), n = round(x),
 * |f| <= 1/2, the exponential by its Taylor polynomial (terms to
 * (ln 2 / 2)^7 / 7!: below half a float's ulp). */
CUBIE_DEV cubie_real cubie_exp2(cubie_real x)
{
	x = x < CUBIE_R(-120) ? CUBIE_R(-120) : x > CUBIE_R(120) ? CUBIE_R(120) : x;
	const int ni = (int)(x + CUBIE_R(128.5)) - 128; /* round(x); a cast vectorizes, floor may not */
	const cubie_real n = (cubie_real)ni;
	const cubie_real y = (x - n) * CUBIE_R(0.69314718055994530942);
	const int terms = 7;
	double inv_fact[8]; /* 1 / k! to k = terms, folded into constants */
	inv_fact[0] = 1;
	CUBIE_UNROLL
	for (int k = 1; k <= terms; k++)
		inv_fact[k] = inv_fact[k - 1] / k;
	cubie_real p = CUBIE_R(inv_fact[terms]);
	CUBIE_UNROLL
	for (int k = terms - 1; k >= 0; k--) /* Horner, one multiply-add a term */
		p = p * y + CUBIE_R(inv_fact[k]);
	union cubie_pun_ s;
	s.i = (cubie_bits_)(ni + CUBIE_BIAS_) << CUBIE_MANT_;
	return p * s.r;
}

/* log2 x for normal x > 0: x = m 2^e, m in [sqrt(1/2), sqrt(2)),
 * ln m = 2 atanh(s) with s = (m - 1) / (m + 1), |s| <= 0.172, by its
 * series (to s^9). */
CUBIE_DEV cubie_real cubie_log2(cubie_real x)
{
	union cubie_pun_ u;
	u.r = x;
	const cubie_bits_ mask = ((cubie_bits_)1 << CUBIE_MANT_) - 1;
	int e = (int)(u.i >> CUBIE_MANT_) - CUBIE_BIAS_; /* int: int64 to double may not vectorize */
	u.i = (u.i & mask) | ((cubie_bits_)CUBIE_BIAS_ << CUBIE_MANT_); /* m in [1, 2) */
	const int big = u.r > CUBIE_R(1.41421356237309504880);
	const cubie_real m = big ? u.r * CUBIE_R(0.5) : u.r;
	e += big;
	const cubie_real s = (m - CUBIE_R(1)) / (m + CUBIE_R(1)), s2 = s * s;
	const int terms = 5;
	cubie_real p = CUBIE_R(0);
	CUBIE_UNROLL
	for (int k = terms - 1; k >= 0; k--) /* sum of s2^k / (2k + 1) */
		p = CUBIE_R(1.0 / (2 * k + 1)) + s2 * p;
	return (cubie_real)e + CUBIE_R(2.88539008177792681472) * s * p; /* 2 / ln 2 */
}
#undef CUBIE_MANT_
#undef CUBIE_BIAS_
#endif
/* A state's error scale, atol + rtol m at magnitude m. With atol 0
 * (relative control) it is floored at the smallest normal, so that a
 * state that stays exactly 0, with no error, adds 0 to a norm and not
 * 0 / 0. atol is a constant of the kernel: the test folds away. */
CUBIE_DEV cubie_real cubie_err_scale(double atol, double rtol, cubie_real m)
{
	const cubie_real sc = CUBIE_R(atol) + CUBIE_R(rtol) * m;
	return atol > 0 ? sc : CUBIE_FMAX(sc, CUBIE_R(CUBIE_PRECISION == 32 ? 1.1754943508222875e-38
	                                                                    : 2.2250738585072014e-308));
}
#endif
