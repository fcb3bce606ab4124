/* Benchmark: the cpu backend against a hand-vectorized C loop, in one run.
 * The Lorenz sweep of bench/lorenz.ini (rho = linspace(0, 21, N), t in
 * [0, 1], final state only) by rk4 with dt = 1e-3 and by dormand_prince_54
 * at atol = rtol = 1e-6 (PI controller, first step 1e-3), in float32 and
 * float64: cubie_solve with device.backend = cpu, and the reference loop of
 * bench/cpu-ref.h (W runs in SIMD lanes, OpenMP over blocks), both on every
 * core OpenMP gives. Prints medians of several runs after a warm-up: the
 * reference's time, cubie's kernel time and solve wall, their ratios to the
 * reference, and the largest difference of the final states between the
 * two, relative to max(1, |reference|).
 * The reference is built with -O3 -march=native (see Makefile.am).
 * usage: cpu-bench FILE.ini LOG2N [-s SECTION.KEY=VALUE]... */
#include <cubie/cubie.h>
#include "bench.h"
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REPEATS 5

/* bench/cpu-ref.c */
void cpu_ref(int f64, int adaptive, long n, const void *rho, void *out);
const char *cpu_ref_built(void);

static void die(const char *what, const cubie_error *e)
{
	fprintf(stderr, "cpu-bench: %s: %s\n", what, e->msg);
	exit(3);
}

static void machine(void)
{
	char line[512], model[256] = "unknown CPU";
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
			snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
	printf("machine: %s, %ld cores online, %d OpenMP threads; reference: %s\n", model,
	       sysconf(_SC_NPROCESSORS_ONLN), omp_get_max_threads(), cpu_ref_built());
}

int main(int argc, char **argv)
{
	char *sets[32];
	int ns = 0, log2n = -1;
	if (argc < 3) {
		fprintf(stderr, "usage: cpu-bench FILE.ini LOG2N [-s SECTION.KEY=VALUE]...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-s") && i + 1 < argc && ns < 32)
			sets[ns++] = argv[++i];
		else
			log2n = atoi(argv[i]);
	}
	if (log2n < 4 || log2n > 30) {
		fprintf(stderr, "cpu-bench: LOG2N must be in 4..30\n");
		return 2;
	}
	const long n = 1L << log2n;
	machine();
	printf("Lorenz, rho = linspace(0, 21, 2^%d), t in [0, 1], final state only; medians of %d "
	       "after a warm-up\n",
	       log2n, REPEATS);
	for (int adaptive = 0; adaptive <= 1; adaptive++)
		for (int f64 = 0; f64 <= 1; f64++) {
			cubie_error e = {0};
			cubie_config *c;
			cubie_solver *s;
			char rho_set[96];
			snprintf(rho_set, sizeof rho_set, "parameters.rho=linspace(0, 21, %ld)", n);
			const char *base[] = {rho_set, "device.backend=cpu", NULL};
			const char *rk4[] = {"solve.integrator=rk4", "solve.dt=0.001", NULL};
			const char *dp5[] = {"solve.integrator=dormand_prince_54", "solve.dt=0.001",
			                     "solve.atol=1e-6", "solve.rtol=1e-6", "solve.controller=pi", NULL};
			if (cubie_config_load(argv[1], &c, &e))
				die(argv[1], &e);
			for (int i = 0; base[i]; i++)
				if (cubie_config_set(c, base[i], &e))
					die(base[i], &e);
			for (const char *const *v = adaptive ? dp5 : rk4; *v; v++)
				if (cubie_config_set(c, *v, &e))
					die(*v, &e);
			if (cubie_config_set(c, f64 ? "solve.precision=float64" : "solve.precision=float32",
			                     &e))
				die("precision", &e);
			for (int i = 0; i < ns; i++)
				if (cubie_config_set(c, sets[i], &e))
					die(sets[i], &e);
			double t = now();
			if (cubie_solver_create(c, &s, &e))
				die("solver", &e);
			const double create_s = now() - t;

			/* the same rho values as the run table (core/config.c's linspace) */
			const size_t rs = f64 ? sizeof(double) : sizeof(float);
			char *rho = malloc((size_t)n * rs), *out = malloc(3 * (size_t)n * rs);
			for (long i = 0; i < n; i++) {
				double u = i == n - 1 ? 21.0 : 21.0 * ((double)i / (double)(n - 1));
				if (f64)
					((double *)rho)[i] = u;
				else
					((float *)rho)[i] = (float)u;
			}
			double tr[REPEATS], tk[REPEATS], tw[REPEATS];
			cubie_result *res = NULL;
			for (int r = -1; r < REPEATS; r++) { /* r = -1: warm-up */
				t = now();
				cpu_ref(f64, adaptive, n, rho, out);
				if (r >= 0)
					tr[r] = now() - t;
				cubie_result_free(res);
				if (cubie_solve(s, &res, &e))
					die("solve", &e);
				cubie_stats st;
				cubie_solver_stats(s, &st);
				if (r >= 0)
					tk[r] = st.kernel_s, tw[r] = st.solve_s;
			}
			const cubie_array *v = cubie_result_find(res, "values");
			size_t last = (v->shape[0] - 1) * v->shape[1] * (size_t)n;
			double diff = 0;
			for (size_t i = 0; i < 3 * (size_t)n; i++) {
				double x = f64 ? ((const double *)v->data)[last + i]
				               : ((const float *)v->data)[last + i];
				double y = f64 ? ((double *)out)[i] : ((float *)out)[i];
				double d = fabs(x - y) / (fabs(y) > 1 ? fabs(y) : 1);
				diff = d > diff || isnan(d) ? d : diff;
			}
			const size_t failed = cubie_result_failed(res);
			cubie_result_free(res);
			cubie_solver_free(s);
			cubie_config_free(c);
			free(rho);
			free(out);
			const double mr = median(tr, REPEATS), mk = median(tk, REPEATS),
			             mw = median(tw, REPEATS);
			printf("%-17s %s: reference %8.2f ms | cubie kernel %8.2f ms (%.2fx), solve wall "
			       "%8.2f ms (%.2fx) | solver create %.2f s | max difference %.1e%s\n",
			       adaptive ? "dopri5 1e-6" : "rk4 dt 1e-3", f64 ? "float64" : "float32", mr * 1e3,
			       mk * 1e3, mk / mr, mw * 1e3, mw / mr, create_s, diff,
			       failed ? " | some runs FAILED" : "");
			fflush(stdout);
		}
	return 0;
}
