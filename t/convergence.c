/* Convergence orders of the fixed-step integrators on problems with known
 * solutions (cpu backend, float64): halving dt divides the error by 2^p. */
#include "config.h"
#include "solve.h"

static const char *decay =
	"[model]\nstates = x\nparameters = k\n[equations]\ndx = -k * x\n"
	"[initial]\nx = 1\n[parameters]\nk = 1, 2\n[solve]\nduration = 1\n";
static const char *oscillator =
	"[model]\nstates = x, v\nparameters = w\n[equations]\ndx = v\ndv = -w^2 * x\n"
	"[initial]\nx = 1\nv = 0\n[parameters]\nw = 2\n[solve]\nduration = 1\n";

/* Largest error at t = 1 over runs, against x(1) = exact(run). */
static double error_at_end(const char *ini, const char *method, double dt, int problem)
{
	char set_m[64], set_dt[64];
	snprintf(set_m, sizeof set_m, "solve.integrator=%s", method);
	snprintf(set_dt, sizeof set_dt, "solve.dt=%.17g", dt);
	const char *ov[] = {set_m, set_dt, "device.backend=cpu", NULL};
	cubie_error e = {0};
	cubie_result *r = solve_text(ini, ov, &e);
	if (!r) {
		diag("solve failed: %s", e.msg);
		return NAN;
	}
	double worst = 0;
	for (size_t run = 0; run < cubie_result_runs(r); run++) {
		double exact = problem == 0 ? exp(-(double)(run + 1)) : cos(2.0);
		worst = fmax(worst, fabs(value_at(r, 1, 0, run) - exact));
	}
	cubie_result_free(r);
	return worst;
}

static void order(const char *method, int p, double dt0, int problem)
{
	const char *ini = problem == 0 ? decay : oscillator;
	const char *name = problem == 0 ? "x' = -kx" : "harmonic oscillator";
	double e1 = error_at_end(ini, method, dt0, problem);
	double e2 = error_at_end(ini, method, dt0 / 2, problem);
	double e3 = error_at_end(ini, method, dt0 / 4, problem);
	double p1 = log2(e1 / e2), p2 = log2(e2 / e3);
	ok(fabs(p1 - p) < 0.15 && fabs(p2 - p) < 0.15,
	   "%s on %s: observed order %.3f, %.3f (expected %d)", method, name, p1, p2, p);
	diag("errors at dt = %g, %g, %g: %.3e %.3e %.3e", dt0, dt0 / 2, dt0 / 4, e1, e2, e3);
}

int main(void)
{
	order("euler", 1, 0.01, 0);
	order("euler", 1, 0.01, 1);
	order("rk4", 4, 0.1, 0);
	order("rk4", 4, 0.1, 1);
	order("classical_rk4", 4, 0.1, 1);

	/* saves land on exact times, and the state at t0 is the initial value */
	const char *ov[] = {"output.save_every=0.25", "device.backend=cpu", "solve.dt=0.01", NULL};
	cubie_error e = {0};
	cubie_result *r = solve_text(decay, ov, &e);
	const cubie_array *t = r ? cubie_result_find(r, "time") : NULL;
	ok(t && t->shape[0] == 5 && ((double *)t->data)[1] == 0.25 && ((double *)t->data)[4] == 1,
	   "save_every = 0.25 over [0, 1] gives 5 exact save times");
	ok(r && value_at(r, 0, 0, 0) == 1 && fabs(value_at(r, 2, 0, 1) - exp(-1.0)) < 1e-8,
	   "saved values: x(0) = 1, x(0.5) = e^-1 for k = 2");
	cubie_result_free(r);

	/* a run that blows up ends with its status bit; its neighbours finish */
	const char *blowup =
		"[model]\nstates = x\n[equations]\ndx = x^2\n[initial]\nx = 2, 0.1, -1\n"
		"[solve]\nduration = 1\ndt = 0.001\n";
	const char *ov2[] = {"device.backend=cpu", NULL};
	r = solve_text(blowup, ov2, &e);
	const cubie_array *st = r ? cubie_result_find(r, "status") : NULL;
	ok(st && ((int *)st->data)[0] == CUBIE_STATUS_NONFINITE, "x' = x^2 from 2 blows up: status NONFINITE");
	ok(st && ((int *)st->data)[1] == 0 && ((int *)st->data)[2] == 0, "its neighbours succeed");
	ok(r && fabs(value_at(r, 1, 0, 1) - 0.1 / (1 - 0.1)) < 1e-9 &&
	       fabs(value_at(r, 1, 0, 2) - (-0.5)) < 1e-9, "... with the exact values x0/(1 - x0 t)");
	ok(r && isnan(value_at(r, 1, 0, 0)), "the failed run's later saves are NaN");
	ok(r && cubie_result_failed(r) == 1, "one failed run counted");
	cubie_result_free(r);
	done_testing();
	return tap_exit();
}
