/* Adaptive step control: tolerances met and honoured, controllers, exact
 * saves, observables, settling time, failing runs, configuration errors. */
#include "config.h"
#include "solve.h"

static const char *const adaptive[] = {"heun_21", "bogacki_shampine_32", "fehlberg_45",
	"cash_karp_54", "dormand_prince_54", "tsit5", "vern7", "dormand_prince_853", NULL};

/* x' = -k x + sin(t) ... keep it simple: a decay and an oscillator,
 * exact solutions e^-kt and cos(wt). */
static const char *problem =
	"[model]\nstates = x, u, v\nparameters = k\n[equations]\ndx = -k * x\ndu = v\ndv = -4 * u\n"
	"[initial]\nx = 1\nu = 1\nv = 0\n[parameters]\nk = 0.5, 1, 2\n[solve]\nduration = 3\ndt = 0.01\n"
	"[output]\nsave = x, u, v, steps\n";

struct outcome { double err; double accepted, rejected; int ok; };

static struct outcome run(const char *method, const char *tol, const char *controller)
{
	char m[64], a[64], r[64], c[64];
	snprintf(m, sizeof m, "solve.integrator=%s", method);
	snprintf(a, sizeof a, "solve.atol=%s", tol);
	snprintf(r, sizeof r, "solve.rtol=%s", tol);
	snprintf(c, sizeof c, "solve.controller=%s", controller);
	const char *ov[] = {m, a, r, c, "device.backend=cpu", NULL};
	cubie_error e = {0};
	struct outcome o = {INFINITY, 0, 0, 0};
	cubie_result *res = solve_text(problem, ov, &e);
	if (!res) {
		diag("%s: %s", method, e.msg);
		return o;
	}
	const cubie_array *st = cubie_result_find(res, "steps");
	const int *steps = st->data;
	size_t n = cubie_result_runs(res);
	o.err = 0;
	for (size_t i = 0; i < n; i++) {
		double k = i == 0 ? 0.5 : i == 1 ? 1 : 2;
		o.err = fmax(o.err, fabs(value_at(res, 1, 0, i) - exp(-k * 3)));
		o.err = fmax(o.err, fabs(value_at(res, 1, 1, i) - cos(6.0)));
		o.accepted += steps[i] / (double)n;
		o.rejected += steps[n + i] / (double)n;
	}
	o.ok = cubie_result_failed(res) == 0;
	cubie_result_free(res);
	return o;
}

int main(void)
{
	for (int i = 0; adaptive[i]; i++) {
		struct outcome o4 = run(adaptive[i], "1e-4", "pi"), o6 = run(adaptive[i], "1e-6", "pi");
		struct outcome o8 = run(adaptive[i], "1e-8", "pi");
		ok(o8.ok && o8.err < 50 * 1e-8, "%s at tol 1e-8: error %.2e within a small multiple", adaptive[i],
		   o8.err);
		ok(o4.err > o6.err && o6.err > o8.err, "%s: error falls with the tolerance (%.1e, %.1e, %.1e)",
		   adaptive[i], o4.err, o6.err, o8.err);
		ok(o8.accepted > o6.accepted && o6.accepted > o4.accepted && o4.accepted >= 1,
		   "%s: mean accepted steps %.1f, %.1f, %.1f; rejected %.1f, %.1f, %.1f", adaptive[i],
		   o4.accepted, o6.accepted, o8.accepted, o4.rejected, o6.rejected, o8.rejected);
	}
	static const char *const controllers[] = {"i", "pi", "pid", "gustafsson", NULL};
	for (int i = 0; controllers[i]; i++) {
		struct outcome o = run("dormand_prince_54", "1e-7", controllers[i]);
		ok(o.ok && o.err < 50 * 1e-7, "controller %s: error %.2e, %.1f accepted, %.1f rejected",
		   controllers[i], o.err, o.accepted, o.rejected);
	}

	/* Two high-order methods at tight tolerance agree on a chaotic problem */
	const char *lorenz =
		"[model]\nstates = x, y, z\nobservables = r\n[constants]\nsigma = 10\nbeta = 8/3\nrho = 28\n"
		"[equations]\ndx = sigma * (y - x)\ndy = x * (rho - z) - y\ndz = x * y - beta * z\n"
		"r = sqrt(x^2 + y^2 + z^2)\n"
		"[initial]\nx = 1, -3\ny = 1\nz = 20\n[solve]\nduration = 2\ndt = 0.001\n"
		"atol = 1e-12\nrtol = 1e-12\n[output]\nsave_every = 0.125\nsave = x, y, z, r\n"
		"[device]\nbackend = cpu\n";
	const char *v7[] = {"solve.integrator=vern7", NULL}, *d8[] = {"solve.integrator=dop853", NULL};
	cubie_error e = {0};
	cubie_result *a = solve_text(lorenz, v7, &e), *b = a ? solve_text(lorenz, d8, &e) : NULL;
	double worst = INFINITY, obs = INFINITY;
	const cubie_array *t = a ? cubie_result_find(a, "time") : NULL;
	int exact = t && t->shape[0] == 17;
	if (a && b) {
		worst = obs = 0;
		for (size_t k = 0; k < t->shape[0]; k++) {
			exact = exact && ((const double *)t->data)[k] == 0.125 * (double)k;
			for (size_t r = 0; r < 2; r++) {
				for (size_t v = 0; v < 3; v++)
					worst = fmax(worst, fabs(value_at(a, k, v, r) - value_at(b, k, v, r)) / 20);
				double x = value_at(a, k, 0, r), y = value_at(a, k, 1, r), z = value_at(a, k, 2, r);
				obs = fmax(obs, fabs(value_at(a, k, 3, r) - sqrt(x * x + y * y + z * z)));
			}
		}
	} else {
		diag("%s", e.msg);
	}
	ok(worst < 1e-6, "vern7 and dop853 at 1e-12 agree on Lorenz (rho = 28) to %.1e over t = 2", worst);
	ok(exact, "adaptive saves land on exact times k/8");
	ok(obs < 1e-12, "observable r equals its recomputation from saved states (%.1e)", obs);
	cubie_result_free(a);
	cubie_result_free(b);

	/* settling time integrates before t0 without saving */
	const char *settle[] = {"solve.settling_time=1", "solve.integrator=dopri54", "solve.atol=1e-10",
	                        "solve.rtol=1e-10", "device.backend=cpu", NULL};
	cubie_result *r = solve_text(problem, settle, &e);
	ok(r && fabs(value_at(r, 0, 0, 1) - exp(-1.0)) < 1e-8 && fabs(value_at(r, 1, 0, 1) - exp(-4.0)) < 1e-8,
	   "settling_time = 1: the saved x(t0) is e^-1, x(t0 + 3) is e^-4");
	cubie_result_free(r);

	/* a blow-up ends that run with a status bit; the others finish */
	const char *blowup = "[model]\nstates = x\n[equations]\ndx = x^2\n[initial]\nx = 2, 0.1, -1\n"
	                     "[solve]\nintegrator = tsit5\nduration = 1\n[device]\nbackend = cpu\n";
	r = solve_text(blowup, NULL, &e);
	const cubie_array *st = r ? cubie_result_find(r, "status") : NULL;
	const int *s = st ? st->data : NULL;
	ok(s && s[0] != 0 && s[1] == 0 && s[2] == 0, "x' = x^2 from 2 fails (status %d), its neighbours succeed",
	   s ? s[0] : -1);
	ok(r && fabs(value_at(r, 1, 0, 1) - 0.1 / 0.9) < 1e-5, "... and the neighbour is right");
	const cubie_array *at = r ? cubie_result_find(r, "reached") : NULL;
	const double *reached = at ? at->data : NULL;
	ok(reached && fabs(reached[0] - 0.5) < 1e-3 && reached[1] == 1 && reached[2] == 1,
	   "the failed run reached t = %.9g, at the blow-up at 0.5; the others t = 1",
	   reached ? reached[0] : -1);
	cubie_result_free(r);
	const char *few[] = {"solve.max_steps=3", "solve.dt=0.001", NULL};
	r = solve_text(blowup, few, &e);
	st = r ? cubie_result_find(r, "status") : NULL;
	ok(st && ((const int *)st->data)[1] == CUBIE_STATUS_MAX_STEPS, "max_steps = 3: status MAX_STEPS");
	cubie_result_free(r);

	/* configuration errors */
	const char *bad1[] = {"solve.integrator=rk4", "solve.controller=pi", NULL};
	if (!ok(!solve_text(problem, bad1, &e) && e.code == CUBIE_ERR_CONFIG &&
	        strstr(e.msg, "command line: [solve] controller = pi needs an error estimate"),
	        "an errorless method with an adaptive controller is refused, naming the key"))
		diag("%s", e.msg);
	const char *bad2[] = {"solve.integrator=tsit5", "solve.atol=1e-6, 1e-6", NULL};
	if (!ok(!solve_text(problem, bad2, &e) &&
	        strstr(e.msg, "[solve] atol has 2 values: give one, or one per state (3)"),
	        "atol with the wrong count is refused"))
		diag("%s", e.msg);
	const char *per_state[] = {"solve.integrator=tsit5", "solve.atol=1e-9, 1e-9, 1e-9",
	                           "device.backend=cpu", NULL};
	r = solve_text(problem, per_state, &e);
	ok(r != NULL, "one atol per state is accepted");
	cubie_result_free(r);
	/* atol = 0: relative control alone; a state that stays exactly 0 adds
	 * nothing to the norms (not 0 / 0), in each kind of norm: the loop's,
	 * DOP853's own, the first step's (no dt here) and Newton's */
	const char *zero_state = "[model]\nstates = x, w\nparameters = k\n[equations]\n"
	                         "dx = -k * x\ndw = 0\n[initial]\nx = 1\nw = 0\n[parameters]\n"
	                         "k = 1, 2\n[solve]\natol = 0\nrtol = 1e-8\n[device]\nbackend = cpu\n";
	static const char *const relative[] = {"dormand_prince_54", "dormand_prince_853", "rodas5p",
	                                       "kvaerno5", NULL};
	for (int i = 0; relative[i]; i++) {
		char m[64];
		snprintf(m, sizeof m, "solve.integrator=%s", relative[i]);
		const char *over[] = {m, NULL};
		r = solve_text(zero_state, over, &e);
		const double err = r ? fmax(fabs(value_at(r, 1, 0, 0) - exp(-1.0)) / exp(-1.0),
		                            fabs(value_at(r, 1, 0, 1) - exp(-2.0)) / exp(-2.0)) : 1;
		if (!ok(r && cubie_result_failed(r) == 0 && err < 1e-6 && value_at(r, 1, 1, 1) == 0,
		        "%s, atol = 0 and a state that stays 0: solved, x to %.1e relative",
		        relative[i], err))
			diag("%s", r ? "" : e.msg);
		cubie_result_free(r);
	}
	const char *both_zero[] = {"solve.integrator=tsit5", "solve.rtol=1e-8, 0", NULL};
	if (!ok(!solve_text(zero_state, both_zero, &e) && e.code == CUBIE_ERR_CONFIG &&
	        strstr(e.msg, "[solve] atol and rtol are both 0 for state 'w'"),
	        "atol and rtol both 0 for a state are refused, naming it"))
		diag("%s", e.msg);
	const char *rk4_default[] = {"solve.integrator=rk4", "device.backend=cpu", NULL};
	r = solve_text(problem, rk4_default, &e);
	st = r ? cubie_result_find(r, "steps") : NULL;
	ok(st && ((const int *)st->data)[0] == 300 && ((const int *)st->data)[3] == 0,
	   "rk4 defaults to fixed steps: 300 steps of 0.01, none rejected");
	cubie_result_free(r);
	/* no dt: the first step is chosen per run (Hairer-Wanner), even for a
	 * duration shorter than the default dt */
	const char *short_span[] = {"solve.integrator=dormand_prince_54", "device.backend=cpu",
	                            "solve.duration=1e-4", "solve.atol=1e-10", "solve.rtol=1e-10", NULL};
	const char *prob_nodt =
		"[model]\nstates = x, u, v\nparameters = k\n[equations]\ndx = -k * x\ndu = v\n"
		"dv = -4 * u\n[initial]\nx = 1\nu = 1\nv = 0\n[parameters]\nk = 0.5, 1, 2\n"
		"[output]\nsave = x, u, v, steps\n";
	r = solve_text(prob_nodt, short_span, &e);
	if (!ok(r && cubie_result_failed(r) == 0, "no dt, duration 1e-4: solved"))
		diag("%s", e.msg);
	ok(r && fabs(value_at(r, 1, 0, 2) - exp(-2e-4)) < 1e-12, "... accurately");
	cubie_result_free(r);
	const char *auto_dt[] = {"solve.integrator=dormand_prince_54", "device.backend=cpu",
	                         "solve.duration=3", "solve.atol=1e-8", "solve.rtol=1e-8", NULL};
	r = solve_text(prob_nodt, auto_dt, &e);
	st = r ? cubie_result_find(r, "steps") : NULL;
	int most = 0;
	for (size_t i = 0; st && i < 3; i++)
		most = ((const int *)st->data)[3 + i] > most ? ((const int *)st->data)[3 + i] : most;
	ok(r && cubie_result_failed(r) == 0 && fabs(value_at(r, 1, 1, 0) - cos(6.0)) < 1e-6 &&
	   most <= 2, "no dt over [0, 3]: within tolerance, at most %d rejected steps", most);
	cubie_result_free(r);

	/* step counts are kept only when [output] save names them */
	const char *no_steps[] = {"solve.integrator=rk4", "device.backend=cpu", "output.save=x", NULL};
	r = solve_text(problem, no_steps, &e);
	ok(r && !cubie_result_find(r, "steps") && cubie_result_count(r) == 5,
	   "without 'steps' in [output] save the result has no step counts");
	ok(r && cubie_result_find(r, "values")->shape[1] == 1, "... and saves only x");
	cubie_result_free(r);
	const char *only_steps[] = {"solve.integrator=rk4", "device.backend=cpu", "output.save=steps",
	                            NULL};
	r = solve_text(problem, only_steps, &e);
	ok(r && cubie_result_find(r, "steps") && cubie_result_find(r, "values")->shape[1] == 3,
	   "save = steps keeps the step counts and every state");
	cubie_result_free(r);
	done_testing();
	return tap_exit();
}
