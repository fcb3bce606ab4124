/* One (E)SDIRK step for any diagonally implicit tableau with a constant
 * diagonal gamma, by simplified Newton: J = J(t, y) once per step and
 * M = I - h gamma J factored once, then reused by every stage and every
 * iteration (with CUBIE_JAC_UPDATE 1, J and M are renewed at every
 * iterate instead, the stage's predictor first: full Newton, for strongly
 * nonlinear problems). Stage i solves
 *   z = r_i + h gamma f(t + c_i h, z),   r_i = y + h sum_j<i a_ij k_j,
 * and k_i = (z - r_i) / (h gamma), which equals f at the converged z and
 * keeps the stiff components consistent with the iterate. Include after
 * defining, as brace initializers of doubles:
 *   DIRK_STAGES s;  DIRK_A  s x s, lower triangular, diagonal gamma or 0
 *   (a first stage with a_11 = 0 and c_1 = 0 is f(t, y): ESDIRK);
 *   DIRK_B, DIRK_C  s each;  DIRK_E (optional) b - b_hat. */
#ifndef CUBIE_DEVICE_DIRK_H
#define CUBIE_DEVICE_DIRK_H
#include <cubie/device/newton.h>

CUBIE_DEV int cubie_step(double t, cubie_real h, const cubie_real *y, const cubie_real *p,
                         cubie_real *y_new, cubie_real *err, cubie_real *f0, cubie_real *f1,
                         int f0_ok)
{
	const double a[DIRK_STAGES][DIRK_STAGES] = DIRK_A;
	const double b[DIRK_STAGES] = DIRK_B, c[DIRK_STAGES] = DIRK_C;
	cubie_real M[CUBIE_NSTATES * CUBIE_NSTATES], k[DIRK_STAGES][CUBIE_NSTATES];
	cubie_real r[CUBIE_NSTATES], z[CUBIE_NSTATES], g[CUBIE_NSTATES];
	int piv[CUBIE_NSTATES];
	double gam = 0, eta = 1;
	(void)f1;

	CUBIE_UNROLL
	for (int s = 0; s < DIRK_STAGES; s++)
		if (a[s][s] != 0.0)
			gam = a[s][s];
	const cubie_real hg = h * CUBIE_R(gam);
	if (!f0_ok)
		cubie_rhs(t, y, p, f0);
	cubie_jac(t, y, p, M);
	cubie_iter_matrix(M, CUBIE_R(1), hg, M);
	if (cubie_lu(M, piv))
		return CUBIE_STATUS_SINGULAR;

	CUBIE_UNROLL
	for (int s = 0; s < DIRK_STAGES; s++) {
		if (a[s][s] == 0.0) { /* explicit first stage */
			CUBIE_UNROLL
			for (int i = 0; i < CUBIE_NSTATES; i++)
				k[s][i] = f0[i];
			continue;
		}
		const double ts = t + c[s] * (double)h;
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++) {
			r[i] = y[i] + h * cubie_stage_sum(a[s], k, i, s);
			/* predictor: the last stage's slope */
			z[i] = r[i] + hg * (s > 0 ? k[s - 1][i] : f0[i]);
		}
		/* the rate of the last stage is a fair guess for this one */
		eta = pow(eta > 2.2e-16 ? eta : 2.2e-16, 0.8);
		double prev = 0;
		int done = 0;
		for (int it = 0; it < CUBIE_NEWTON_MAX_ITER && !done; it++) {
			cubie_rhs(ts, z, p, g);
#if CUBIE_JAC_UPDATE
			cubie_jac(ts, z, p, M);
			cubie_iter_matrix(M, CUBIE_R(1), hg, M);
			if (cubie_lu(M, piv))
				return CUBIE_STATUS_SINGULAR;
#endif
			CUBIE_UNROLL
			for (int i = 0; i < CUBIE_NSTATES; i++)
				g[i] = r[i] + hg * g[i] - z[i];
			cubie_lu_solve(M, piv, g);
			CUBIE_UNROLL
			for (int i = 0; i < CUBIE_NSTATES; i++)
				z[i] += g[i];
			const double nd = cubie_wrms(g, y);
			done = cubie_newton_test(nd, prev, it, &eta);
			if (done < 0 || !(nd == nd))
				return CUBIE_STATUS_NEWTON;
			prev = nd;
		}
		if (!done)
			return CUBIE_STATUS_NEWTON;
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++)
			k[s][i] = (z[i] - r[i]) / hg;
	}
	CUBIE_UNROLL
	for (int i = 0; i < CUBIE_NSTATES; i++)
		y_new[i] = y[i] + h * cubie_stage_sum(b, k, i, DIRK_STAGES);
#ifdef DIRK_E
	{
		const double e[DIRK_STAGES] = DIRK_E;
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++)
			err[i] = h * cubie_stage_sum(e, k, i, DIRK_STAGES);
	}
#else
	(void)err;
#endif
	return 0;
}
#endif
