/* The cuda backend against the cpu backend on the same configuration.
 * Skipped where no GPU is usable. */
#include "config.h"
#include "internal.h"
#include "solve.h"

static const char *lorenz =
	"[model]\nstates = x, y, z\nparameters = rho\nobservables = r\n"
	"[constants]\nsigma = 10\nbeta = 8/3\n"
	"[equations]\ndx = sigma * (y - x)\ndy = x * (rho - z) - y\ndz = x * y - beta * z\n"
	"r = sqrt(x^2 + y^2 + z^2)\n"
	"[initial]\nx = 1\ny = 0\nz = 0\n[parameters]\nrho = linspace(0, 21, 1000)\n"
	"[solve]\nintegrator = rk4\nduration = 1\ndt = 0.001\n"
	"[output]\nsave = x, y, z, r\nsave_every = 0.1\n";

/* Worst over runs and saved variables of max_t |gpu - cpu| / max_t |cpu|:
 * each series against its own scale, so values passing through zero do
 * not turn rounding into a large relative error. */
/* Robertson's kinetics swept over k1, for the implicit methods. */
static const char *robertson =
	"[model]\nstates = y1, y2, y3\nparameters = k1\n[constants]\nk2 = 3e7\nk3 = 1e4\n"
	"[equations]\ndy1 = -k1 * y1 + k3 * y2 * y3\ndy2 = k1 * y1 - k3 * y2 * y3 - k2 * y2^2\n"
	"dy3 = k2 * y2^2\n"
	"[initial]\ny1 = 1\ny2 = 0\ny3 = 0\n[parameters]\nk1 = linspace(0.02, 0.06, 1000)\n"
	"[solve]\nduration = 100\ndt = 1e-4\n[output]\nsave_every = 10\n";
/* A damped oscillator forced by two drivers: a cubic periodic one whose
 * series each run picks by k, and a linear clamped one (issue 13). */
static const char *driven =
	"[model]\nstates = x, v\nparameters = k, c\n"
	"[equations]\ndx = v\ndv = -x - c * v + u + w\n"
	"[drivers]\nsample_every = 0.25\n"
	"u = 0, 1, 0.5, -0.3, -1, 0.2, 0.7, 0 | 1, 0, -1, 0, 1, 0, -1, 0 | 0, 0, 1, 1, 0, 0, -1, -1\n"
	"u.select = k\nu.interpolation = cubic\nu.wrap = periodic\n"
	"w = 0, 0.5, 1, 0.5, 0.25\n"
	"[initial]\nx = 0\nv = 0\n[parameters]\nk = 0, 1, 2\nc = linspace(0, 1, 300)\n"
	"[solve]\nduration = 5\ndt = 0.001\n[output]\nsave_every = 0.5\n";
/* A state that stays 0, for atol = 0 (relative control alone). */
static const char *zero_state =
	"[model]\nstates = x, w\nparameters = k\n[equations]\ndx = -k * x\ndw = 0\n"
	"[initial]\nx = 1\nw = 0\n[parameters]\nk = linspace(0.5, 2, 1000)\n"
	"[solve]\nduration = 1\n[output]\nsave_every = 0.25\n";
/* Lorenz-96 of L96_N states, forcing swept: more states than the GPU
 * keeps in registers (255 of them, and local memory). */
#define L96_N 24
static char l96[8192];
static const char *lorenz96(void)
{
	size_t o = 0;
	o += snprintf(l96 + o, sizeof l96 - o, "[model]\nstates = x0");
	for (int i = 1; i < L96_N; i++)
		o += snprintf(l96 + o, sizeof l96 - o, ", x%d", i);
	o += snprintf(l96 + o, sizeof l96 - o, "\nparameters = F\n[equations]\n");
	for (int i = 0; i < L96_N; i++)
		o += snprintf(l96 + o, sizeof l96 - o, "dx%d = (x%d - x%d) * x%d - x%d + F\n", i,
		              (i + 1) % L96_N, (i + L96_N - 2) % L96_N, (i + L96_N - 1) % L96_N, i);
	o += snprintf(l96 + o, sizeof l96 - o, "[initial]\nx0 = 1.01\n");
	for (int i = 1; i < L96_N; i++)
		o += snprintf(l96 + o, sizeof l96 - o, "x%d = %g\n", i, 0.01 * i);
	snprintf(l96 + o, sizeof l96 - o,
	         "[parameters]\nF = linspace(0, 8, 200)\n[solve]\nduration = 1\ndt = 0.001\n"
	         "[output]\nsave = x0, x11, x23\nsave_every = 0.25\n");
	return l96;
}
static const char *model = NULL; /* NULL: lorenz */
static const char *extra[3];      /* more overrides, NULL-terminated */

/* Solves ini with the overrides (NULL-terminated, at most 8) on the cpu
 * into *a and on the GPU into *b; 0, or -1 with both freed and NULL. */
static int solve_pair(const char *ini, const char *const *over, cubie_result **a, cubie_result **b)
{
	const char *on[10];
	size_t n = 0;
	while (n < 8 && over[n])
		on[n] = over[n], n++;
	on[n + 1] = NULL;
	cubie_error e = {0};
	on[n] = "device.backend=cpu";
	*a = solve_text(ini, on, &e);
	on[n] = "device.backend=cuda";
	*b = *a ? solve_text(ini, on, &e) : NULL;
	if (*b)
		return 0;
	diag("solve failed: %s", e.msg);
	cubie_result_free(*a);
	*a = NULL;
	return -1;
}

static double compare(const char *method, const char *precision, const char *tol, int adaptive,
                      size_t *n_values)
{
	char m[64], p[64], at[64], rt[64];
	snprintf(m, sizeof m, "solve.integrator=%s", method);
	snprintf(p, sizeof p, "solve.precision=%s", precision);
	snprintf(at, sizeof at, "solve.atol=%s", tol ? tol : "1e-6");
	snprintf(rt, sizeof rt, "solve.rtol=%s", tol ? tol : "1e-6");
	const char *ctl = adaptive ? "solve.controller=auto" : "solve.controller=fixed";
	const char *over[] = {m, p, at, rt, ctl, extra[0], extra[1], NULL};
	cubie_result *a, *b;
	double worst = INFINITY;
	if (!solve_pair(model ? model : lorenz, over, &a, &b)) {
		const cubie_array *va = cubie_result_find(a, "values");
		size_t n = va->shape[0] * va->shape[1] * va->shape[2];
		worst = 0;
		for (size_t v = 0; v < va->shape[1]; v++)
			for (size_t r = 0; r < va->shape[2]; r++) {
				double diff = 0, scale = 0;
				for (size_t s = 0; s < va->shape[0]; s++) {
					double x = value_at(a, s, v, r), y = value_at(b, s, v, r);
					diff = fmax(diff, fabs(x - y));
					scale = fmax(scale, fabs(x));
					if (isnan(x) || isnan(y))
						diff = INFINITY;
				}
				if (scale > 0)
					worst = fmax(worst, diff / scale);
				else if (diff > 0)
					worst = INFINITY;
			}
		*n_values = n;
		const cubie_array *sa = cubie_result_find(a, "status"), *sb = cubie_result_find(b, "status");
		if (memcmp(sa->data, sb->data, sa->shape[0] * sizeof(int32_t)))
			worst = INFINITY;
		cubie_result_free(a);
		cubie_result_free(b);
	}
	return worst;
}

/* Per-run spans (issue 13): Lorenz over rho with three durations and two
 * start times, on both backends; NaN in the same places (past each run's
 * end), the values alike elsewhere. */
static double compare_spans(const char *method, const char *ctl, size_t *n_values)
{
	char m[64];
	snprintf(m, sizeof m, "solve.integrator=%s", method);
	const char *over[] = {m, ctl, "solve.duration=0.5, 0.75, 1", "solve.t0=0, 2", NULL};
	cubie_result *a, *b;
	if (solve_pair(lorenz, over, &a, &b))
		return INFINITY;
	double worst = 0;
	const cubie_array *va = cubie_result_find(a, "values");
	const double *ta = cubie_result_find(a, "time")->data, *tb = cubie_result_find(b, "time")->data;
	*n_values = va->shape[0] * va->shape[1] * va->shape[2];
	for (size_t s = 0; s < va->shape[0]; s++)
		for (size_t r = 0; r < va->shape[2]; r++) {
			size_t at = s * va->shape[2] + r;
			if (isnan(ta[at]) != isnan(tb[at]) || (!isnan(ta[at]) && ta[at] != tb[at]))
				worst = INFINITY;
			for (size_t v = 0; v < va->shape[1]; v++) {
				double x = value_at(a, s, v, r), y = value_at(b, s, v, r);
				if (isnan(x) != isnan(y))
					worst = INFINITY;
				else if (!isnan(x))
					worst = fmax(worst, fabs(x - y) / fmax(1, fabs(x)));
			}
		}
	cubie_result_free(a);
	cubie_result_free(b);
	return worst;
}

/* The adaptive loop's accepted attempts take a path of their own on the
 * GPU (adaptive.h; t/lanes.c checks it bit for bit on the host): the
 * attempts (accepted and rejected) of all runs on each backend, and the
 * runs whose counts differ. Rounding moves a decision here and there, and
 * the GPU's controller computes in float (on an H200 at 1e-8:
 * dormand_prince_54 31 of 1000 runs, 5 attempts of 118199 in all; tsit5
 * 27 runs); a controller that differs moves the total (steps go as the
 * norm to the power -1 / 5: 0.2% is a norm 1% off). */
static int count_steps(const char *method, const char *tol, long *cpu, long *gpu, int *differ)
{
	char m[64], at[64], rt[64];
	snprintf(m, sizeof m, "solve.integrator=%s", method);
	snprintf(at, sizeof at, "solve.atol=%s", tol);
	snprintf(rt, sizeof rt, "solve.rtol=%s", tol);
	const char *over[] = {m, at, rt, "output.save=x, steps", NULL};
	cubie_result *a, *b;
	*cpu = *gpu = 0, *differ = 0;
	if (solve_pair(lorenz, over, &a, &b))
		return -1;
	const cubie_array *sa = cubie_result_find(a, "steps"), *sb = cubie_result_find(b, "steps");
	const int32_t *ca = sa->data, *cb = sb->data;
	const size_t n = sa->shape[1];
	for (size_t r = 0; r < n; r++) {
		*cpu += ca[r] + ca[n + r], *gpu += cb[r] + cb[n + r];
		*differ += ca[r] != cb[r] || ca[n + r] != cb[n + r];
	}
	cubie_result_free(a);
	cubie_result_free(b);
	return 0;
}

int main(void)
{
	backend *b;
	cubie_error e = {0};
	if (backend_cuda_open(0, 0, &b, &e)) {
		diag("%s", e.msg);
		plan_skip_all("no CUDA device");
	}
	diag("device: %s", b->device);
	b->ops->close(b);
	size_t n = 0;
	double d = compare("rk4", "float64", NULL, 0, &n);
	ok(d <= 1e-12, "rk4 float64 Lorenz, rho up to 21: cuda = cpu to %.2e relative (%zu values)", d, n);
	d = compare("rk4", "float32", NULL, 0, &n);
	ok(d <= 1e-4, "rk4 float32: cuda = cpu to %.2e relative", d);
	/* every method, fixed steps; those with an estimate also adaptive, where
	 * the GPU's fused multiply-adds may flip an accept/reject decision, so
	 * the bound follows the tolerance */
	static const char *const methods[] = {"euler", "heun_21", "ralston_33", "bogacki_shampine_32",
		"fehlberg_45", "cash_karp_54", "dormand_prince_54", "tsit5", "vern7",
		"dormand_prince_853", NULL};
	static const int adaptive[] = {0, 1, 0, 1, 1, 1, 1, 1, 1, 1};
	for (int i = 0; methods[i]; i++) {
		d = compare(methods[i], "float64", NULL, 0, &n);
		ok(d <= 1e-12, "%s float64, fixed steps: cuda = cpu to %.2e relative", methods[i], d);
		if (adaptive[i]) {
			d = compare(methods[i], "float64", "1e-10", 1, &n);
			ok(d <= 1e-8, "%s float64, pi at tol 1e-10: cuda = cpu to %.2e relative", methods[i], d);
		}
	}
	static const char *const counted[] = {"dormand_prince_54", "tsit5", "dormand_prince_853", NULL};
	for (int i = 0; counted[i]; i++)
		for (int k = 0; k < 2; k++) {
			const char *tol = k ? "1e-8" : "1e-6";
			long cpu, gpu;
			int differ;
			const int rc = count_steps(counted[i], tol, &cpu, &gpu, &differ);
			ok(!rc && cpu > 1000 && labs(gpu - cpu) <= cpu / 500 && differ <= 50,
			   "%s float64 at %s: %ld attempts on the GPU, %ld on the cpu (%d of 1000 runs differ)",
			   counted[i], tol, gpu, cpu, differ);
		}
	/* The implicit and Rosenbrock methods on Robertson's kinetics: fixed
	 * steps of 1e-4 over [0, 0.1] (Newton stopping at 1e-12, so that a flipped
	 * convergence test costs no more than that), and adaptive at 1e-8. */
	static const char *const stiff[] = {"backward_euler", "crank_nicolson", "sdirk_2_2",
		"kvaerno3", "l_stable_sdirk_4", "kvaerno5", "rosenbrock23", "ros3p", "rodas4",
		"rodas5p", "radau_iia_5", NULL};
	model = robertson;
	for (int i = 0; stiff[i]; i++) {
		extra[0] = "solve.duration=0.1", extra[1] = "output.save_every=0.01";
		d = compare(stiff[i], "float64", "1e-12", 0, &n);
		extra[0] = extra[1] = NULL;
		ok(d <= 1e-9, "%s float64 Robertson, fixed steps: cuda = cpu to %.2e relative", stiff[i], d);
		d = compare(stiff[i], "float64", "1e-8", 1, &n);
		/* relative to each series' own scale: y2 peaks at 3.6e-5, so 1e-5 is
		 * 4e-10 absolute there, under the tolerance; a Newton iteration
		 * that stops one iterate apart on the two backends moves it that far */
		ok(d <= 1e-5, "%s float64 Robertson, adaptive at tol 1e-8: cuda = cpu to %.2e relative",
		   stiff[i], d);
	}
	/* per-run spans */
	d = compare_spans("rk4", "solve.controller=fixed", &n);
	ok(d <= 1e-12, "spans, rk4 float64: cuda = cpu to %.2e relative (%zu values)", d, n);
	d = compare_spans("dormand_prince_54", "solve.controller=pi", &n);
	ok(d <= 1e-6, "spans, dormand_prince_54: cuda = cpu to %.2e relative", d);
	/* drivers: the same coefficients read through __ldg as through plain loads */
	model = driven;
	d = compare("rk4", "float64", NULL, 0, &n);
	ok(d <= 1e-12, "drivers, rk4 float64: cuda = cpu to %.2e relative (%zu values)", d, n);
	d = compare("rk4", "float32", NULL, 0, &n);
	ok(d <= 1e-4, "drivers, rk4 float32: cuda = cpu to %.2e relative", d);
	/* steps capped at the sample spacing: many more of them than above, and
	 * a flipped accept/reject moves the result further (1.8e-7 measured on
	 * an H200) */
	d = compare("dormand_prince_54", "float64", "1e-10", 1, &n);
	ok(d <= 1e-6, "drivers, dormand_prince_54 at tol 1e-10: cuda = cpu to %.2e relative", d);
	d = compare("rosenbrock23", "float64", "1e-8", 1, &n);
	ok(d <= 1e-5, "drivers, rosenbrock23 at tol 1e-8: cuda = cpu to %.2e relative", d);
	/* atol = 0: the state at 0 adds nothing to the norms (vmath.h's floored
	 * scale), the first step's among them (no dt) */
	model = zero_state;
	extra[0] = "solve.atol=0";
	d = compare("dormand_prince_54", "float32", "1e-6", 1, &n);
	ok(d <= 1e-5, "atol = 0, a state at 0, dormand_prince_54 float32: cuda = cpu to %.2e relative",
	   d);
	d = compare("dormand_prince_54", "float64", "1e-8", 1, &n);
	ok(d <= 1e-6, "... float64: cuda = cpu to %.2e relative", d);
	d = compare("rodas5p", "float64", "1e-8", 1, &n);
	ok(d <= 1e-6, "... rodas5p float64: cuda = cpu to %.2e relative", d);
	extra[0] = NULL;
	/* a model too large for the GPU's registers: its stages spill */
	model = lorenz96();
	d = compare("rk4", "float64", NULL, 0, &n);
	ok(d <= 1e-12, "Lorenz-96, %d states, rk4 float64: cuda = cpu to %.2e relative", L96_N, d);
	d = compare("dormand_prince_54", "float32", "1e-6", 1, &n);
	ok(d <= 1e-4, "... dormand_prince_54 float32: cuda = cpu to %.2e relative", d);
	d = compare("dormand_prince_853", "float64", "1e-10", 1, &n);
	ok(d <= 1e-8, "... dormand_prince_853 float64: cuda = cpu to %.2e relative", d);
	d = compare("rodas5p", "float64", "1e-8", 1, &n);
	ok(d <= 1e-6, "... rodas5p float64: cuda = cpu to %.2e relative", d);
	d = compare("kvaerno5", "float64", "1e-8", 1, &n);
	ok(d <= 1e-6, "... kvaerno5 float64: cuda = cpu to %.2e relative", d);
	model = NULL;
	sweep_checks(lorenz, "device.backend=cuda");
	done_testing();
	return tap_exit();
}
