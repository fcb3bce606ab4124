/* Benchmark: the Robertson ensemble of bench/robertson.ini (issue 10):
 * k1 = 0.04 x linspace(0.5, 1.5, N), k2 = 3e7, k3 = 1e4, y0 = (1, 0, 0),
 * t in [0, 100], rtol 1e-6, atol 1e-10, float64, final state only. For
 * each method and N: the wall time of cubie_solve, kernel time (CUDA
 * events), steps per run (medians of several solves after a warm-up) and
 * the worst error of the final states against a reference: the same runs
 * at 64 evenly spaced k1, solved by radau_iia_5 at rtol 1e-12,
 * atol 1e-18, checked against rodas5p at the same tolerances. The error is
 * reported absolute (max |y - ref| over states and runs) and in units of
 * the benchmark's tolerance (|y - ref| / (1e-10 + 1e-6 |ref|)).
 * usage: stiff-bench FILE.ini LOG2N... [-m METHOD]... [-s SECTION.KEY=VALUE]... */
#include <cubie/cubie.h>
#include "bench.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPEATS 5
#define N_REF 64
#define K1_LO 0.02
#define K1_HI 0.06

static void die(const char *what, const cubie_error *e)
{
	fprintf(stderr, "stiff-bench: %s: %s\n", what, e->msg);
	exit(3);
}

static cubie_config *config(const char *file, const char *k1, const char *method, char **sets,
                            int nsets)
{
	cubie_error e = {0};
	cubie_config *c;
	char m[96];
	snprintf(m, sizeof m, "solve.integrator=%s", method);
	if (cubie_config_load(file, &c, &e) || cubie_config_set(c, k1, &e) ||
	    cubie_config_set(c, m, &e) || cubie_config_set(c, "output.save=steps", &e))
		die(file, &e);
	for (int i = 0; i < nsets; i++)
		if (cubie_config_set(c, sets[i], &e))
			die(sets[i], &e);
	return c;
}

/* values[save 1][state][run] */
static double final(const cubie_result *r, size_t state, size_t run)
{
	const cubie_array *a = cubie_result_find(r, "values");
	const double *v = a->data; /* float64 */
	return v[(1 * a->shape[1] + state) * a->shape[2] + run];
}

/* k1 of run i of N: linspace(K1_LO, K1_HI, N) as the core computes it */
static double k1_of(size_t i, size_t n)
{
	return n > 1 ? K1_LO + (K1_HI - K1_LO) * (double)i / (double)(n - 1) : K1_LO;
}

/* The reference final states at the runs idx[] of an ensemble of n. */
static void reference(const char *file, char **sets, int nsets, const char *method, size_t n,
                      const size_t *idx, double ref[N_REF][3])
{
	char *k1 = malloc(64 + 32 * N_REF);
	size_t len = (size_t)sprintf(k1, "parameters.k1=");
	for (int j = 0; j < N_REF; j++)
		len += (size_t)sprintf(k1 + len, "%s%.17g", j ? ", " : "", k1_of(idx[j], n));
	char *tight[40];
	int nt = 0;
	for (int i = 0; i < nsets && nt < 36; i++)
		tight[nt++] = sets[i];
	tight[nt++] = "solve.rtol=1e-12";
	tight[nt++] = "solve.atol=1e-18";
	tight[nt++] = "solve.precision=float64";
	cubie_config *c = config(file, k1, method, tight, nt);
	cubie_error e = {0};
	cubie_solver *s;
	cubie_result *r;
	if (cubie_solver_create(c, &s, &e) || cubie_solve(s, &r, &e))
		die("reference", &e);
	if (cubie_result_failed(r))
		fprintf(stderr, "stiff-bench: warning: %zu reference runs failed\n", cubie_result_failed(r));
	for (int j = 0; j < N_REF; j++)
		for (int q = 0; q < 3; q++)
			ref[j][q] = final(r, (size_t)q, (size_t)j);
	cubie_result_free(r);
	cubie_solver_free(s);
	cubie_config_free(c);
	free(k1);
}

int main(int argc, char **argv)
{
	char *sets[32], *methods[16];
	int logs[8], nl = 0, ns = 0, nm = 0;
	if (argc < 3) {
		fprintf(stderr, "usage: stiff-bench FILE.ini LOG2N... [-m METHOD]... "
		                "[-s SECTION.KEY=VALUE]...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-s") && i + 1 < argc && ns < 32)
			sets[ns++] = argv[++i];
		else if (!strcmp(argv[i], "-m") && i + 1 < argc && nm < 16)
			methods[nm++] = argv[++i];
		else if (nl < 8)
			logs[nl++] = atoi(argv[i]);
	}
	if (!nm) {
		static char *const def[] = {"rodas5p", "kvaerno5", "radau_iia_5"};
		for (nm = 0; nm < 3; nm++)
			methods[nm] = def[nm];
	}
	for (int k = 0; k < nl; k++) {
		const size_t n = (size_t)1 << logs[k];
		size_t idx[N_REF];
		double ref[N_REF][3], check[N_REF][3], rdiff = 0;
		for (int j = 0; j < N_REF; j++)
			idx[j] = (size_t)((double)j * (double)(n - 1) / (N_REF - 1));
		reference(argv[1], sets, ns, "radau_iia_5", n, idx, ref);
		reference(argv[1], sets, ns, "rodas5p", n, idx, check);
		for (int j = 0; j < N_REF; j++)
			for (int q = 0; q < 3; q++)
				rdiff = fmax(rdiff, fabs(ref[j][q] - check[j][q]) / (1e-12 * fabs(ref[j][q]) + 1e-18));
		printf("N = 2^%d: reference radau_iia_5 at rtol 1e-12 (rodas5p agrees to %.2g of its "
		       "tolerance)\n", logs[k], rdiff);
		char k1[96];
		snprintf(k1, sizeof k1, "parameters.k1=linspace(%.17g, %.17g, %zu)", K1_LO, K1_HI, n);
		for (int mi = 0; mi < nm; mi++) {
			cubie_error e = {0};
			cubie_config *c = config(argv[1], k1, methods[mi], sets, ns);
			cubie_solver *s;
			cubie_stats st;
			double t0 = now();
			if (cubie_solver_create(c, &s, &e))
				die(methods[mi], &e);
			const double create_s = now() - t0;
			cubie_solver_stats(s, &st);
			if (k == 0 && mi == 0) {
				char *plan = cubie_solver_describe(s);
				printf("%s", plan);
				free(plan);
			}
			double kernel[REPEATS], wall[REPEATS], acc = 0, rej = 0, eabs = 0, etol = 0;
			size_t failed = 0;
			for (int r = -1; r < REPEATS; r++) { /* r = -1: warm-up */
				cubie_result *res;
				if (cubie_solve(s, &res, &e))
					die(methods[mi], &e);
				cubie_stats rs;
				cubie_solver_stats(s, &rs);
				if (r >= 0) {
					kernel[r] = rs.kernel_s;
					wall[r] = rs.solve_s;
				}
				if (r == REPEATS - 1) {
					const cubie_array *sa = cubie_result_find(res, "steps");
					const int *steps = sa->data;
					for (size_t i = 0; i < n; i++)
						acc += steps[i], rej += steps[n + i];
					acc /= (double)n, rej /= (double)n;
					failed = cubie_result_failed(res);
					for (int j = 0; j < N_REF; j++)
						for (size_t q = 0; q < 3; q++) {
							double d = fabs(final(res, q, idx[j]) - ref[j][q]);
							eabs = fmax(eabs, d);
							etol = fmax(etol, d / (1e-10 + 1e-6 * fabs(ref[j][q])));
						}
				}
				cubie_result_free(res);
			}
			printf("N = 2^%d %-12s create %.3f s (%s); kernel %.3f ms; solve wall %.3f ms; "
			       "steps/run %.1f accepted, %.1f rejected; max error %.2e (%.2f tol)%s\n",
			       logs[k], methods[mi], create_s, st.cache_hit ? "cached" : "cold",
			       median(kernel, REPEATS) * 1e3, median(wall, REPEATS) * 1e3, acc, rej, eabs,
			       etol, failed ? " FAILED RUNS" : "");
			if (failed)
				printf("warning: %zu runs failed\n", failed);
			cubie_solver_free(s);
			cubie_config_free(c);
		}
	}
	return 0;
}
