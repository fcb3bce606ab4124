/* Benchmark: the Lorenz sweep of examples/lorenz.ini on the cuda backend,
 * float32, rk4, dt = 1e-3 over [0, 1], final state only, at N runs.
 * Prints compile time (cold: empty cache; cached), kernel time (CUDA
 * events) and the wall time of cubie_solve (host arrays in and out), the
 * medians of several solves after a warm-up (and the warm-up's own wall
 * time), then the mean step counts per run and the largest error of the
 * final state against a float64 dop853 solve at 1e-13, relative to
 * max(1, |reference|).
 * usage: lorenz-bench FILE.ini LOG2N... [-s SECTION.KEY=VALUE]... */
#include <cubie/cubie.h>
#include "bench.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPEATS 5

static cubie_config *config(const char *file, int log2n, char **sets, int nsets, int steps)
{
	cubie_error e = {0};
	cubie_config *c;
	char rho[96];
	snprintf(rho, sizeof rho, "parameters.rho=linspace(0, 21, %ld)", 1L << log2n);
	char save[256] = "output.save=steps";
	if (cubie_config_load(file, &c, &e) || cubie_config_set(c, rho, &e)) {
		fprintf(stderr, "lorenz-bench: %s\n", e.msg);
		exit(2);
	}
	for (int i = 0; i < nsets; i++) {
		if (!strncmp(sets[i], "output.save=", 12)) /* the counting solve adds steps */
			snprintf(save, sizeof save, "%s, steps", sets[i]);
		if (cubie_config_set(c, sets[i], &e)) {
			fprintf(stderr, "lorenz-bench: %s\n", e.msg);
			exit(2);
		}
	}
	if (steps && cubie_config_set(c, save, &e)) {
		fprintf(stderr, "lorenz-bench: %s\n", e.msg);
		exit(2);
	}
	return c;
}

/* The same runs in float64 with dop853 at 1e-13: the reference the
 * final states are compared with. */
static cubie_config *reference(const char *file, int log2n, char **sets, int nsets)
{
	cubie_error e = {0};
	cubie_config *c = config(file, log2n, sets, nsets, 0);
	const char *ref[] = {"solve.precision=float64", "solve.integrator=dormand_prince_853",
	                     "solve.atol=1e-13", "solve.rtol=1e-13", "solve.controller=pi"};
	for (size_t i = 0; i < sizeof ref / sizeof *ref; i++)
		if (cubie_config_set(c, ref[i], &e)) {
			fprintf(stderr, "lorenz-bench: %s\n", e.msg);
			exit(2);
		}
	return c;
}

/* One solve of its own, for counts and accuracy (not timed). */
static cubie_result *solve(cubie_config *c)
{
	cubie_error e = {0};
	cubie_solver *s;
	cubie_result *r;
	if (cubie_solver_create(c, &s, &e) || cubie_solve(s, &r, &e)) {
		fprintf(stderr, "lorenz-bench: %s\n", e.msg);
		exit(3);
	}
	cubie_solver_free(s);
	cubie_config_free(c);
	return r;
}

/* CUBIE_BENCH_LOG=1: the library's log, debug lines included, on stderr */
static void log_line(int level, const char *msg, void *user)
{
	(void)level, (void)user;
	fprintf(stderr, "log: %s\n", msg);
}

int main(int argc, char **argv)
{
	char *sets[32];
	int logs[8], nl = 0, ns = 0;
	if (argc < 3) {
		fprintf(stderr, "usage: lorenz-bench FILE.ini LOG2N... [-s SECTION.KEY=VALUE]...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-s") && i + 1 < argc && ns < 32)
			sets[ns++] = argv[++i];
		else if (nl < 8)
			logs[nl++] = atoi(argv[i]);
	}
	for (int k = 0; k < nl; k++) {
		cubie_error e = {0};
		cubie_config *c = config(argv[1], logs[k], sets, ns, 0);
		cubie_solver *s;
		cubie_stats st;
		double t = now();
		if (cubie_solver_create(c, &s, &e)) {
			fprintf(stderr, "lorenz-bench: %s\n", e.msg);
			return 3;
		}
		double create_s = now() - t;
		cubie_solver_stats(s, &st);
		if (k == 0) {
			char *plan = cubie_solver_describe(s);
			printf("%s", plan);
			free(plan);
		}
		double kernel[REPEATS], wall[REPEATS], first = 0;
		if (getenv("CUBIE_BENCH_LOG")) /* of the timed solves only */
			cubie_set_log(log_line, NULL);
		for (int r = -1; r < REPEATS; r++) { /* r = -1: warm-up */
			cubie_result *res;
			if (cubie_solve(s, &res, &e)) {
				fprintf(stderr, "lorenz-bench: %s\n", e.msg);
				return 3;
			}
			cubie_stats rs;
			cubie_solver_stats(s, &rs);
			if (r >= 0) {
				kernel[r] = rs.kernel_s;
				wall[r] = rs.solve_s;
			} else {
				first = rs.solve_s;
			}
			if (r == REPEATS - 1 && cubie_result_failed(res))
				printf("warning: %zu runs failed\n", cubie_result_failed(res));
			cubie_result_free(res);
		}
		cubie_set_log(NULL, NULL);
		cubie_solver_free(s);
		cubie_config_free(c);
		/* Steps and accuracy from solves of their own, so that the timed
		 * ones move no more than the final state. */
		double acc = 0, rej = 0, err = 0;
		cubie_result *res = solve(config(argv[1], logs[k], sets, ns, 1));
		/* the reference without a tuning run's compile options */
		const char *o = getenv("CUBIE_NVRTC_OPTIONS");
		char *opts = o ? strdup(o) : NULL;
		unsetenv("CUBIE_NVRTC_OPTIONS");
		cubie_result *ref = solve(reference(argv[1], logs[k], sets, ns));
		if (opts)
			setenv("CUBIE_NVRTC_OPTIONS", opts, 1);
		free(opts);
		const cubie_array *sa = cubie_result_find(res, "steps");
		const int *steps = sa->data;
		size_t n = sa->shape[1];
		for (size_t i = 0; i < n; i++)
			acc += steps[i], rej += steps[n + i];
		acc /= (double)n, rej /= (double)n;
		const cubie_array *v = cubie_result_find(res, "values"), *w = cubie_result_find(ref, "values");
		size_t last = (v->shape[0] - 1) * v->shape[1] * n;
		for (size_t i = 0; i < v->shape[1] * n; i++) {
			double x = v->dtype == CUBIE_DTYPE_FLOAT32 ? ((const float *)v->data)[last + i]
			                                           : ((const double *)v->data)[last + i];
			double y = ((const double *)w->data)[last + i];
			double d = fabs(x - y) / (fabs(y) > 1 ? fabs(y) : 1);
			err = d > err ? d : err;
		}
		cubie_result_free(res);
		cubie_result_free(ref);
		double km = median(kernel, REPEATS), wm = median(wall, REPEATS);
		printf("N = 2^%d: create %.3f s (%s, compile %.3f s); kernel %.3f ms (%.1f Mruns/s); "
		       "solve wall %.3f ms (first %.3f ms); steps/run %.1f accepted, %.1f rejected; "
		       "max error %.2e (median of %d)\n",
		       logs[k], create_s, st.cache_hit ? "cached" : "cold", st.compile_s, km * 1e3,
		       (double)(1L << logs[k]) / km * 1e-6, wm * 1e3, first * 1e3, acc, rej, err,
		       REPEATS);
	}
	return 0;
}
