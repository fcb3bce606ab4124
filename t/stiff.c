/* Stiff problems on the cpu backend, float64, adaptive steps: the implicit
 * and Rosenbrock methods against the published reference solutions of
 * ROBER, HIRES, OREGO and VDPOL (t/stiff.h) at rtol 1e-6 and 1e-9; each
 * succeeds, with its step count in the result. The error is measured per
 * component in units of the tolerance, |y - ref| / (atol + rtol |ref|), the
 * worst component counted. Local error control bounds the error per step,
 * so the global error grows with the step count, and faster for low orders:
 * we allow 100 tolerance units from order 3 on, 1000 for order 2 and 1e5
 * for backward Euler, whose global error is about the step count times the
 * local one. The
 * methods of orders 1 to 3 run only at rtol 1e-6, where their step counts
 * stay reasonable. Known exceptions are TODO tests (see below). Then every
 * explicit method on ROBER ends with a status (max_steps or a non-finite
 * state), not a hang. */
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
#define MAX_TOL_UNITS(order) ((order) == 1 ? 1e5 : (order) == 2 ? 1e3 : 100.0)

/* Known shortfalls, reported as TODO: measured, understood, not hidden. */
static const char *todo(const char *method, const char *problem, double rtol)
{
	/* ROS3P is not L-stable (|R(inf)| = 0.73); on OREGO at rtol 1e-6 its
	 * estimate lets a phase error through (y3 off by 16 %), though it
	 * converges to the reference as rtol shrinks (1e-9: 1e-4) */
	if (!strcmp(method, "ros3p") && !strcmp(problem, "OREGO") && rtol > 1e-7)
		return "ros3p's phase error on OREGO at rtol 1e-6";
	return NULL;
}

static cubie_result *solve(const struct stiff_problem *P, const char *method, double rtol,
                           const char *extra, cubie_error *e)
{
	char m[96], T[64], rt[64], at[64];
	snprintf(m, sizeof m, "solve.integrator=%s", method);
	snprintf(T, sizeof T, "solve.duration=%.17g", P->t_end);
	snprintf(rt, sizeof rt, "solve.rtol=%.17g", rtol);
	snprintf(at, sizeof at, "solve.atol=%.17g", rtol * P->atol_scale);
	const char *ov[] = {m, T, rt, at, "solve.dt=1e-6", "solve.dt_min=1e-20", "output.save=steps",
	                    "device.backend=cpu", "solve.precision=float64", extra, NULL};
	return solve_text(P->ini, ov, e);
}

static void accuracy(const struct stiff_problem *P, const char *method, int order, double rtol)
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
	const char *why = todo(method, P->name, rtol);
	const int good = status == 0 && acc > 0 && worst <= MAX_TOL_UNITS(order);
	if (why) /* a TODO test: reported, not counted as a failure */
		printf("%s %d - %s on %s, rtol %g: status %d, %d steps (%d rejected), error %.3g "
		       "tolerances # TODO %s\n", good ? "ok" : "not ok", ++tap_n, method, P->name, rtol,
		       status, acc, rej, worst, why);
	else if (!ok(good, "%s on %s, rtol %g: status %d, %d steps (%d rejected), error %.3g tolerances",
	             method, P->name, rtol, status, acc, rej, worst))
		for (int i = 0; i < P->n; i++)
			diag("  y%d = %.16g, reference %.16g", i + 1, value_at(r, 1, (size_t)i, 0), P->ref[i]);
	cubie_result_free(r);
}

int main(void)
{
	for (size_t p = 0; p < N_STIFF; p++)
		for (size_t m = 0; m < N_IMPLICIT; m++) {
			const char *name = implicit[m].name;
			/* The trapezoidal rule is A- but not L-stable: on ROBER's
			 * 1e11 time units its stiff components ring, the estimate
			 * stays large and the run spends max_steps (1e7 steps). */
			if (p == 0 && !strcmp(name, "crank_nicolson")) {
				skip("crank_nicolson on ROBER: not L-stable, runs into max_steps");
				continue;
			}
			accuracy(&stiff_problems[p], name, implicit[m].order, 1e-6);
			if (implicit[m].order >= 4)
				accuracy(&stiff_problems[p], name, implicit[m].order, 1e-9);
		}

	/* explicit methods cannot take the stiff steps: they end at max_steps */
	for (size_t m = 0; m < sizeof explicit_methods / sizeof *explicit_methods; m++) {
		cubie_error e = {0};
		const char *method = explicit_methods[m];
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
		   "%s on ROBER: ends with status %d, not a hang", method, status);
		if (!r)
			diag("%s", e.msg);
		cubie_result_free(r);
	}
	/* Failed steps. Backward Euler on x' = x with h = 1: I - h J = 0. */
	{
		const char *grow = "[model]\nstates = x\n[equations]\ndx = x\n[initial]\nx = 1\n";
		const char *fixed[] = {"solve.integrator=backward_euler", "solve.controller=fixed",
		                       "solve.dt=1", "solve.duration=2", "device.backend=cpu", NULL};
		const char *adaptive[] = {"solve.integrator=backward_euler", "solve.dt=1",
		                          "solve.duration=2", "solve.rtol=1e-4", "solve.atol=1e-4",
		                          "output.save=steps", "device.backend=cpu", NULL};
		cubie_error e = {0};
		cubie_result *r = solve_text(grow, fixed, &e);
		const cubie_array *st = r ? cubie_result_find(r, "status") : NULL;
		is_int(st ? ((const int32_t *)st->data)[0] : -1, CUBIE_STATUS_SINGULAR,
		       "a singular iteration matrix under fixed steps: status SINGULAR");
		cubie_result_free(r);
		r = solve_text(grow, adaptive, &e);
		st = r ? cubie_result_find(r, "status") : NULL;
		const cubie_array *steps = r ? cubie_result_find(r, "steps") : NULL;
		ok(st && steps && ((const int32_t *)st->data)[0] == 0 && ((const int32_t *)steps->data)[1] >= 1 &&
		   fabs(value_at(r, 1, 0, 0) / exp(2.0) - 1) < 0.02,
		   "... adaptive: the step is retried smaller and the run succeeds (x(2) = %.4g, e^2)",
		   r ? value_at(r, 1, 0, 0) : NAN);
		cubie_result_free(r);
	}
	/* A Newton iteration that cannot converge: one iteration, to 1e-9. */
	{
		const char *cubic = "[model]\nstates = x\n[equations]\ndx = -x^3\n[initial]\nx = 1\n";
		const char *fixed[] = {"solve.integrator=kvaerno5", "solve.controller=fixed",
		                       "solve.dt=0.5", "solve.newton_max_iter=1", "solve.newton_tol=1e-9",
		                       "device.backend=cpu", NULL};
		const char *adaptive[] = {"solve.integrator=kvaerno5", "solve.dt=0.5", "solve.dt_min=1e-3",
		                          "solve.newton_max_iter=1", "solve.newton_tol=1e-9",
		                          "device.backend=cpu", NULL};
		cubie_error e = {0};
		cubie_result *r = solve_text(cubic, fixed, &e);
		const cubie_array *st = r ? cubie_result_find(r, "status") : NULL;
		is_int(st ? ((const int32_t *)st->data)[0] : -1, CUBIE_STATUS_NEWTON,
		       "Newton failing under fixed steps: status NEWTON");
		cubie_result_free(r);
		r = solve_text(cubic, adaptive, &e);
		st = r ? cubie_result_find(r, "status") : NULL;
		is_int(st ? ((const int32_t *)st->data)[0] : -1, CUBIE_STATUS_NEWTON,
		       "... adaptive: retried smaller until dt_min, then status NEWTON");
		cubie_result_free(r);
	}
	/* jacobian_update: backward Euler through Robertson's initial transient
	 * with fixed steps of 1e-3. J(t, y) of the step's start misses the
	 * y2 terms that build up within the step, and simplified Newton
	 * diverges; re-evaluating J at every iterate converges. */
	{
		const char *ini = "[model]\nstates = y1, y2, y3\n[equations]\n"
		                  "dy1 = -0.04 * y1 + 1e4 * y2 * y3\n"
		                  "dy2 = 0.04 * y1 - 1e4 * y2 * y3 - 3e7 * y2^2\ndy3 = 3e7 * y2^2\n"
		                  "[initial]\ny1 = 1\ny2 = 0\ny3 = 0\n";
		const char *simplified[] = {"solve.integrator=backward_euler", "solve.controller=fixed",
		                            "solve.dt=1e-3", "solve.duration=1", "device.backend=cpu",
		                            NULL};
		const char *full[] = {"solve.integrator=backward_euler", "solve.controller=fixed",
		                      "solve.dt=1e-3", "solve.duration=1", "solve.jacobian_update=iteration",
		                      "device.backend=cpu", NULL};
		cubie_error e = {0};
		cubie_result *r = solve_text(ini, simplified, &e);
		const cubie_array *st = r ? cubie_result_find(r, "status") : NULL;
		is_int(st ? ((const int32_t *)st->data)[0] : -1, CUBIE_STATUS_NEWTON,
		       "Robertson, backward Euler, h = 1e-3, jacobian_update = step: Newton diverges");
		cubie_result_free(r);
		r = solve_text(ini, full, &e);
		st = r ? cubie_result_find(r, "status") : NULL;
		double sum = r ? value_at(r, 1, 0, 0) + value_at(r, 1, 1, 0) + value_at(r, 1, 2, 0) : NAN;
		ok(st && ((const int32_t *)st->data)[0] == 0 && fabs(sum - 1) < 1e-12 &&
		   fabs(value_at(r, 1, 0, 0) - 0.9664597) < 1e-3,
		   "... jacobian_update = iteration: it converges (y1(1) = %.6f, mass kept to %.1e)",
		   r ? value_at(r, 1, 0, 0) : NAN, fabs(sum - 1));
		cubie_result_free(r);
	}
	done_testing();
	return tap_exit();
}
