/* Drivers: x' = -x + u(t) with u a sampled sine, against the exact
 * solution under the linear interpolant and the analytic one under the
 * sine (within the cubic spline's accuracy); periodic wrap, clamp, the
 * error wrap, per-run series, the adaptive step cap, implicit methods'
 * d f / d t, and the errors at file:line. CPU backend. */
#include "config.h"
#include "solve.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* t/NAME.csv: t, s (sin), c (cos) sampled every h from 0, n samples */
static char *sine_csv(const char *name, double h, int n)
{
	char *path = malloc(strlen(name) + 16);
	sprintf(path, "t/%s.csv", name);
	FILE *f = fopen(path, "w");
	fprintf(f, "t, s, c\n");
	for (int i = 0; i < n; i++)
		fprintf(f, "%.17g, %.17g, %.17g\n", i * h, sin(i * h), cos(i * h));
	fclose(f);
	return path;
}

/* what nvrtc_compiles wants of the kernels here: no local memory */
#define LOCAL0 " 0 bytes of local memory"

static cubie_result *solve(const char *ini, const char *o1, const char *o2, cubie_error *e)
{
	const char *ov[] = {"device.backend=cpu", o1, o2, NULL};
	return solve_text(ini, ov, e);
}

/* x' = -x + a + b s on a step of h from x0, s = tau / h */
static double linear_step(double x0, double a, double b, double h, double tau)
{
	double xp0 = a - b / h;
	return a + b * tau / h - b / h + (x0 - xp0) * exp(-tau);
}

/* x' = -x + sin t, x(0) = 0 */
static double exact_sin(double t)
{
	return (sin(t) - cos(t) + exp(-t)) / 2;
}

static const char *driven =
	"[model]\nstates = x\n[equations]\ndx = -x + u\n"
	"[drivers]\nu = sine.csv:s\n"
	"[initial]\nx = 0\n[solve]\nintegrator = dormand_prince_54\natol = 1e-11\nrtol = 1e-11\n"
	"duration = 6\n[output]\nsave_every = 0.5\n";

static void linear_and_cubic(void)
{
	const double h = 0.1;
	cubie_error e = {0};
	char *csv = sine_csv("sine", h, 101);
	/* linear: the exact solution under the interpolant, to the tolerance */
	cubie_result *r = solve(driven, "drivers.interpolation=linear", NULL, &e);
	if (!ok(r != NULL, "linear driver solves"))
		diag("%s", e.msg);
	if (r) {
		double worst = 0, x = 0, worst_sine = 0;
		for (int i = 0; i < 60; i++) {
			double t0 = i * h;
			x = linear_step(x, sin(t0), sin(t0 + h) - sin(t0), h, h);
			if ((i + 1) % 5 == 0) {
				double got = value_at(r, (size_t)(i + 1) / 5, 0, 0);
				worst = fmax(worst, fabs(got - x));
				worst_sine = fmax(worst_sine, fabs(got - exact_sin(t0 + h)));
			}
		}
		ok(worst < 1e-7, "linear: the exact solution under the piecewise-linear input (%.2g)",
		   worst);
		ok(worst_sine < h * h / 8 && worst_sine > h * h / 400,
		   "linear: off the sine's solution by the interpolation's O(h^2) (%.2g)", worst_sine);
		cubie_result_free(r);
	}
	/* cubic (not-a-knot): within the spline's O(h^4) of the sine's solution */
	const char *prec[] = {"solve.precision=float64", "solve.precision=float32"};
	for (int p = 0; p < 2; p++) {
		r = solve(driven, "drivers.interpolation=cubic", prec[p], &e);
		if (!ok(r != NULL, "cubic driver solves, %s", prec[p] + 16))
			diag("%s", e.msg);
		if (!r)
			continue;
		double worst = 0;
		for (size_t k = 0; k <= 12; k++)
			worst = fmax(worst, fabs(value_at(r, k, 0, 0) - exact_sin(0.5 * (double)k)));
		ok(worst < (p ? 2e-6 : h * h * h * h / 50), "cubic, %s: the sine's solution to "
		   "O(h^4) (%.2g)", prec[p] + 16, worst);
		cubie_result_free(r);
	}
	/* implicit methods read the driver's derivative in d f / d t */
	r = solve(driven, "drivers.interpolation=cubic", "solve.integrator=rosenbrock23", &e);
	if (!ok(r != NULL, "rosenbrock23 with a driver"))
		diag("%s", e.msg);
	if (r) {
		double worst = 0;
		for (size_t k = 0; k <= 12; k++)
			worst = fmax(worst, fabs(value_at(r, k, 0, 0) - exact_sin(0.5 * (double)k)));
		ok(worst < 1e-5, "rosenbrock23: the sine's solution (%.2g)", worst);
		cubie_result_free(r);
	}
	nvrtc_compiles(driven, "drivers.interpolation=cubic", LOCAL0, "a cubic driver (GPU: __ldg)");
	nvrtc_compiles(driven, "solve.integrator=rosenbrock23", LOCAL0, "a driver in d f / d t");
	remove(csv);
	free(csv);
}

/* one period of samples, repeated: x' = -x + sin t to t = 20 */
static void periodic(void)
{
	const int n = 64;
	const double h = 2 * M_PI / n;
	char *csv = sine_csv("period", h, n);
	const char *ini =
		"[model]\nstates = x\n[equations]\ndx = -x + u\n"
		"[drivers]\nu = period.csv:s\nwrap = periodic\ninterpolation = cubic\n"
		"[initial]\nx = 0\n[solve]\nintegrator = dormand_prince_54\natol = 1e-10\nrtol = 1e-10\n"
		"duration = 20\n[output]\nsave_every = 1\n";
	cubie_error e = {0};
	cubie_result *r = solve(ini, NULL, NULL, &e);
	if (!ok(r != NULL, "periodic driver solves"))
		diag("%s", e.msg);
	if (r) {
		double worst = 0;
		for (size_t k = 0; k <= 20; k++)
			worst = fmax(worst, fabs(value_at(r, k, 0, 0) - exact_sin((double)k)));
		ok(worst < 1e-6, "periodic cubic spline: the sine's solution over three periods "
		   "(%.2g)", worst);
		cubie_result_free(r);
	}
	r = solve(ini, "drivers.interpolation=linear", NULL, &e);
	if (r) {
		double worst = 0;
		for (size_t k = 0; k <= 20; k++)
			worst = fmax(worst, fabs(value_at(r, k, 0, 0) - exact_sin((double)k)));
		ok(worst < h * h / 8, "periodic linear: within h^2/8 over three periods (%.2g)", worst);
		cubie_result_free(r);
	} else {
		if (!ok(0, "periodic linear solves"))
			diag("%s", e.msg);
	}
	remove(csv);
	free(csv);
}

/* u = 0, 1 from 0, every 1: t on [0, 1], held outside */
static const char *ramp =
	"[model]\nstates = x\nparameters = k\n[equations]\ndx = u\n"
	"[drivers]\nu = 0, 1 | 0, 2\nsample_every = 1\nu.select = k\n"
	"[initial]\nx = 0\n[parameters]\nk = 0, 1\n"
	"[solve]\nintegrator = dormand_prince_54\natol = 1e-9\nrtol = 1e-9\nt0 = -1\nduration = 4\n"
	"[output]\nsave_every = 1\nsave = x, steps\n";

static void clamp_select_cap(void)
{
	cubie_error e = {0};
	cubie_result *r = solve(ramp, NULL, NULL, &e);
	if (!ok(r != NULL, "inline series, clamped, chosen per run"))
		diag("%s", e.msg);
	if (r) {
		/* x(t) = c (0, t^2/2 on [0, 1], 1/2 + (t - 1) after), c = 1, 2 */
		const double want[] = {0, 0, 0.5, 1.5, 2.5};
		double worst = 0;
		for (size_t run = 0; run < 2; run++)
			for (size_t k = 0; k < 5; k++)
				worst = fmax(worst, fabs(value_at(r, k, 0, run) - (double)(run + 1) * want[k]));
		ok(worst < 1e-8, "clamp holds the end values, each run its own series (%.2g)", worst);
		cubie_result_free(r);
	}
	/* loose tolerances on a piecewise-quadratic solution would take long
	 * steps: the cap keeps them within a sample interval */
	r = solve(ramp, "solve.atol=1e-2", "solve.rtol=1e-2", &e);
	if (r) {
		const int *steps = cubie_result_find(r, "steps")->data;
		ok(steps[0] >= 4, "adaptive steps are capped at the sample spacing (%d steps over 4)",
		   steps[0]);
		cubie_result_free(r);
	} else {
		ok(0, "loose tolerances solve");
		diag("%s", e.msg);
	}
	nvrtc_compiles(ramp, "solve.precision=float32", LOCAL0, "per-run series, float32");
	r = solve(ramp, "drivers.wrap=error", NULL, &e);
	ok(!r && e.code == CUBIE_ERR_CONFIG, "wrap = error refuses runs outside the samples");
	like(e.msg, "wrap = error", "... saying why");
	like(e.msg, ":7:", "... at the driver's line");
	r = solve(ramp, "drivers.wrap=error", "solve.t0=0", &e);
	ok(!r, "wrap = error: a run from 0 to 4 still leaves [0, 1]");
	r = solve(ramp, "parameters.k=0, 2", NULL, &e);
	ok(!r, "a selector past the series is refused");
	like(e.msg, "u.select", "... naming the selector");
}

static void errors(void)
{
	static const struct {
		const char *drivers, *csv, *want, *why;
	} cases[] = {
		{"u = nofile.csv:s\n", NULL, "nofile.csv", "a missing file"},
		{"u = bad.csv:q\n", "t,s\n0,1\n1,2\n", "no column 'q'", "a missing column"},
		{"u = bad.csv:s\n", "t,s\n0,1\n1,2\n0.5,3\n", "bad.csv:4: time 0.5 is not after",
		 "times that go back"},
		{"u = bad.csv:s\n", "t,s\n0,1\n1,2\n2.5,3\n", "bad.csv:4: time 2.5 is off the even grid",
		 "uneven times"},
		{"u = bad.csv:s\n", "t,s\n0,1\n1,nan\n2,3\n", "bad.csv:3: column 's': NaN",
		 "a NaN"},
		{"u = 1, 2, 3\nsample_every = 1\ninterpolation = cubic\n", NULL, "at least 4",
		 "cubic with too few samples"},
		{"u = 1, 2, 3\n", NULL, "sample_every", "an inline list without its spacing"},
		{"u = 1, 2, 3\nsample_every = 1\nu.wrapp = clamp\n", NULL, "unknown option",
		 "an unknown option"},
		{"u = 1, 2 | 3, 4\nsample_every = 1\n", NULL, "u.select", "several series, no selector"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char ini[1024];
		if (cases[i].csv) {
			FILE *f = fopen("t/bad.csv", "w");
			fputs(cases[i].csv, f);
			fclose(f);
		}
		snprintf(ini, sizeof ini, "[model]\nstates = x\n[equations]\ndx = u\n[drivers]\n%s"
		         "[initial]\nx = 0\n[solve]\nduration = 1\n", cases[i].drivers);
		cubie_error e = {0};
		cubie_result *r = solve(ini, NULL, NULL, &e);
		ok(!r && e.code == CUBIE_ERR_CONFIG, "refused: %s", cases[i].why);
		like(e.msg, cases[i].want, "... %s", cases[i].want);
		cubie_result_free(r);
		remove("t/bad.csv");
	}
	/* a driver's name is taken like any other */
	cubie_error e = {0};
	cubie_result *r = solve("[model]\nstates = x\nparameters = u\n[equations]\ndx = u\n"
	                        "[drivers]\nu = 1, 2\nsample_every = 1\n[initial]\nx = 0\n"
	                        "[parameters]\nu = 1\n", NULL, NULL, &e);
	ok(!r, "a driver may not share a parameter's name");
	like(e.msg, "already a parameter", "... said so");
}

int main(void)
{
	linear_and_cubic();
	periodic();
	clamp_select_cap();
	errors();
	done_testing();
	return tap_exit();
}
