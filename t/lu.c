/* The per-thread dense LU of include/cubie/device/lu.h, compiled by the host
 * compiler as the cpu backend compiles it: real and complex, unrolled
 * (n = 3, 8) and looped (n = 20 > CUBIE_LU_UNROLL_MAX), on random matrices
 * and on the OREGO iteration matrix that exposed a pivoting bug (row swaps
 * at elimination steps k >= 1 moved the multipliers of the earlier steps,
 * while the solve applied each swap between eliminations: a wrong system
 * was solved, and ros3p on OREGO rejected 3045 of 13652 steps). Each solve
 * must leave a residual at rounding level, and the random matrices must
 * have made swaps at k >= 1. TAP. */
#include "config.h"
#include "tap.h"

#include <math.h>

#define CUBIE_DEV static inline
#define CUBIE_UNROLL
typedef double cubie_real;
#define CUBIE_M(f) f
#define CUBIE_R(x) ((cubie_real)(x))
#include <cubie/device/status.h>

/* lu.h once per size, its functions renamed lu3*, lu8*, lu20* */
#define CUBIE_NSTATES 3
#define LU_P(x) lu3##x
#include "lu_sized.h"
#define CUBIE_NSTATES 8
#define LU_P(x) lu8##x
#include "lu_sized.h"
#define CUBIE_NSTATES 20
#define LU_P(x) lu20##x
#include "lu_sized.h"

#define NMAX 20

static unsigned long long rng = 88172645463325252ULL;
static double uniform(void) /* xorshift64, in (-1, 1) */
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 4503599627370496.0 - 1.0;
}

typedef int (*lu_fn)(cubie_real *, int *);
typedef void (*solve_fn)(const cubie_real *, const int *, cubie_real *);
typedef int (*lu_c_fn)(cubie_real *, cubie_real *, int *);
typedef void (*solve_c_fn)(const cubie_real *, const cubie_real *, const int *, cubie_real *,
                           cubie_real *);

/* max |A x - b| / (max|A| max|x|): 0 up to rounding when x solves A x = b */
static double residual(int n, const double *A, const double *x, const double *b)
{
	double r = 0, a = 0, xm = 0;
	for (int i = 0; i < n; i++) {
		double s = -b[i];
		for (int j = 0; j < n; j++) {
			s += A[i * n + j] * x[j];
			a = fmax(a, fabs(A[i * n + j]));
		}
		r = fmax(r, fabs(s));
		xm = fmax(xm, fabs(x[i]));
	}
	return r / (a * xm);
}

/* Solves A x = b; the relative residual, and whether a swap happened at
 * some k >= 1. */
static double solve_real(int n, lu_fn lu, solve_fn sv, const double *A, const double *b,
                         int *late_swap)
{
	double F[NMAX * NMAX], x[NMAX];
	int piv[NMAX];
	memcpy(F, A, sizeof(double) * (size_t)(n * n));
	memcpy(x, b, sizeof(double) * (size_t)n);
	if (lu(F, piv))
		return INFINITY;
	for (int k = 1; k < n; k++)
		*late_swap |= piv[k] != k;
	sv(F, piv, x);
	return residual(n, A, x, b);
}

static double solve_complex(int n, lu_c_fn lu, solve_c_fn sv, const double *Ar, const double *Ai,
                            const double *br, const double *bi, int *late_swap)
{
	double Fr[NMAX * NMAX], Fi[NMAX * NMAX], xr[NMAX], xi[NMAX];
	int piv[NMAX];
	memcpy(Fr, Ar, sizeof(double) * (size_t)(n * n));
	memcpy(Fi, Ai, sizeof(double) * (size_t)(n * n));
	memcpy(xr, br, sizeof(double) * (size_t)n);
	memcpy(xi, bi, sizeof(double) * (size_t)n);
	if (lu(Fr, Fi, piv))
		return INFINITY;
	for (int k = 1; k < n; k++)
		*late_swap |= piv[k] != k;
	sv(Fr, Fi, piv, xr, xi);
	/* the residual of the real 2n x 2n system [Ar -Ai; Ai Ar] [xr; xi] = [br; bi] */
	double r = 0, a = 0, xm = 0;
	for (int i = 0; i < n; i++) {
		double sr = -br[i], si = -bi[i];
		for (int j = 0; j < n; j++) {
			sr += Ar[i * n + j] * xr[j] - Ai[i * n + j] * xi[j];
			si += Ar[i * n + j] * xi[j] + Ai[i * n + j] * xr[j];
			a = fmax(a, fabs(Ar[i * n + j]) + fabs(Ai[i * n + j]));
		}
		r = fmax(r, fmax(fabs(sr), fabs(si)));
		xm = fmax(xm, fmax(fabs(xr[i]), fabs(xi[i])));
	}
	return r / (a * xm);
}

static void random_tests(int n, lu_fn lu, solve_fn sv, lu_c_fn luc, solve_c_fn svc)
{
	double A[NMAX * NMAX], Ai[NMAX * NMAX], b[NMAX], bi[NMAX], worst = 0, worst_c = 0;
	int late = 0, late_c = 0;
	for (int trial = 0; trial < 200; trial++) {
		for (int i = 0; i < n * n; i++) {
			A[i] = uniform();
			Ai[i] = uniform();
		}
		for (int i = 0; i < n; i++) {
			b[i] = uniform();
			bi[i] = uniform();
		}
		worst = fmax(worst, solve_real(n, lu, sv, A, b, &late));
		worst_c = fmax(worst_c, solve_complex(n, luc, svc, A, Ai, b, bi, &late_c));
	}
	ok(worst < 1e-12 && late, "n = %d, 200 random real systems: residual %.2g (swaps at k >= 1: %s)",
	   n, worst, late ? "yes" : "no");
	ok(worst_c < 1e-12 && late_c,
	   "n = %d, 200 random complex systems: residual %.2g (swaps at k >= 1: %s)", n, worst_c,
	   late_c ? "yes" : "no");
}

int main(void)
{
	/* ros3p's I - h gamma J on OREGO at t = 20.467, y = (115288.47,
	 * 0.0076994, 898.71), h gamma = 0.0017543: no swap at k = 0, then
	 * rows 2 and 3 swap at k = 1 */
	const double hg = 0.0022243915691787328 * 0.78867513459481287;
	const double y1 = 115288.46527670763, y2 = 0.0076993557817959732;
	const double J[9] = {77.27 * (1 - 2 * 8.375e-6 * y1 - y2), 77.27 * (1 - y1), 0,
	                     -y2 / 77.27, -(1 + y1) / 77.27, 1 / 77.27,
	                     0.161, 0, -0.161};
	double M[9], b[3] = {1, -2, 3};
	for (int i = 0; i < 9; i++)
		M[i] = (i % 4 == 0) - hg * J[i];
	int late = 0;
	double r = solve_real(3, lu3, lu3_solve, M, b, &late);
	ok(r < 1e-14 && late, "OREGO's iteration matrix: residual %.2g, swap at k = 1: %s", r,
	   late ? "yes" : "no");

	random_tests(3, lu3, lu3_solve, lu3_c, lu3_solve_c);
	random_tests(8, lu8, lu8_solve, lu8_c, lu8_solve_c);
	random_tests(20, lu20, lu20_solve, lu20_c, lu20_solve_c);

	/* a zero pivot column is SINGULAR */
	double S[9] = {1, 2, 3, 2, 4, 6, 1, 1, 1}, P[9];
	int piv[3];
	memcpy(P, S, sizeof S);
	is_int(lu3(P, piv), CUBIE_STATUS_SINGULAR, "a singular matrix: status SINGULAR");
	done_testing();
	return tap_exit();
}
