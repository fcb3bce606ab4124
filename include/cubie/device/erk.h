/* One explicit Runge-Kutta step for any Butcher tableau. Include after
 * defining, as brace initializers of doubles:
 *   ERK_STAGES  s;   ERK_A  s x s, lower triangular;   ERK_B, ERK_C  s each;
 *   ERK_E (optional) b - b_hat, the weights of the embedded error estimate.
 * Loops are fully unrolled over compile-time bounds, so the tableau folds
 * into constants and the stages stay in registers. */
#ifndef CUBIE_DEVICE_ERK_H
#define CUBIE_DEVICE_ERK_H

CUBIE_DEV void cubie_step(double t, cubie_real h, const cubie_real *y,
                          const cubie_real *p, cubie_real *y_new, cubie_real *err)
{
	const double a[ERK_STAGES][ERK_STAGES] = ERK_A;
	const double b[ERK_STAGES] = ERK_B;
	const double c[ERK_STAGES] = ERK_C;
	cubie_real k[ERK_STAGES][CUBIE_NSTATES];
	cubie_real ys[CUBIE_NSTATES];

	CUBIE_UNROLL
	for (int s = 0; s < ERK_STAGES; s++) {
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++) {
			cubie_real acc = 0;
			CUBIE_UNROLL
			for (int j = 0; j < s; j++)
				if (a[s][j] != 0.0)
					acc += CUBIE_R(a[s][j]) * k[j][i];
			ys[i] = y[i] + h * acc;
		}
		cubie_rhs(t + c[s] * (double)h, ys, p, k[s]);
	}
	CUBIE_UNROLL
	for (int i = 0; i < CUBIE_NSTATES; i++) {
		cubie_real acc = 0;
		CUBIE_UNROLL
		for (int s = 0; s < ERK_STAGES; s++)
			if (b[s] != 0.0)
				acc += CUBIE_R(b[s]) * k[s][i];
		y_new[i] = y[i] + h * acc;
	}
#ifdef ERK_E
	{
		const double e[ERK_STAGES] = ERK_E;
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++) {
			cubie_real acc = 0;
			CUBIE_UNROLL
			for (int s = 0; s < ERK_STAGES; s++)
				if (e[s] != 0.0)
					acc += CUBIE_R(e[s]) * k[s][i];
			err[i] = h * acc;
		}
	}
#else
	(void)err;
#endif
}
#endif
