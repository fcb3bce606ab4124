/* Per-run time spans: t0, duration and settling_time swept in grids, zips
 * and the runs CSV give each run the values of a separate solve of its
 * own span, against the analytic x = e^-k(t - t0 + settle) and
 * y = 1 + sin t - sin t0; "time" [saves][runs] with NaN past a run's end,
 * summary windows alike; unswept spans keep "time" [saves]. CPU backend. */
#include "config.h"
#include "solve.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *model =
	"[model]\nstates = x, y\nparameters = k\n[equations]\ndx = -k * x\ndy = cos(t)\n"
	"[initial]\nx = 1\ny = 1\n";

static cubie_result *solve(const char *rest, const char *o1, const char *o2, cubie_error *e)
{
	char ini[2048];
	snprintf(ini, sizeof ini, "%s%s", model, rest);
	const char *ov[] = {"device.backend=cpu", o1, o2, NULL};
	return solve_text(ini, ov, e);
}

/* what nvrtc_compiles wants of the kernels here: that they compile (their
 * cos takes local memory for the reduction of large arguments, so local
 * memory is not checked) */
#define COMPILED "compiled by NVRTC"

static double input(const cubie_result *r, const char *name, size_t run)
{
	size_t n;
	const char *const *names = cubie_result_names(r, "inputs", &n);
	const cubie_array *in = cubie_result_find(r, "inputs");
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return ((const double *)in->data)[i * in->shape[1] + run];
	return NAN;
}

/* Every run of r against a separate solve of its span (same method), and
 * against the analytic solution; the saves past its end NaN. */
static void against_separate(cubie_result *r, const char *method, double tol, const char *what)
{
	const cubie_array *t = cubie_result_find(r, "time");
	size_t runs = cubie_result_runs(r), saves = t->shape[0];
	if (!ok(t->ndim == 2 && t->shape[1] == runs, "%s: time is [saves][runs]", what))
		return;
	const double *time = t->data;
	double worst_sep = 0, worst_exact = 0;
	int pad_ok = 1, times_ok = 1;
	for (size_t run = 0; run < runs; run++) {
		double t0 = input(r, "t0", run), d = input(r, "duration", run);
		double st = input(r, "settling_time", run), k = input(r, "k", run);
		char o1[200], o2[200];
		snprintf(o1, sizeof o1, "solve.t0=%.17g", t0);
		snprintf(o2, sizeof o2, "solve.duration=%.17g", d);
		char rest[600];
		snprintf(rest, sizeof rest, "[parameters]\nk = %.17g\n[solve]\nintegrator = %s\n"
		         "dt = 0.001\natol = 1e-10\nrtol = 1e-10\nsettling_time = %.17g\n"
		         "[output]\nsave_every = 0.25\n", k, method, st);
		cubie_error e = {0};
		cubie_result *one = solve(rest, o1, o2, &e);
		if (!one) {
			diag("%s", e.msg);
			worst_sep = INFINITY;
			continue;
		}
		const cubie_array *t1 = cubie_result_find(one, "time");
		size_t n1 = t1->shape[0];
		for (size_t s = 0; s < saves; s++) {
			double tr = time[s * runs + run];
			if (s >= n1) {
				pad_ok &= isnan(tr) && isnan(value_at(r, s, 0, run)) &&
				          isnan(value_at(r, s, 1, run));
				continue;
			}
			times_ok &= fabs(tr - ((const double *)t1->data)[s]) <= 1e-12 * fmax(1, fabs(tr));
			for (size_t v = 0; v < 2; v++)
				worst_sep = fmax(worst_sep, fabs(value_at(r, s, v, run) - value_at(one, s, v, 0)));
			worst_exact = fmax(worst_exact, fabs(value_at(r, s, 0, run) -
			                                     exp(-k * (tr - t0 + st))));
			worst_exact = fmax(worst_exact, fabs(value_at(r, s, 1, run) -
			                                     (1 + sin(tr) - sin(t0 - st))));
		}
		cubie_result_free(one);
	}
	ok(times_ok, "%s: each run's save times are those of its own solve", what);
	ok(pad_ok, "%s: saves past a run's end are NaN, in time and values", what);
	ok(worst_sep <= 1e-12, "%s: the values of separate solves (%.2g)", what, worst_sep);
	ok(worst_exact <= tol, "%s: the analytic solution (%.2g)", what, worst_exact);
}

int main(void)
{
	cubie_error e = {0};
	/* a grid over k, t0, duration and settling_time, fixed steps */
	cubie_result *r = solve("[parameters]\nk = 0.5, 2\n[solve]\nintegrator = rk4\ndt = 0.001\n"
	                        "t0 = 0, 1.5\nduration = 1, 2.25\nsettling_time = 0, 0.5\n"
	                        "[output]\nsave_every = 0.25\n", NULL, NULL, &e);
	if (ok(r != NULL, "a grid over t0, duration and settling_time solves")) {
		is_int(cubie_result_runs(r), 16, "2 x 2 x 2 x 2 runs");
		is_int(cubie_result_find(r, "time")->shape[0], 10, "saves for the longest run");
		against_separate(r, "rk4", 1e-9, "grid, rk4");
		cubie_result_free(r);
	} else {
		diag("%s", e.msg);
	}
	/* zip with linspace, adaptive steps */
	r = solve("[parameters]\nk = 1\n[runs]\ncombine = zip\n[solve]\n"
	          "integrator = dormand_prince_54\natol = 1e-10\nrtol = 1e-10\ndt = 0.001\n"
	          "t0 = linspace(-1, 2, 4)\nduration = 0.5, 1, 1.75, 3\n[output]\nsave_every = 0.25\n",
	          NULL, NULL, &e);
	if (ok(r != NULL, "zipped spans, adaptive")) {
		against_separate(r, "dormand_prince_54", 1e-8, "zip, dormand_prince_54");
		cubie_result_free(r);
	} else {
		diag("%s", e.msg);
	}
	/* the runs CSV */
	FILE *f = fopen("t/spans-runs.csv", "w");
	fputs("k, t0, duration\n1, 0, 1\n2, 3, 0.5\n0.5, -2, 2\n", f);
	fclose(f);
	r = solve("[runs]\nfile = spans-runs.csv\n[solve]\nintegrator = rk4\ndt = 0.001\n"
	          "[output]\nsave_every = 0.25\n", NULL, NULL, &e);
	if (ok(r != NULL, "spans from the runs CSV")) {
		against_separate(r, "rk4", 1e-9, "CSV, rk4");
		cubie_result_free(r);
	} else {
		diag("%s", e.msg);
	}
	remove("t/spans-runs.csv");
	/* save_every = 0: the start and each run's end */
	r = solve("[parameters]\nk = 1\n[solve]\nduration = 1, 2\ndt = 0.001\n", NULL, NULL, &e);
	if (ok(r != NULL, "save_every = 0 with per-run durations")) {
		const double *t = cubie_result_find(r, "time")->data;
		ok(t[0] == 0 && t[1] == 0 && t[2] == 1 && t[3] == 2, "time: 0 and each run's end");
		is_near(value_at(r, 1, 0, 1), exp(-2.0), 1e-10, "x(2) = e^-2");
		cubie_result_free(r);
	} else {
		diag("%s", e.msg);
	}
	/* the same span for every run: time stays [saves] */
	r = solve("[parameters]\nk = 1, 2\n[solve]\nt0 = 1, 1\nduration = 2\n[output]\n"
	          "save_every = 0.5\n", NULL, NULL, &e);
	if (ok(r != NULL, "one span for every run")) {
		const cubie_array *t = cubie_result_find(r, "time");
		ok(t->ndim == 1 && t->shape[0] == 5 && ((const double *)t->data)[0] == 1,
		   "time stays [saves] from t0 = 1");
		size_t n;
		cubie_result_names(r, "inputs", &n);
		is_int(n, 3, "the inputs are the model's only");
		cubie_result_free(r);
	} else {
		diag("%s", e.msg);
	}
	/* summaries: windows past a run's end are NaN */
	r = solve("[parameters]\nk = 1\n[solve]\nduration = 1, 2\ndt = 0.001\n[output]\n"
	          "save_every = 0.5\nsummaries = mean\nsummarise = x\nsummarise_every = 0.5\n",
	          NULL, NULL, &e);
	if (ok(r != NULL, "summary windows with per-run durations")) {
		const cubie_array *s = cubie_result_find(r, "summaries");
		const double *m = s->data;
		ok(s->shape[0] == 4 && !isnan(m[0 * 2 + 0]) && !isnan(m[1 * 2 + 0]) &&
		   isnan(m[2 * 2 + 0]) && isnan(m[3 * 2 + 0]) && !isnan(m[3 * 2 + 1]),
		   "4 windows; the 1-long run's last two NaN");
		/* the mean of e^-t over [0.5, 1], sampled every step */
		is_near(m[1 * 2 + 0], (exp(-0.5) - exp(-1.0)) / 0.5, 1e-3, "its second window's mean");
		cubie_result_free(r);
	} else {
		diag("%s", e.msg);
	}
	/* the chunking and the precision: span rows packed in double beside
	 * the inputs, whatever the chunk */
	static const char *grid = "[parameters]\nk = 0.5, 2\n[solve]\nintegrator = rk4\ndt = 0.001\n"
	                          "t0 = 0, 1.5, 3\nduration = 1, 2.25\n[output]\nsave_every = 0.25\n";
	cubie_result *a = solve(grid, NULL, NULL, &e);
	cubie_result *b = solve(grid, "memory.chunk_runs=5", "memory.streams=3", &e);
	if (ok(a && b, "per-run spans in chunks of 5 runs over 3 streams")) {
		const cubie_array *va = cubie_result_find(a, "values"), *vb = cubie_result_find(b, "values");
		size_t n = va->shape[0] * va->shape[1] * va->shape[2];
		ok(!memcmp(va->data, vb->data, n * sizeof(double)), "the same values, bit for bit");
	}
	cubie_result_free(b);
	b = solve(grid, "solve.precision=float32", NULL, &e);
	if (ok(a && b, "per-run spans in float32")) {
		double worst = 0;
		const cubie_array *va = cubie_result_find(a, "values");
		for (size_t s = 0; s < va->shape[0]; s++)
			for (size_t r = 0; r < va->shape[2]; r++) {
				double x = value_at(a, s, 0, r), y = value_at(b, s, 0, r);
				worst = isnan(x) != isnan(y) ? INFINITY : isnan(x) ? worst : fmax(worst, fabs(x - y));
			}
		ok(worst < 1e-5, "float32 = float64 to %.2g, NaN in the same places", worst);
	}
	cubie_result_free(a);
	cubie_result_free(b);
	/* new inputs: shorter durations reuse the solver; longer ones are refused */
	{
		char ini[1024];
		snprintf(ini, sizeof ini, "%s%s", model, grid);
		char *p = write_tmp("spans", ini);
		cubie_config *c = NULL;
		cubie_solver *s = NULL;
		int rc = cubie_config_load(p, &c, &e) || cubie_config_set(c, "device.backend=cpu", &e) ||
		         cubie_solver_create(c, &s, &e);
		if (ok(!rc, "a solver with per-run spans")) {
			/* inputs: x, y, k, t0, duration, settling_time for 2 runs */
			double in[6][2] = {{1, 1}, {1, 1}, {1, 3}, {0.5, -1}, {2, 0.5}, {0, 0.25}};
			rc = cubie_solver_set_inputs(s, &in[0][0], 2, &e) || cubie_solve(s, &r, &e);
			if (ok(!rc, "new spans through cubie_solver_set_inputs")) {
				const double *t = cubie_result_find(r, "time")->data;
				ok(t[0] == 0.5 && t[1] == -1 && t[2 * 2 + 1] == -0.5 && isnan(t[3 * 2 + 1]),
				   "their save times");
				is_near(value_at(r, 2, 0, 1), exp(-3 * 0.75), 1e-10, "and values");
				cubie_result_free(r);
			} else {
				diag("%s", e.msg);
			}
			in[4][0] = 3;
			ok(cubie_solver_set_inputs(s, &in[0][0], 2, &e) == CUBIE_ERR_CONFIG,
			   "a duration past the solver's longest is refused");
			like(e.msg, "longer", "... saying so");
		} else {
			diag("%s", e.msg);
		}
		cubie_solver_free(s);
		cubie_config_free(c);
		unlink(p);
		free(p);
	}
	{
		char ini[1024];
		snprintf(ini, sizeof ini, "%s%s", model, grid);
		nvrtc_compiles(ini, NULL, COMPILED, "per-run spans");
		nvrtc_compiles(ini, "output.summaries=mean, max", COMPILED, "per-run spans with summaries");
	}
	/* bad spans, at their line */
	r = solve("[parameters]\nk = 1\n[solve]\nduration = 1, -1\n", NULL, NULL, &e);
	ok(!r && e.code == CUBIE_ERR_CONFIG, "a negative duration is refused");
	like(e.msg, ":13:", "... at its line");
	like(e.msg, "duration", "... naming it");
	r = solve("[parameters]\nk = 1\n[solve]\nsettling_time = 0, -1\n", NULL, NULL, &e);
	ok(!r && e.code == CUBIE_ERR_CONFIG, "a negative settling time is refused");
	done_testing();
	return tap_exit();
}
