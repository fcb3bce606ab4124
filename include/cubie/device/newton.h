/* What the implicit methods share besides the LU: the weighted RMS norm
 * of the loop's error test (atol, rtol per state), by which Newton's
 * progress is measured, the iteration matrix a I - b J, Newton's rate
 * test, and the sums of stages by tableau weights. */
#ifndef CUBIE_DEVICE_NEWTON_H
#define CUBIE_DEVICE_NEWTON_H
#include <cubie/device/lu.h>

#define CUBIE_STEP_STATUS 1

/* sqrt(mean((v_i / (atol_i + rtol_i |y_i|))^2)), in double; the scale
 * floored as cubie_err_scale's */
CUBIE_DEV double cubie_wrms(const cubie_real *v, const cubie_real *y)
{
	const double atol[CUBIE_NSTATES] = CUBIE_ATOL, rtol[CUBIE_NSTATES] = CUBIE_RTOL;
	double s = 0;
	CUBIE_UNROLL
	for (int i = 0; i < CUBIE_NSTATES; i++) {
		const double sc = atol[i] + rtol[i] * fabs((double)y[i]);
		const double r = (double)v[i] / (atol[i] > 0 ? sc : fmax(sc, 2.2250738585072014e-308));
		s += r * r;
	}
	return sqrt(s / CUBIE_NSTATES);
}

/* M = a I - b J */
CUBIE_DEV void cubie_iter_matrix(const cubie_real *J, cubie_real a, cubie_real b, cubie_real *M)
{
	CUBIE_LU_UNROLL
	for (int i = 0; i < CUBIE_NSTATES; i++) {
		CUBIE_LU_UNROLL
		for (int j = 0; j < CUBIE_NSTATES; j++)
			M[i * CUBIE_NSTATES + j] = (i == j ? a : CUBIE_R(0)) - b * J[i * CUBIE_NSTATES + j];
	}
}

/* Newton's rate test (Hairer-Wanner IV.8): with nd the size of this
 * correction and prev that of the last, returns 1 converged, 0 go on,
 * -1 diverging; *eta carries theta / (1 - theta) between iterations. */
CUBIE_DEV int cubie_newton_test(double nd, double prev, int it, double *eta)
{
	if (it > 0) {
		const double theta = nd / prev;
		if (theta >= 0.99 && !(nd <= 1e-3 * CUBIE_NEWTON_TOL))
			return -1;
		if (theta < 0.99)
			*eta = theta / (1 - theta);
	}
	return *eta * nd <= CUBIE_NEWTON_TOL || nd == 0 ? 1 : 0;
}

/* sum over the first n stages of w[s] k[s][i], skipping zero weights
 * (known at compile time once the loops are unrolled and this inlined) */
CUBIE_DEV cubie_real cubie_stage_sum(const double *w, cubie_real (*k)[CUBIE_NSTATES], int i, int n)
{
	cubie_real acc = 0;
	CUBIE_UNROLL
	for (int s = 0; s < n; s++)
		if (w[s] != 0.0)
			acc += CUBIE_R(w[s]) * k[s][i];
	return acc;
}
#endif
