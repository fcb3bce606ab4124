/* The cpu backend's lanes (cubie/device/lanes.h) under an integrator
 * whose step can fail (CUBIE_STEP_STATUS): Euler / Heun on dy/dt = p y,
 * the step failing once |y| passes 10. With fixed steps a failing run
 * keeps the steps it took and saves NaN from then on; with adaptive steps
 * the failure rejects until h underflows. Either way the neighbours in its
 * block go on, and each run's result is the one it gets alone. TAP. */
#include "config.h"
#include "internal.h"
#include "tap.h"

#include <math.h>

#define CONTROL_FIXED "#define CUBIE_CONTROLLER 0\n#define CUBIE_ERR_ORDER 0\n#define CUBIE_MAX_STEPS 1000000LL\n"
#define CONTROL_PI "#define CUBIE_CONTROLLER 2\n#define CUBIE_ERR_ORDER 1\n#define CUBIE_MAX_STEPS 1000000LL\n" \
	"#define CUBIE_LOG2_SAFETY -0.15200309344504997\n#define CUBIE_MIN_GAIN 0.2\n#define CUBIE_MAX_GAIN 5\n" \
	"#define CUBIE_DT_MIN 1e-12\n#define CUBIE_DT_MAX 0\n#define CUBIE_ATOL {1e-8}\n#define CUBIE_RTOL {1e-8}\n"
#define MODEL \
	"#define CUBIE_NSTATES 1\n#define CUBIE_NPARAMS 1\n#define CUBIE_NSAVED 1\n" \
	"CUBIE_DEV void cubie_rhs(double t, const cubie_real *y, const cubie_real *p,\n" \
	"                         cubie_real *dydt) { dydt[0] = p[0] * y[0]; }\n" \
	"CUBIE_DEV void cubie_saved(double t, const cubie_real *y, const cubie_real *p,\n" \
	"                           cubie_real *v) { v[0] = y[0]; }\n"

/* Heun with Euler embedded; fails (NONFINITE) where |y_new| > 10 */
static const char *step =
	"#define CUBIE_STEP_STATUS 1\n"
	"CUBIE_DEV int cubie_step(double t, cubie_real h, const cubie_real *y,\n"
	"    const cubie_real *p, cubie_real *y_new, cubie_real *err, cubie_real *f0,\n"
	"    cubie_real *f1, int f0_ok)\n"
	"{\n\tcubie_real k1[1], ye[1];\n\tif (!f0_ok)\n\t\tcubie_rhs(t, y, p, f0);\n"
	"\tye[0] = y[0] + h * f0[0];\n\tcubie_rhs(t + h, ye, p, k1);\n"
	"\ty_new[0] = y[0] + h * CUBIE_R(0.5) * (f0[0] + k1[0]);\n"
	"\terr[0] = y_new[0] - ye[0];\n\t(void)f1;\n"
	"\treturn y_new[0] > CUBIE_R(10) || y_new[0] < CUBIE_R(-10) ? CUBIE_STATUS_NONFINITE : 0;\n}\n";

#define N 37 /* no multiple of a lane count */
#define SAVES 5

struct out {
	double v[SAVES][N], reached[N];
	int status[N], steps[2][N];
};

/* Runs [first, first + n) of the batch into o (their columns). */
static int launch(backend *b, int first, int n, const double *y0, const double *p, struct out *o,
                  cubie_error *e)
{
	struct cubie_args a = {
		.y0 = y0 + first, .params = p + first, .out = &o->v[0][first], .status = o->status + first,
		.steps = &o->steps[0][first], .reached = o->reached + first, .begin = 0, .n = n,
		.stride = N, .n_saves = SAVES, .t0 = 0.0, .duration = 1.0, .dt = 0.01,
		.save_every = 0.25, .tick = 0.25, .n_ticks = SAVES - 1, .save_ticks = 1,
		.sample_ticks = 1, .window_ticks = 1};
	return b->ops->launch(b, &a, NULL, e);
}

static void check(backend *b, const char *label, const char *control, int adaptive)
{
	cubie_error e = {0};
	double y0[N], p[N];
	static struct out all, alone;
	char *model = cb_printf("%s%s", control, MODEL);
	char *src = kernel_source(64, model, step);
	free(model);
	if (!ok(b->ops->load(b, src, &e) == 0, "%s: the kernel compiles and loads", label)) {
		diag("%s", e.msg);
		free(src);
		return;
	}
	free(src);
	for (int i = 0; i < N; i++)
		y0[i] = 1, p[i] = 0.1 * i; /* y(1) = e^p passes 10 from p = 2.3 */
	memset(&all, 0, sizeof all);
	memset(&alone, 0, sizeof alone);
	int rc = launch(b, 0, N, y0, p, &all, &e);
	for (int i = 0; !rc && i < N; i++)
		rc = launch(b, i, 1, y0, p, &alone, &e);
	if (!ok(rc == 0, "%s: launched", label))
		diag("%s", e.msg);
	ok(!memcmp(&all, &alone, sizeof all), "%s: each run as it is alone, bit for bit", label);
	/* one lane, as on the GPU: the adaptive loop's accepted attempts then
	 * take a branch of their own (adaptive.h), which must change nothing */
	static struct out one;
	model = cb_printf("#define CUBIE_W 1\n%s%s", control, MODEL);
	src = kernel_source(64, model, step);
	free(model);
	memset(&one, 0, sizeof one);
	rc = b->ops->load(b, src, &e) || launch(b, 0, N, y0, p, &one, &e);
	free(src);
	if (rc)
		diag("%s", e.msg);
	ok(!rc && !memcmp(&all, &one, sizeof all), "%s: one lane as the GPU has, bit for bit", label);

	/* the host's account: Heun, fixed steps of 0.01 */
	int good = 1, failed = 0;
	for (int i = 0; i < N; i++) {
		const int fails = exp(p[i] * 0.25 * (SAVES - 1)) > 10.5;
		const int saved_ok = !fails || isnan(all.v[SAVES - 1][i]);
		failed += fails;
		good &= (all.status[i] == (fails ? CUBIE_STATUS_NONFINITE : 0)) && saved_ok;
		if (!adaptive) {
			double y = 1;
			int s = 0;
			for (; s < 100; s++) {
				double ye = y + 0.01 * p[i] * y, yn = y + 0.01 * 0.5 * (p[i] * y + p[i] * ye);
				if (fabs(yn) > 10)
					break;
				y = yn;
				if ((s + 1) % 25 == 0 && fabs(all.v[(s + 1) / 25][i] - y) > 1e-12 * fabs(y))
					good = 0;
			}
			good &= all.steps[0][i] == s && all.steps[1][i] == 0;
			good &= fabs(all.reached[i] - (s < 100 ? 0.01 * s : 1.0)) < 1e-12;
			/* saves after the failure are NaN, those before it values */
			for (int k = 1; k < SAVES; k++)
				good &= (25 * k > s) == !!isnan(all.v[k][i]);
		} else if (!fails) {
			good &= fabs(all.v[SAVES - 1][i] - exp(p[i])) < 1e-5 * exp(p[i]);
			good &= all.reached[i] == 1.0;
		} else { /* stopped where y reached 10, about log(10) / p */
			good &= fabs(all.reached[i] - log(10.0) / p[i]) < 0.01;
		}
	}
	ok(good && failed > 5 && failed < N, "%s: %d of %d runs fail, as the host expects", label,
	   failed, N);
}

int main(void)
{
	backend *b;
	cubie_error e = {0};
	if (backend_cpu_open(0, &b, &e)) {
		diag("%s", e.msg);
		return tap_exit();
	}
	check(b, "fixed steps", CONTROL_FIXED, 0);
	check(b, "adaptive", CONTROL_PI, 1);
	b->ops->close(b);
	done_testing();
	return tap_exit();
}
