/* Stiff problems on the cpu backend, float64, adaptive steps: the implicit
 * and Rosenbrock methods against the published reference solutions of
 * ROBER, HIRES, OREGO and VDPOL (t/stiff.h) at rtol 1e-6 and 1e-9; each
 * succeeds, with its step count in the result. The error is measured per
 * component in units of the tolerance, |y - ref| / (atol + rtol |ref|), the
 * worst component counted; a global error of a few dozen such units is what
 * local error control delivers over these long, stiff integrations. The
 * low-order methods (orders 1 to 3) run only at rtol 1e-6, where their
 * step counts stay reasonable. Then every explicit method on ROBER ends
 * with a status (max_steps), not a hang. */
#include "config.h"
#include "solve.h"
#include "stiff.h"

static const struct {
	const char *name;
	int order;
} implicit[] = {
	{"backward_euler", 1}, {"crank_nicolson", 2}, {"sdirk_2_2", 2}, {"rosenbrock23", 2},
	{"kvaerno3", 3},       {"ros3p", 3},          {"l_stable_sdirk_4", 4}, {"rodas4", 4},
	{"kvaerno5", 5},       {"rodas5p", 5},        {"radau_iia_5", 5},
};
#define N_IMPLICIT (sizeof implicit / sizeof implicit[0])

static const char *const explicit_methods[] = {
	"euler", "heun_21", "ralston_33", "bogacki_shampine_32", "rk4", "fehlberg_45",
	"cash_karp_54", "dormand_prince_54", "tsit5", "vern7", "dormand_prince_853",
};

/* Allowed worst error, in tolerance units (see above). */
#define MAX_TOL_UNITS 100.0

static cubie_result *solve(const struct stiff_problem *P, const char *method, double rtol,
                           const char *extra, cubie_error *e)
{
	char m[96], T[64], rt[64], at[64];
	snprintf(m, sizeof m, "solve.integrator=%s", method);
	snprintf(T, sizeof T, "solve.duration=%.17g", P->t_end);
	snprintf(rt, sizeof rt, "solve.rtol=%.17g", rtol);
	snprintf(at, sizeof at, "solve.atol=%.17g", rtol * P->atol_scale);
	const char *ov[] = {m, T, rt, at, "solve.dt=1e-6", "solve.dt_min=1e-20",
	                    "device.backend=cpu", "solve.precision=float64", extra, NULL};
	return solve_text(P->ini, ov, e);
}

static void accuracy(const struct stiff_problem *P, const char *method, double rtol)
{
	cubie_error e = {0};
	cubie_result *r = solve(P, method, rtol, NULL, &e);
	if (!r) {
		ok(0, "%s on %s, rtol %g: solve failed: %s", method, P->name, rtol, e.msg);
		return;
	}
	const cubie_array *st = cubie_result_find(r, "status"), *steps = cubie_result_find(r, "steps");
	const int status = ((const int32_t *)st->data)[0];
	const int acc = ((const int32_t *)steps->data)[0], rej = ((const int32_t *)steps->data)[1];
	double worst = 0, atol = rtol * P->atol_scale;
	for (int i = 0; i < P->n; i++) {
		double d = fabs(value_at(r, 1, (size_t)i, 0) - P->ref[i]);
		worst = fmax(worst, d / (atol + rtol * fabs(P->ref[i])));
	}
	if (!ok(status == 0 && acc > 0 && worst <= MAX_TOL_UNITS,
	        "%s on %s, rtol %g: status %d, %d steps (%d rejected), error %.3g tolerances",
	        method, P->name, rtol, status, acc, rej, worst))
		for (int i = 0; i < P->n; i++)
			diag("  y%d = %.16g, reference %.16g", i + 1, value_at(r, 1, (size_t)i, 0), P->ref[i]);
	cubie_result_free(r);
}

int main(void)
{
	for (size_t p = 0; p < N_STIFF; p++)
		for (size_t m = 0; m < N_IMPLICIT; m++) {
			accuracy(&stiff_problems[p], implicit[m].name, 1e-6);
			if (implicit[m].order >= 4)
				accuracy(&stiff_problems[p], implicit[m].name, 1e-9);
		}

	/* explicit methods cannot take the stiff steps: they end at max_steps */
	for (size_t m = 0; m < sizeof explicit_methods / sizeof *explicit_methods; m++) {
		cubie_error e = {0};
		const char *method = explicit_methods[m];
		int fixed = !strcmp(method, "euler") || !strcmp(method, "rk4") ||
		            !strcmp(method, "ralston_33") || !strcmp(method, "heun_21");
		char extra[64];
		snprintf(extra, sizeof extra, "solve.max_steps=%d", 20000);
		const char *ov[] = {"solve.duration=1e11", "solve.dt=1e-3", "solve.rtol=1e-6",
		                    "solve.atol=1e-10", "device.backend=cpu", extra, NULL};
		char set[96];
		snprintf(set, sizeof set, "solve.integrator=%s", method);
		const char *all[8];
		all[0] = set;
		for (int i = 0; i < 7; i++)
			all[i + 1] = ov[i];
		cubie_result *r = solve_text(stiff_problems[0].ini, all, &e);
		const cubie_array *st = r ? cubie_result_find(r, "status") : NULL;
		const int status = st ? ((const int32_t *)st->data)[0] : -1;
		ok(r && status != 0 && (status & (CUBIE_STATUS_MAX_STEPS | CUBIE_STATUS_NONFINITE)),
		   "%s on ROBER (%s steps): ends with status %d, not a hang", method,
		   fixed ? "fixed" : "adaptive", status);
		if (!r)
			diag("%s", e.msg);
		cubie_result_free(r);
	}
	done_testing();
	return tap_exit();
}
