/* Step-size control. Errors are kept as log2 of the RMS norm, so a
 * controller is one exp2 of a weighted sum of the last errors' logs (one
 * log2 and one exp2 per step, never pow; vmath.h's, which vectorize on
 * the CPU and are float on the GPU).
 *
 * Compiled-in settings: CUBIE_CONTROLLER 1 i, 2 pi, 3 pid, 4 gustafsson;
 * CUBIE_ERR_ORDER; CUBIE_ATOL, CUBIE_RTOL {one per state}; CUBIE_LOG2_SAFETY,
 * CUBIE_MIN_GAIN, CUBIE_MAX_GAIN; CUBIE_AUTO_DT 1 when the first step is
 * to be chosen (no dt given). */
#ifndef CUBIE_DEVICE_CONTROL_H
#define CUBIE_DEVICE_CONTROL_H

#if defined(__CUDACC__)
#define CUBIE_QUOT(a, b) ((a) * cubie_recip(b)) /* the norm needs no more */
#else
#define CUBIE_QUOT(a, b) ((a) / (b))
#endif

/* Mean over states of (err / (atol + rtol max(|y|, |y_new|)))^2, the
 * square of the RMS norm: the step is accepted when it is at most 1. The
 * tolerances come scaled by sqrt(n), which leaves the mean with no
 * division (the constants fold at compile time). */
CUBIE_DEV cubie_real cubie_norm2(const cubie_real *y, const cubie_real *y_new,
                                 const cubie_real *err)
{
	const double atol[CUBIE_NSTATES] = CUBIE_ATOL, rtol[CUBIE_NSTATES] = CUBIE_RTOL;
	const double sqrt_n = sqrt((double)CUBIE_NSTATES);
	cubie_real sum = 0;
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++) {
		const cubie_real m = CUBIE_FMAX(CUBIE_M(fabs)(y[j]), CUBIE_M(fabs)(y_new[j]));
		const cubie_real r = CUBIE_QUOT(err[j], cubie_err_scale(atol[j] * sqrt_n,
		                                                        rtol[j] * sqrt_n, m));
		sum += r * r;
	}
	return sum;
}

/* log2 of that mean square (twice the log2 of the RMS norm), floored at
 * log2(1e-20) (a NaN too). Not capped: a sum too large or infinite
 * rejects with the smallest gain whatever this gives (adaptive.h). */
CUBIE_DEV cubie_real cubie_log2_norm(cubie_real sum)
{
	return cubie_log2(CUBIE_FMAX(sum, CUBIE_R(1e-20)));
}

/* The step-size factor after an attempt with le from cubie_log2_norm;
 * accepted: the attempt was accepted (the controllers with memory apply).
 * le1, le2: the last two accepted attempts' le; h_prev: the last accepted
 * step; cap: the largest factor allowed (1 after a rejection). */
CUBIE_DEV cubie_real cubie_gain(cubie_real le, cubie_real h, int accepted, cubie_real le1,
                                cubie_real le2, cubie_real h_prev, cubie_real cap)
{
	/* le is twice the log2 of the norm, hence the half; the exponent is
	 * k x + log2(safety) for a weighted sum x of the errors' logs, with k
	 * folded into the weights: one fused multiply-add per term. Spelt out,
	 * as left to the compiler the GPU's path of adaptive.h and the lanes'
	 * would contract them differently. */
	const double k = 0.5 / (CUBIE_ERR_ORDER + 1.0);
	const cubie_real c = CUBIE_R(CUBIE_LOG2_SAFETY);
	cubie_real x = CUBIE_M(fma)(CUBIE_R(-k), le, c); /* i: elementary */
#if CUBIE_CONTROLLER == 2 /* pi: Gustafsson's PI.3.4, kI = 0.3, kP = 0.4 */
	x = accepted ? CUBIE_M(fma)(CUBIE_R(0.4 * k), le1, CUBIE_M(fma)(CUBIE_R(-0.7 * k), le, c))
	             : x;
#elif CUBIE_CONTROLLER == 3 /* pid: kI = 0.3, kP = 0.4, kD = 0.1 (velocity form) */
	x = accepted ? CUBIE_M(fma)(CUBIE_R(0.6 * k), le1,
	                            CUBIE_M(fma)(CUBIE_R(-0.1 * k), le2,
	                                         CUBIE_M(fma)(CUBIE_R(-0.8 * k), le, c)))
	             : x;
#endif
	cubie_real fac = cubie_exp2(x);
#if CUBIE_CONTROLLER == 4 /* gustafsson: predictive (Hairer-Wanner IV.8, RADAU5) */
	if (accepted && h_prev > 0) {
		const cubie_real pred = fac * (h / h_prev) * cubie_exp2(CUBIE_R(k) * (le1 - le));
		fac = pred < fac ? pred : fac;
	}
#endif
	(void)le2, (void)h, (void)h_prev;
	/* two statements: GCC does not vectorize the lane loop with the two
	 * macros nested */
	const cubie_real g = CUBIE_FMIN(fac, cap);
	return CUBIE_FMAX(g, CUBIE_R(CUBIE_MIN_GAIN));
}
#if CUBIE_AUTO_DT
/* The first step when the user gave none: Hairer, Norsett and Wanner's
 * starting step (Solving ODEs I, II.4), from the sizes of y, f(t, y) and
 * f's change over a trial Euler step, all scaled by the tolerances. f0
 * receives f(t, y), for the first step to reuse. */
CUBIE_DEV cubie_real cubie_first_step(double t, const cubie_real *y, const cubie_real *p,
                                      cubie_real *f0)
{
	const double atol[CUBIE_NSTATES] = CUBIE_ATOL, rtol[CUBIE_NSTATES] = CUBIE_RTOL;
	cubie_real sc[CUBIE_NSTATES], y1[CUBIE_NSTATES], f1[CUBIE_NSTATES];
	cubie_real d0 = 0, d1 = 0, d2 = 0;
	cubie_rhs(t, y, p, f0);
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++) {
		sc[j] = cubie_err_scale(atol[j], rtol[j], CUBIE_M(fabs)(y[j]));
		d0 += (y[j] / sc[j]) * (y[j] / sc[j]);
		d1 += (f0[j] / sc[j]) * (f0[j] / sc[j]);
	}
	d0 = CUBIE_M(sqrt)(d0 / CUBIE_NSTATES);
	d1 = CUBIE_M(sqrt)(d1 / CUBIE_NSTATES);
	const cubie_real h0 = d0 < CUBIE_R(1e-5) || d1 < CUBIE_R(1e-5) ? CUBIE_R(1e-6)
	                                                               : CUBIE_R(0.01) * d0 / d1;
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		y1[j] = y[j] + h0 * f0[j];
	cubie_rhs(t + (double)h0, y1, p, f1);
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		d2 += ((f1[j] - f0[j]) / sc[j]) * ((f1[j] - f0[j]) / sc[j]);
	d2 = CUBIE_M(sqrt)(d2 / CUBIE_NSTATES) / h0;
	const cubie_real m = d1 > d2 ? d1 : d2;
	cubie_real h1 = h0 * CUBIE_R(1e-3) > CUBIE_R(1e-6) ? h0 * CUBIE_R(1e-3) : CUBIE_R(1e-6);
	if (m > CUBIE_R(1e-15)) /* (0.01 / m)^(1 / (order + 1)) */
		h1 = cubie_exp2(cubie_log2(CUBIE_FMAX(CUBIE_R(0.01) / m, CUBIE_R(1e-30))) *
		                CUBIE_R(1.0 / (CUBIE_ERR_ORDER + 2.0)));
	return CUBIE_R(100) * h0 < h1 ? CUBIE_R(100) * h0 : h1;
}
#endif
#endif
