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
static double compare(const char *method, const char *precision, const char *tol,
                      size_t *n_values)
{
	char m[64], p[64], at[64], rt[64];
	snprintf(m, sizeof m, "solve.integrator=%s", method);
	snprintf(p, sizeof p, "solve.precision=%s", precision);
	snprintf(at, sizeof at, "solve.atol=%s", tol ? tol : "1e-6");
	snprintf(rt, sizeof rt, "solve.rtol=%s", tol ? tol : "1e-6");
	const char *ctl = tol ? "solve.controller=pi" : "solve.controller=fixed";
	const char *on_cpu[] = {m, p, at, rt, ctl, "device.backend=cpu", NULL};
	const char *on_gpu[] = {m, p, at, rt, ctl, "device.backend=cuda", NULL};
	cubie_error e = {0};
	cubie_result *a = solve_text(lorenz, on_cpu, &e), *b = a ? solve_text(lorenz, on_gpu, &e) : NULL;
	double worst = INFINITY;
	if (a && b) {
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
	} else {
		diag("solve failed: %s", e.msg);
	}
	cubie_result_free(a);
	cubie_result_free(b);
	return worst;
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
	double d = compare("rk4", "float64", NULL, &n);
	ok(d <= 1e-12, "rk4 float64 Lorenz, rho up to 21: cuda = cpu to %.2e relative (%zu values)", d, n);
	d = compare("rk4", "float32", NULL, &n);
	ok(d <= 1e-4, "rk4 float32: cuda = cpu to %.2e relative", d);
	/* every method, fixed steps; those with an estimate also adaptive, where
	 * the GPU's fused multiply-adds may flip an accept/reject decision, so
	 * the bound follows the tolerance */
	static const char *const methods[] = {"euler", "heun_21", "ralston_33", "bogacki_shampine_32",
		"fehlberg_45", "cash_karp_54", "dormand_prince_54", "tsit5", "vern7",
		"dormand_prince_853", NULL};
	static const int adaptive[] = {0, 1, 0, 1, 1, 1, 1, 1, 1, 1};
	for (int i = 0; methods[i]; i++) {
		d = compare(methods[i], "float64", NULL, &n);
		ok(d <= 1e-12, "%s float64, fixed steps: cuda = cpu to %.2e relative", methods[i], d);
		if (adaptive[i]) {
			d = compare(methods[i], "float64", "1e-10", &n);
			ok(d <= 1e-8, "%s float64, pi at tol 1e-10: cuda = cpu to %.2e relative", methods[i], d);
		}
	}
	done_testing();
	return tap_exit();
}
