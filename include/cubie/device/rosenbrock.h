/* One Rosenbrock (ROW / Rosenbrock-W) step for any tableau in the
 * transformed form of Hairer and Wanner (Solving ODEs II, IV.7 (7.25)),
 * the form RODAS and OrdinaryDiffEq use: with M = I - h gamma J(t, y),
 *   M U_i = h gamma ( f(t + alpha_i h, y + sum_j<i a_ij U_j)
 *                     + sum_j<i (C_ij / h) U_j + d_i h df/dt(t, y) ),
 *   y_new = y + sum b_i U_i,   err = sum e_i U_i.
 * One Jacobian and one LU per step, no Newton iteration. Include after
 * defining, as brace initializers of doubles:
 *   ROS_STAGES s;  ROS_GAMMA;  ROS_A, ROS_C  s x s, strictly lower;
 *   ROS_ALPHA, ROS_D, ROS_B, ROS_E  s each.
 * A stage whose argument equals the previous one's (same row of a, same
 * alpha) reuses its f value: the test folds at compile time. */
#ifndef CUBIE_DEVICE_ROSENBROCK_H
#define CUBIE_DEVICE_ROSENBROCK_H
#include <cubie/device/newton.h>

CUBIE_DEV int cubie_step(double t, cubie_real h, const cubie_real *y, const cubie_real *p,
                         cubie_real *y_new, cubie_real *err, cubie_real *f0, cubie_real *f1,
                         int f0_ok)
{
	const double a[ROS_STAGES][ROS_STAGES] = ROS_A, C[ROS_STAGES][ROS_STAGES] = ROS_C;
	const double al[ROS_STAGES] = ROS_ALPHA, d[ROS_STAGES] = ROS_D;
	const double b[ROS_STAGES] = ROS_B, e[ROS_STAGES] = ROS_E;
	cubie_real M[CUBIE_NSTATES * CUBIE_NSTATES], U[ROS_STAGES][CUBIE_NSTATES];
	cubie_real fs[CUBIE_NSTATES], ys[CUBIE_NSTATES];
	int piv[CUBIE_NSTATES];
	const cubie_real hg = h * CUBIE_R(ROS_GAMMA);
	(void)f1;

	if (!f0_ok)
		cubie_rhs(t, y, p, f0);
	cubie_jac(t, y, p, M);
#if !CUBIE_AUTONOMOUS
	cubie_real ft[CUBIE_NSTATES];
	cubie_dfdt(t, y, p, ft);
#endif
	cubie_iter_matrix(M, CUBIE_R(1), hg, M);
	if (cubie_lu(M, piv))
		return CUBIE_STATUS_SINGULAR;
	CUBIE_UNROLL
	for (int s = 0; s < ROS_STAGES; s++) {
		int same = s > 0 && al[s] == al[s - 1];
		CUBIE_UNROLL
		for (int j = 0; j < ROS_STAGES; j++)
			same = same && a[s][j] == a[s - 1][j];
		if (s == 0) {
			CUBIE_UNROLL
			for (int i = 0; i < CUBIE_NSTATES; i++)
				fs[i] = f0[i];
		} else if (!same) {
			CUBIE_UNROLL
			for (int i = 0; i < CUBIE_NSTATES; i++)
				ys[i] = y[i] + cubie_stage_sum(a[s], U, i, s);
			cubie_rhs(t + al[s] * (double)h, ys, p, fs);
		}
		CUBIE_UNROLL
		for (int i = 0; i < CUBIE_NSTATES; i++) {
			cubie_real acc = fs[i];
			CUBIE_UNROLL
			for (int j = 0; j < s; j++)
				if (C[s][j] != 0.0)
					acc += CUBIE_R(C[s][j]) / h * U[j][i];
#if !CUBIE_AUTONOMOUS
			if (d[s] != 0.0)
				acc += CUBIE_R(d[s]) * h * ft[i];
#endif
			U[s][i] = hg * acc;
		}
		cubie_lu_solve(M, piv, U[s]);
	}
	(void)d;
	CUBIE_UNROLL
	for (int i = 0; i < CUBIE_NSTATES; i++) {
		y_new[i] = y[i] + cubie_stage_sum(b, U, i, ROS_STAGES);
		err[i] = cubie_stage_sum(e, U, i, ROS_STAGES);
	}
	return 0;
}
#endif
