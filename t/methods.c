/* Convergence order of every integrator, fixed steps, cpu backend, float64:
 * halving dt divides the error at the end time by about 2^p. Three problems
 * with known solutions:
 *   decay       x' = -k x, k = 1 and 2 (two runs): x = exp(-k t); relative
 *               error, the worse run;
 *   oscillator  x' = v, v' = -w^2 x, w = 2: x = cos 2t, v = -2 sin 2t;
 *   chirp       x' = 2 t y, y' = -2 t x: x = cos t^2, y = -sin t^2, which
 *               depends on t, so the stage times t + c_i h are exercised too.
 * For each method and problem, dt0 and the duration put the three errors (dt0,
 * dt0/2, dt0/4) in the asymptotic range yet far above roundoff; both observed
 * orders must lie within 0.3 of the method's order. (Tsit5's leading error
 * coefficient is tiny on x' = -kx, so its decay orders approach 5 from above,
 * ~5.2, until roundoff.) The implicit and Rosenbrock methods run with
 * atol = rtol = 1e-13, by which their Newton iterations stop, so that the
 * iteration error stays far below the truncation error. Then every alias must give bit-for-bit the canonical
 * method's result and be listed with it. */
#include "config.h"
#include "solve.h"

enum { DECAY, OSCILLATOR, CHIRP, N_PROBLEMS };

static const char *const problem_name[N_PROBLEMS] = {"x' = -kx", "oscillator", "chirp"};
static const char *const problem_ini[N_PROBLEMS] = {
	"[model]\nstates = x\nparameters = k\n[equations]\ndx = -k * x\n"
	"[initial]\nx = 1\n[parameters]\nk = 1, 2\n[solve]\nduration = 1\n",
	"[model]\nstates = x, v\nparameters = w\n[equations]\ndx = v\ndv = -w^2 * x\n"
	"[initial]\nx = 1\nv = 0\n[parameters]\nw = 2\n[solve]\nduration = 1\n",
	"[model]\nstates = x, y\n[equations]\ndx = 2 * t * y\ndy = -2 * t * x\n"
	"[initial]\nx = 1\ny = 0\n[solve]\nduration = 1\n",
};

struct setting {
	double duration, dt0;
};

static const struct method {
	const char *name;
	int order;
	struct setting s[N_PROBLEMS]; /* decay, oscillator, chirp */
	int linear_order; /* on the two problems y' = A y, when not order */
} methods[] = {
	{"euler", 1, {{1, 0.01}, {1, 0.01}, {1, 0.01}}},
	{"heun_21", 2, {{1, 0.02}, {1, 0.02}, {2, 0.04}}},
	{"ralston_33", 3, {{1, 0.05}, {1, 0.1}, {1, 0.1}}},
	{"bogacki_shampine_32", 3, {{1, 0.05}, {1, 0.1}, {1, 0.1}}},
	{"rk4", 4, {{1, 0.05}, {1, 0.1}, {4, 0.0625}}},
	{"fehlberg_45", 4, {{1, 0.025}, {4, 0.1}, {4, 0.05}}},
	{"cash_karp_54", 5, {{1, 0.05}, {1, 0.125}, {1, 0.25}}},
	{"dormand_prince_54", 5, {{1, 0.05}, {4, 0.1}, {4, 0.05}}},
	{"tsit5", 5, {{1, 0.03125}, {4, 0.0625}, {4, 0.03125}}},
	{"vern7", 7, {{1, 0.2}, {2, 0.25}, {2, 0.125}}},
	{"dormand_prince_853", 8, {{1, 1.0 / 3}, {4, 0.5}, {2, 0.2}}},
	/* implicit and Rosenbrock methods: the Jacobian derived from the model */
	{"backward_euler", 1, {{1, 0.01}, {1, 0.01}, {1, 0.01}}},
	{"crank_nicolson", 2, {{1, 0.02}, {1, 0.02}, {2, 0.04}}},
	{"sdirk_2_2", 2, {{1, 0.02}, {1, 0.02}, {2, 0.04}}},
	{"kvaerno3", 3, {{1, 0.05}, {1, 0.1}, {1, 0.1}}},
	{"l_stable_sdirk_4", 4, {{1, 0.05}, {1, 0.1}, {4, 0.0625}}},
	{"kvaerno5", 5, {{1, 0.05}, {4, 0.1}, {4, 0.05}}},
	{"rosenbrock23", 2, {{1, 0.02}, {1, 0.02}, {2, 0.04}}},
	{"ros3p", 3, {{1, 0.05}, {1, 0.1}, {1, 0.1}}},
	{"rodas4", 4, {{1, 0.05}, {1, 0.1}, {4, 0.0625}}},
	/* Rodas5P's stability function matches exp to sixth order, so on
	 * y' = A y it converges with order 6; its order 5 shows on the chirp */
	{"rodas5p", 5, {{1, 0.1}, {4, 0.1}, {4, 0.05}}, 6},
	{"radau_iia_5", 5, {{1, 0.05}, {4, 0.1}, {4, 0.05}}},
};
#define N_METHODS (sizeof methods / sizeof methods[0])

static const struct alias {
	const char *canonical, *alias;
} aliases[] = {
	{"bogacki_shampine_32", "rk23"}, {"bogacki_shampine_32", "ode23"},
	{"rk4", "classical_rk4"},        {"dormand_prince_54", "dopri54"},
	{"dormand_prince_54", "rk45"},   {"dormand_prince_54", "ode45"},
	{"dormand_prince_853", "dop853"}, {"rosenbrock23", "ode23s"},
	{"radau_iia_5", "radau5"},       {"backward_euler", "implicit_euler"},
	{"crank_nicolson", "trapezoidal"}, {"l_stable_sdirk_4", "sdirk4"},
};
#define N_ALIASES (sizeof aliases / sizeof aliases[0])

static cubie_result *solve_with(int problem, const char *method, double duration, double dt,
                                cubie_error *e)
{
	char set_m[96], set_dt[64], set_T[64];
	snprintf(set_m, sizeof set_m, "solve.integrator=%s", method);
	snprintf(set_dt, sizeof set_dt, "solve.dt=%.17g", dt);
	snprintf(set_T, sizeof set_T, "solve.duration=%.17g", duration);
	/* tight tolerances: implicit methods stop Newton by them, also on
	 * fixed steps (explicit ones ignore them there) */
	const char *ov[] = {set_m, set_dt, set_T, "solve.controller=fixed", "device.backend=cpu",
	                    "solve.precision=float64", "solve.atol=1e-13", "solve.rtol=1e-13", NULL};
	return solve_text(problem_ini[problem], ov, e);
}

/* The error at the end time (save 1): see the top of this file. */
static double error_at_end(int problem, const char *method, double T, double dt)
{
	cubie_error e = {0};
	cubie_result *r = solve_with(problem, method, T, dt, &e);
	if (!r) {
		diag("%s, dt = %g: solve failed: %s", method, dt, e.msg);
		return NAN;
	}
	double worst = 0;
	if (cubie_result_failed(r))
		worst = NAN;
	else if (problem == DECAY)
		for (size_t run = 0; run < cubie_result_runs(r); run++) {
			double exact = exp(-(double)(run + 1) * T);
			worst = fmax(worst, fabs(value_at(r, 1, 0, run) - exact) / exact);
		}
	else if (problem == OSCILLATOR)
		worst = fmax(fabs(value_at(r, 1, 0, 0) - cos(2 * T)),
		             fabs(value_at(r, 1, 1, 0) + 2 * sin(2 * T)));
	else
		worst = fmax(fabs(value_at(r, 1, 0, 0) - cos(T * T)),
		             fabs(value_at(r, 1, 1, 0) + sin(T * T)));
	cubie_result_free(r);
	return worst;
}

static void order(const struct method *m, int problem)
{
	const double T = m->s[problem].duration, dt = m->s[problem].dt0;
	const int want = m->linear_order && problem != CHIRP ? m->linear_order : m->order;
	double e[3], p[2];
	for (int i = 0; i < 3; i++)
		e[i] = error_at_end(problem, m->name, T, dt / (1 << i));
	for (int i = 0; i < 2; i++)
		p[i] = log2(e[i] / e[i + 1]);
	ok(fabs(p[0] - want) <= 0.3 && fabs(p[1] - want) <= 0.3,
	   "%s on %s: observed order %.2f, %.2f (expected %d)", m->name, problem_name[problem], p[0],
	   p[1], want);
	diag("  duration %g, errors at dt = %g, %g, %g: %.3e %.3e %.3e", T, dt, dt / 2, dt / 4, e[0],
	     e[1], e[2]);
}

/* An alias solves exactly as its canonical name does. */
static void same_as_canonical(const struct alias *a)
{
	cubie_error e1 = {0}, e2 = {0};
	cubie_result *r1 = solve_with(OSCILLATOR, a->canonical, 1, 0.05, &e1);
	cubie_result *r2 = solve_with(OSCILLATOR, a->alias, 1, 0.05, &e2);
	const cubie_array *v1 = r1 ? cubie_result_find(r1, "values") : NULL;
	const cubie_array *v2 = r2 ? cubie_result_find(r2, "values") : NULL;
	int same = v1 && v2 && v1->dtype == v2->dtype && v1->shape[0] == v2->shape[0] &&
	           v1->shape[1] == v2->shape[1] && v1->shape[2] == v2->shape[2];
	for (size_t i = 0; same && i < v1->shape[0] * v1->shape[1] * v1->shape[2]; i++)
		same = ((const double *)v1->data)[i] == ((const double *)v2->data)[i];
	if (!ok(same, "integrator = %s gives the same result as %s", a->alias, a->canonical))
		diag("%s / %s", r1 ? "" : e1.msg, r2 ? "" : e2.msg);
	cubie_result_free(r1);
	cubie_result_free(r2);
}

/* The line of the plugin listing that describes integrator name. */
static const char *listing_line(const char *list, const char *name, char *buf, size_t len)
{
	for (const char *l = list; l && *l;) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		if (n < len) {
			memcpy(buf, l, n);
			buf[n] = 0;
			/* a whole word: the name followed by a blank */
			const char *at = strstr(buf, name);
			if (strstr(buf, "integrator") && at && (at == buf || at[-1] == ' ') &&
			    (at[strlen(name)] == ' ' || at[strlen(name)] == '\t'))
				return buf;
		}
		l = end ? end + 1 : l + n;
	}
	return NULL;
}

int main(void)
{
	for (size_t m = 0; m < N_METHODS; m++)
		for (int problem = 0; problem < N_PROBLEMS; problem++)
			order(&methods[m], problem);

	for (size_t a = 0; a < N_ALIASES; a++)
		same_as_canonical(&aliases[a]);

	cubie_error e = {0};
	char *list = cubie_plugins_describe(NULL, &e);
	if (!ok(list != NULL, "the plugin listing"))
		diag("%s", e.msg);
	char line[1024];
	for (size_t m = 0; m < N_METHODS; m++)
		ok(listing_line(list, methods[m].name, line, sizeof line) != NULL,
		   "integrator %s is listed", methods[m].name);
	for (size_t a = 0; a < N_ALIASES; a++) {
		const char *l = listing_line(list, aliases[a].canonical, line, sizeof line);
		if (!ok(l && strstr(l, aliases[a].alias), "%s is listed as an alias of %s",
		        aliases[a].alias, aliases[a].canonical))
			diag("line: %s", l ? l : "(none)");
	}
	free(list);
	done_testing();
	return tap_exit();
}
