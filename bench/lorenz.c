/* Benchmark: the Lorenz sweep of examples/lorenz.ini on the cuda backend,
 * float32, rk4, dt = 1e-3 over [0, 1], final state only, at N runs.
 * Prints compile time (cold: empty cache; cached), kernel time (CUDA
 * events) and the wall time of cubie_solve (host arrays in and out), the
 * medians of several solves after a warm-up.
 * usage: lorenz-bench FILE.ini LOG2N... [-s SECTION.KEY=VALUE]... */
#include <cubie/cubie.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPEATS 5

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp);
	return v[n / 2];
}

static cubie_config *config(const char *file, int log2n, char **sets, int nsets)
{
	cubie_error e = {0};
	cubie_config *c;
	char rho[96];
	snprintf(rho, sizeof rho, "parameters.rho=linspace(0, 21, %ld)", 1L << log2n);
	if (cubie_config_load(file, &c, &e) || cubie_config_set(c, rho, &e)) {
		fprintf(stderr, "lorenz-bench: %s\n", e.msg);
		exit(2);
	}
	for (int i = 0; i < nsets; i++)
		if (cubie_config_set(c, sets[i], &e)) {
			fprintf(stderr, "lorenz-bench: %s\n", e.msg);
			exit(2);
		}
	return c;
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
		cubie_config *c = config(argv[1], logs[k], sets, ns);
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
		double kernel[REPEATS], wall[REPEATS], acc = 0, rej = 0;
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
			}
			if (r == REPEATS - 1) {
				const cubie_array *st = cubie_result_find(res, "steps");
				const int *steps = st->data;
				size_t n = st->shape[1];
				for (size_t i = 0; i < n; i++)
					acc += steps[i], rej += steps[n + i];
				acc /= (double)n, rej /= (double)n;
				if (cubie_result_failed(res))
					printf("warning: %zu runs failed\n", cubie_result_failed(res));
			}
			cubie_result_free(res);
		}
		double km = median(kernel, REPEATS), wm = median(wall, REPEATS);
		printf("N = 2^%d: create %.3f s (%s, compile %.3f s); kernel %.3f ms (%.1f Mruns/s); "
		       "solve wall %.3f ms; steps/run %.1f accepted, %.1f rejected (median of %d)\n",
		       logs[k], create_s, st.cache_hit ? "cached" : "cold", st.compile_s, km * 1e3,
		       (double)(1L << logs[k]) / km * 1e-6, wm * 1e3, acc, rej, REPEATS);
		cubie_solver_free(s);
		cubie_config_free(c);
	}
	return 0;
}
