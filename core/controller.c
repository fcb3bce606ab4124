/* Step-control settings, compiled into the kernel as constants (see
 * include/cubie/device/loop.h): controller, tolerances, step limits. */
#include "config.h"
#include "solver.h"
#include "drivers.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A tolerance ([solve] atol or rtol, read by settings.c): one value for
 * every state, or one per state. */
static int tolerances(cubie_solver *s, const char *key, sbuf *b, cubie_error *e)
{
	const struct settings_solve *so = &s->set.solve;
	const int rtol = !strcmp(key, "rtol");
	const struct cfg_entry *en = rtol ? so->at.rtol : so->at.atol;
	const struct cfg_entry def = {"solve", (char *)key, NULL, "default", 0};
	const double *v = rtol ? so->rtol : so->atol;
	size_t n = rtol ? so->n_rtol : so->n_atol, ns = s->model->n_states;
	char loc[600];
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		if (!(v[i] >= 0))
			rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [solve] %s must not be negative",
			             cfg_loc(en ? en : &def, loc, sizeof loc), key);
	if (!rc && n != 1 && n != ns)
		rc = cb_fail(e, CUBIE_ERR_CONFIG,
		             "%s: [solve] %s has %zu values: give one, or one per state (%zu)",
		             cfg_loc(en ? en : &def, loc, sizeof loc), key, n, ns);
	/* float32 resolves about 1.2e-7 of a value, float64 2.2e-16: below
	 * that the controller keeps shrinking the step, and runs end
	 * "successfully" after millions or fail on a step too small */
	int adaptive = ((const cubie_integrator_ops *)s->integrator.desc->ops)->error_order > 0;
	const int f32 = s->precision == 32;
	for (size_t i = 0; !rc && adaptive && rtol && i < n; i++)
		if (v[i] < (f32 ? 1e-7 : 2.2e-16)) {
			cb_log(CUBIE_LOG_WARN, "%s: [solve] rtol = %g is below what %s resolves "
			       "(about %s): the step size collapses and the step count explodes; use "
			       "%s", cfg_loc(en ? en : &def, loc, sizeof loc), v[i],
			       f32 ? "float32" : "float64", f32 ? "1e-7" : "2e-16",
			       f32 ? "precision = float64, or rtol >= 1e-6" : "rtol >= 1e-14");
			break;
		}
	if (!rc) {
		sb_add(b, "#define CUBIE_%s {", rtol ? "RTOL" : "ATOL");
		for (size_t i = 0; i < ns; i++)
			sb_add(b, "%s%.17g", i ? ", " : "", v[n == 1 ? 0 : i]);
		sb_add(b, "}\n");
	}
	return rc;
}

/* The step-control settings, compiled into the kernel (see loop.h). */
int controller_defines(cubie_solver *s, sbuf *b, cubie_error *e)
{
	static const char *const names[] = {"fixed", "i", "pi", "pid", "gustafsson"};
	const struct settings *st = &s->set;
	const struct settings_solve *so = &st->solve;
	const cubie_integrator_ops *io = s->integrator.desc->ops;
	int ctl = (int)so->controller;
	const char *want = ctl >= 0 ? names[ctl] : NULL;
	char loc[600];
	if (so->controller == CONTROLLER_AUTO) {
		want = io->default_controller ? io->default_controller
		                              : io->error_order > 0 ? "pi" : "fixed";
		ctl = 0;
		while (ctl < 5 && strcmp(names[ctl], want))
			ctl++;
	}
	if (ctl == 5)
		return cb_fail(e, CUBIE_ERR_CONFIG, "integrator %s: unknown default controller '%s'",
		               s->integrator.desc->name, want);
	if (ctl > 0 && io->error_order <= 0)
		return cb_fail(e, CUBIE_ERR_CONFIG,
		               "%s: [solve] controller = %s needs an error estimate, which integrator "
		               "'%s' does not have: use controller = fixed or an embedded method "
		               "(e.g. dormand_prince_54)",
		               settings_loc(st, so->at.controller, loc, sizeof loc), want,
		               s->integrator.desc->name);
	double safety = so->safety, lo = so->min_gain, hi = so->max_gain, dt_min = so->dt_min,
	       dt_max = so->dt_max;
	long long max_steps = so->max_steps;
	/* the ranges were checked when read (settings.c); below dt only
	 * matters to an adaptive controller */
	if (settings_require(st, so->at.dt_min, "solve", "dt_min",
	                     ctl == 0 || !so->at.dt || dt_min < s->dt, "0 or more, and below dt", e))
		return CUBIE_ERR_CONFIG;
	/* a step spans at most one sample interval of a driver, so that the
	 * error estimate sees each kink of a linear one (drivers.h) */
	if (ctl > 0 && s->model->drv && (dt_max == 0 || dt_max > drivers_min_step(s->model->drv)))
		dt_max = drivers_min_step(s->model->drv);
	int order = io->error_order < io->order ? io->error_order : io->order;
	/* adaptive with no dt given: the kernel chooses each run's first step */
	s->auto_dt = ctl > 0 && !so->at.dt;
	sb_add(b, "#define CUBIE_CONTROLLER %d\n#define CUBIE_ERR_ORDER %d\n#define CUBIE_AUTO_DT %d\n",
	       ctl, order, s->auto_dt);
	/* log2(safety): folded into the controller's exponent (control.h) */
	sb_add(b, "#define CUBIE_LOG2_SAFETY %.17g\n#define CUBIE_MIN_GAIN %.17g\n"
	          "#define CUBIE_MAX_GAIN %.17g\n#define CUBIE_DT_MIN %.17g\n"
	          "#define CUBIE_DT_MAX %.17g\n#define CUBIE_MAX_STEPS %lldLL\n",
	       log2(safety), lo, hi, dt_min, dt_max, max_steps);
	s->controller = names[ctl];
	/* Implicit methods measure Newton's progress against the tolerances, so
	 * they get them under the fixed controller too; explicit kernels stay
	 * as they were. */
	const int implicit = plugin_wants_jacobian(&s->integrator);
	if (implicit) {
		/* checked for implicit methods only: others ignore these keys */
		double ntol = so->newton_tol;
		long long nit = so->newton_max_iter;
		if (settings_require(st, so->at.newton_tol, "solve", "newton_tol",
		                     ntol > 0 && ntol < 1, "in (0, 1)", e) ||
		    settings_require(st, so->at.newton_max_iter, "solve", "newton_max_iter",
		                     nit >= 1 && nit <= 100, "between 1 and 100", e))
			return CUBIE_ERR_CONFIG;
		sb_add(b, "#define CUBIE_NEWTON_TOL %.17g\n#define CUBIE_NEWTON_MAX_ITER %lld\n"
		          "#define CUBIE_JAC_UPDATE %d\n", ntol, nit,
		       so->jacobian_update == JACOBIAN_ITERATION);
	}
	if (!ctl && !implicit)
		return 0;
	if (tolerances(s, "atol", b, e) || tolerances(s, "rtol", b, e))
		return CUBIE_ERR_CONFIG;
	/* a state whose scale is 0 passes no error but none at all */
	for (size_t i = 0; i < s->model->n_states; i++)
		if (so->atol[so->n_atol == 1 ? 0 : i] == 0 && so->rtol[so->n_rtol == 1 ? 0 : i] == 0) {
			const struct cfg_entry def = {"solve", "atol", NULL, "default", 0};
			return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [solve] atol and rtol are both 0 for "
			               "state '%s': no step can meet that; give one of them a positive "
			               "value", cfg_loc(so->at.atol ? so->at.atol : &def, loc, sizeof loc),
			               s->model->states[i]);
		}
	return 0;
}

