/* One step of the 3-stage Radau IIA method (order 5), as in Hairer and
 * Wanner's RADAU5 (Solving ODEs II, IV.8): the collocation system
 * Z = h (A x I) F(Z) is solved by simplified Newton in the variables
 * W = (T^-1 x I) Z, where T^-1 A^-1 T = diag(u, [alpha -beta; beta alpha]),
 * so that each iteration needs one real n x n solve with
 *   E1 = (u / h) I - J
 * and one complex one with E2 = ((alpha + i beta) / h) I - J, both
 * factored once per step from J = J(t, y). y_new = y + Z_3 (stiffly
 * accurate); the error estimate is RADAU5's (IV.8.20), filtered through
 * E1, and recomputed once with f(t, y + err) when it would reject the step.
 * Include after defining RAD_C (3 nodes), RAD_T, RAD_TI (3 x 3), RAD_U,
 * RAD_ALPHA, RAD_BETA (eigenvalues of A^-1), RAD_DD (3). */
#ifndef CUBIE_DEVICE_RADAU_H
#define CUBIE_DEVICE_RADAU_H
#include <cubie/device/newton.h>

#define CUBIE_NN_ (CUBIE_NSTATES * CUBIE_NSTATES)

CUBIE_DEV int cubie_step(double t, cubie_real h, const cubie_real *y, const cubie_real *p,
                         cubie_real *y_new, cubie_real *err, cubie_real *f0, cubie_real *f1,
                         int f0_ok)
{
	const double c[3] = RAD_C, T[3][3] = RAD_T, TI[3][3] = RAD_TI, dd[3] = RAD_DD;
	cubie_real J[CUBIE_NN_], E1[CUBIE_NN_], E2r[CUBIE_NN_], E2i[CUBIE_NN_];
	cubie_real Z[3][CUBIE_NSTATES], W[3][CUBIE_NSTATES], F[3][CUBIE_NSTATES];
	cubie_real ys[CUBIE_NSTATES];
	int p1[CUBIE_NSTATES], p2[CUBIE_NSTATES];
	const cubie_real fac1 = CUBIE_R(RAD_U) / h, alphn = CUBIE_R(RAD_ALPHA) / h,
	                 betan = CUBIE_R(RAD_BETA) / h;
	(void)f1;

	if (!f0_ok)
		cubie_rhs(t, y, p, f0);
	cubie_jac(t, y, p, J);
	cubie_iter_matrix(J, fac1, CUBIE_R(1), E1);
	cubie_iter_matrix(J, alphn, CUBIE_R(1), E2r);
	CUBIE_LU_UNROLL
	for (int k = 0; k < CUBIE_NN_; k++)
		E2i[k] = 0;
	CUBIE_LU_UNROLL
	for (int i = 0; i < CUBIE_NSTATES; i++)
		E2i[i * CUBIE_NSTATES + i] = betan;
	if (cubie_lu(E1, p1) || cubie_lu_c(E2r, E2i, p2))
		return CUBIE_STATUS_SINGULAR;

	CUBIE_UNROLL
	for (int s = 0; s < 3; s++) {
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++)
			Z[s][i] = W[s][i] = 0;
	}
	double eta = 1, prev = 0;
	int done = 0;
	for (int it = 0; it < CUBIE_NEWTON_MAX_ITER && !done; it++) {
		CUBIE_UNROLL
		for (int s = 0; s < 3; s++) {
			CUBIE_UNROLL
			for (int i = 0; i < CUBIE_NSTATES; i++)
				ys[i] = y[i] + Z[s][i];
			cubie_rhs(t + c[s] * (double)h, ys, p, F[s]);
		}
		/* right-hand sides, transformed, in F: TI F - Lambda W / h */
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++) {
			cubie_real g[3];
			CUBIE_UNROLL
			for (int s = 0; s < 3; s++)
				g[s] = CUBIE_R(TI[s][0]) * F[0][i] + CUBIE_R(TI[s][1]) * F[1][i] +
				       CUBIE_R(TI[s][2]) * F[2][i];
			F[0][i] = g[0] - fac1 * W[0][i];
			F[1][i] = g[1] - (alphn * W[1][i] - betan * W[2][i]);
			F[2][i] = g[2] - (betan * W[1][i] + alphn * W[2][i]);
		}
		cubie_lu_solve(E1, p1, F[0]);
		cubie_lu_solve_c(E2r, E2i, p2, F[1], F[2]);
		double nd = 0;
		CUBIE_UNROLL
		for (int s = 0; s < 3; s++) {
			const double n = cubie_wrms(F[s], y);
			nd += n * n;
			CUBIE_UNROLL
			for (int i = 0; i < CUBIE_NSTATES; i++)
				W[s][i] += F[s][i];
		}
		nd = sqrt(nd / 3);
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++) {
			CUBIE_UNROLL
			for (int s = 0; s < 3; s++)
				Z[s][i] = CUBIE_R(T[s][0]) * W[0][i] + CUBIE_R(T[s][1]) * W[1][i] +
				          CUBIE_R(T[s][2]) * W[2][i];
		}
		done = cubie_newton_test(nd, prev, it, &eta);
		if (done < 0 || !(nd == nd))
			return CUBIE_STATUS_NEWTON;
		prev = nd;
	}
	if (!done)
		return CUBIE_STATUS_NEWTON;

	CUBIE_UNROLL
	for (int i = 0; i < CUBIE_NSTATES; i++) {
		y_new[i] = y[i] + Z[2][i];
		/* F[0] keeps sum dd_s Z_s / h for the second estimate */
		F[0][i] = (CUBIE_R(dd[0]) * Z[0][i] + CUBIE_R(dd[1]) * Z[1][i] +
		           CUBIE_R(dd[2]) * Z[2][i]) / h;
		err[i] = f0[i] + F[0][i];
	}
	cubie_lu_solve(E1, p1, err);
	if (!(cubie_wrms(err, y) < 1)) {
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++)
			ys[i] = y[i] + err[i];
		cubie_rhs(t, ys, p, F[1]);
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++)
			err[i] = F[1][i] + F[0][i];
		cubie_lu_solve(E1, p1, err);
	}
	return 0;
}
#endif
