/* One explicit Runge-Kutta step for any Butcher tableau. Include after
 * defining, as brace initializers of doubles:
 *   ERK_STAGES  s;   ERK_A  s x s, lower triangular;   ERK_B, ERK_C  s each;
 *   ERK_E (optional) b - b_hat: weights of the embedded error estimate;
 *   ERK_E3 (optional, with ERK_E) weights of a second, lower-order estimate
 *     combined with the first as in Hairer's DOP853 (see below);
 *   ERK_FSAL (optional, 1) the last stage is f(t + h, y_new).
 * Loops are fully unrolled over compile-time bounds, so the tableau folds
 * into constants and the stages stay in registers. */
#ifndef CUBIE_DEVICE_ERK_H
#define CUBIE_DEVICE_ERK_H

#ifdef ERK_FSAL
#define CUBIE_FSAL ERK_FSAL
#endif

/* h * sum over the first n stages of w[s] k[s][i], skipping zero weights
 * (everything here is known at compile time once unrolled). Folding h
 * into the weights costs one product per weight, shared by all states,
 * and saves a product per state only with one term (h w k + y is one
 * fused multiply-add, w k then h acc + y two); under fixed steps h * w is
 * loop-invariant and costs nothing. Otherwise the sum is taken first and
 * scaled once, in the fused multiply-add that adds y. */
CUBIE_DEV cubie_real cubie_erk_sum(cubie_real h, const double *w, cubie_real (*k)[CUBIE_NSTATES],
                                   int i, int n)
{
	int terms = 0;
	CUBIE_UNROLL
	for (int s = 0; s < n; s++)
		terms += w[s] != 0.0;
	const int fold = terms == 1 || CUBIE_CONTROLLER == 0;
	cubie_real acc = 0;
	int any = 0;
	CUBIE_UNROLL
	for (int s = 0; s < n; s++)
		if (w[s] != 0.0) {
			const cubie_real term = fold ? h * CUBIE_R(w[s]) * k[s][i] : CUBIE_R(w[s]) * k[s][i];
			acc = any ? acc + term : term;
			any = 1;
		}
	return fold ? acc : h * acc;
}

/* The step contract (see cubie/plugin.h): f0 is f(t, y), read when f0_ok
 * and written otherwise; FSAL methods write f(t + h, y_new) into f1. */
CUBIE_DEV void cubie_step(double t, cubie_real h, const cubie_real *y, const cubie_real *p,
                          cubie_real *y_new, cubie_real *err, cubie_real *f0, cubie_real *f1,
                          int f0_ok)
{
	const double a[ERK_STAGES][ERK_STAGES] = ERK_A;
	const double b[ERK_STAGES] = ERK_B;
	const double c[ERK_STAGES] = ERK_C;
	cubie_real k[ERK_STAGES][CUBIE_NSTATES];
	cubie_real ys[CUBIE_NSTATES];

	if (f0_ok) {
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++)
			k[0][i] = f0[i];
	} else {
		cubie_rhs(t, y, p, k[0]);
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++)
			f0[i] = k[0][i];
	}
	/* h is folded into the coefficients: the products h * a[s][j] are
	 * shared by every state (and loop-invariant under fixed steps). The
	 * increment is summed apart from y, which is added once: summing into y
	 * would round at y's scale once per term (measurably less accurate in
	 * float32); a one-term increment contracts into one fused multiply-add. */
	CUBIE_UNROLL
	for (int s = 1; s < ERK_STAGES; s++) {
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++)
			ys[i] = y[i] + cubie_erk_sum(h, a[s], k, i, s);
		cubie_rhs(t + c[s] * (double)h, ys, p, k[s]);
	}
	CUBIE_UNROLL
	for (int i = 0; i < CUBIE_NSTATES; i++)
		y_new[i] = y[i] + cubie_erk_sum(h, b, k, i, ERK_STAGES);
#ifdef ERK_E
	{
		const double e[ERK_STAGES] = ERK_E;
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++)
			err[i] = cubie_erk_sum(h, e, k, i, ERK_STAGES);
	}
#if defined(ERK_E3) && CUBIE_CONTROLLER != 0
	/* DOP853's measure: with s5, s3 the weighted sums of squares of the two
	 * estimates, scale the first by sqrt(s5 / (s5 + 0.01 s3)), so that the
	 * loop's RMS norm gives Hairer's |h| s5 / sqrt(n (s5 + 0.01 s3)). */
	{
		const double e3[ERK_STAGES] = ERK_E3;
		const double atol[CUBIE_NSTATES] = CUBIE_ATOL, rtol[CUBIE_NSTATES] = CUBIE_RTOL;
		cubie_real s5 = 0, s3 = 0;
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++) {
			const cubie_real acc = cubie_erk_sum(h, e3, k, i, ERK_STAGES);
			const cubie_real m = CUBIE_FMAX(CUBIE_M(fabs)(y[i]), CUBIE_M(fabs)(y_new[i]));
			const cubie_real sc = cubie_err_scale(atol[i], rtol[i], m);
			const cubie_real r5 = err[i] / sc, r3 = acc / sc;
			s5 += r5 * r5;
			s3 += r3 * r3;
		}
		const cubie_real den = s5 + CUBIE_R(0.01) * s3;
		const cubie_real f = den > 0 ? CUBIE_M(sqrt)(s5 / den) : CUBIE_R(1);
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++)
			err[i] *= f;
	}
#endif
#else
	(void)err;
#endif
#if defined(ERK_FSAL) && ERK_FSAL
	CUBIE_UNROLL
	for (int i = 0; i < CUBIE_NSTATES; i++)
		f1[i] = k[ERK_STAGES - 1][i];
#else
	(void)f1;
#endif
}
#endif
