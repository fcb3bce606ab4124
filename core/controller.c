/* Step-control settings, compiled into the kernel as constants (see
 * include/cubie/device/loop.h): controller, tolerances, step limits. */
#include "config.h"
#include "solver.h"
#include "drivers.h"

#include <stdlib.h>
#include <string.h>

/* A tolerance: one value for every state, or one per state. */
static int tolerances(cubie_solver *s, const char *key, sbuf *b, cubie_error *e)
{
	const struct cfg_entry *en = cfg_get(s->cfg, "solve", key);
	struct cfg_entry def = {"solve", (char *)key, (char *)cfg_str(s->cfg, "solve", key),
	                        "default", 0};
	double *v;
	size_t n, ns = s->model->n_states;
	char loc[600];
	int rc = cfg_values(en ? en : &def, &v, &n, e);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++)
		if (!(v[i] >= 0))
			rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [solve] %s must not be negative",
			             cfg_loc(en ? en : &def, loc, sizeof loc), key);
	if (!rc && n != 1 && n != ns)
		rc = cb_fail(e, CUBIE_ERR_CONFIG,
		             "%s: [solve] %s has %zu values: give one, or one per state (%zu)",
		             cfg_loc(en ? en : &def, loc, sizeof loc), key, n, ns);
	/* float32 resolves about 1.2e-7 of a value: below that the controller
	 * keeps shrinking the step and runs end "successfully" after millions */
	int adaptive = ((const cubie_integrator_ops *)s->integrator.desc->ops)->error_order > 0;
	for (size_t i = 0; !rc && adaptive && s->precision == 32 && !strcmp(key, "rtol") && i < n; i++)
		if (v[i] < 1e-7) {
			cb_log(CUBIE_LOG_WARN, "%s: [solve] rtol = %g is below what float32 resolves "
			       "(about 1e-7): the step size collapses and the step count explodes; use "
			       "precision = float64, or rtol >= 1e-6", cfg_loc(en ? en : &def, loc,
			       sizeof loc), v[i]);
			break;
		}
	if (!rc) {
		sb_add(b, "#define CUBIE_%s {", !strcmp(key, "atol") ? "ATOL" : "RTOL");
		for (size_t i = 0; i < ns; i++)
			sb_add(b, "%s%.17g", i ? ", " : "", v[n == 1 ? 0 : i]);
		sb_add(b, "}\n");
	}
	free(v);
	return rc;
}

/* The step-control settings, compiled into the kernel (see loop.h). */
int controller_defines(cubie_solver *s, sbuf *b, cubie_error *e)
{
	static const char *const names[] = {"fixed", "i", "pi", "pid", "gustafsson"};
	const cubie_config *c = s->cfg;
	const cubie_integrator_ops *io = s->integrator.desc->ops;
	const char *want = cfg_str(c, "solve", "controller");
	char loc[600];
	if (!strcmp(want, "auto"))
		want = io->default_controller ? io->default_controller
		                              : io->error_order > 0 ? "pi" : "fixed";
	int ctl = 0;
	while (ctl < 5 && strcmp(names[ctl], want))
		ctl++;
	const struct cfg_entry *en = cfg_get(c, "solve", "controller");
	if (ctl == 5)
		return cb_fail(e, CUBIE_ERR_CONFIG, "integrator %s: unknown default controller '%s'",
		               s->integrator.desc->name, want);
	if (ctl > 0 && io->error_order <= 0)
		return cb_fail(e, CUBIE_ERR_CONFIG,
		               "%s: [solve] controller = %s needs an error estimate, which integrator "
		               "'%s' does not have: use controller = fixed or an embedded method "
		               "(e.g. dormand_prince_54)",
		               en ? cfg_loc(en, loc, sizeof loc) : c->path, want,
		               s->integrator.desc->name);
	double safety, lo, hi, dt_min, dt_max;
	long long max_steps;
	int rc;
	if ((rc = cfg_num(c, "solve", "safety", &safety, e)) ||
	    (rc = cfg_num(c, "solve", "min_gain", &lo, e)) ||
	    (rc = cfg_num(c, "solve", "max_gain", &hi, e)) ||
	    (rc = cfg_num(c, "solve", "dt_min", &dt_min, e)) ||
	    (rc = cfg_num(c, "solve", "dt_max", &dt_max, e)) ||
	    (rc = cfg_int(c, "solve", "max_steps", &max_steps, e)))
		return rc;
	if (cfg_require(c, "solve", "safety", safety > 0 && safety <= 1, "in (0, 1]", e) ||
	    cfg_require(c, "solve", "min_gain", lo > 0 && lo < 1, "in (0, 1)", e) ||
	    cfg_require(c, "solve", "max_gain", hi > 1, "greater than 1", e) ||
	    cfg_require(c, "solve", "dt_min", dt_min >= 0 && (ctl == 0 || !cfg_get(c, "solve", "dt") ||
	                                                      dt_min < s->dt),
	                "0 or more, and below dt", e) ||
	    cfg_require(c, "solve", "dt_max", dt_max >= 0, "0 (no limit) or more", e) ||
	    cfg_require(c, "solve", "max_steps", max_steps > 0 && max_steps <= 2000000000,
	                "between 1 and 2e9", e))
		return CUBIE_ERR_CONFIG;
	/* a step spans at most one sample interval of a driver, so that the
	 * error estimate sees each kink of a linear one (drivers.h) */
	if (ctl > 0 && s->model->drv && (dt_max == 0 || dt_max > drivers_min_step(s->model->drv)))
		dt_max = drivers_min_step(s->model->drv);
	int order = io->error_order < io->order ? io->error_order : io->order;
	/* adaptive with no dt given: the kernel chooses each run's first step */
	s->auto_dt = ctl > 0 && !cfg_get(c, "solve", "dt");
	sb_add(b, "#define CUBIE_CONTROLLER %d\n#define CUBIE_ERR_ORDER %d\n#define CUBIE_AUTO_DT %d\n",
	       ctl, order, s->auto_dt);
	sb_add(b, "#define CUBIE_SAFETY %.17g\n#define CUBIE_MIN_GAIN %.17g\n"
	          "#define CUBIE_MAX_GAIN %.17g\n#define CUBIE_DT_MIN %.17g\n"
	          "#define CUBIE_DT_MAX %.17g\n#define CUBIE_MAX_STEPS %lldLL\n",
	       safety, lo, hi, dt_min, dt_max, max_steps);
	s->controller = names[ctl];
	/* Implicit methods measure Newton's progress against the tolerances, so
	 * they get them under the fixed controller too; explicit kernels stay
	 * as they were. */
	const int implicit = plugin_wants_jacobian(&s->integrator);
	if (implicit) {
		double ntol;
		long long nit;
		const char *upd = cfg_str(c, "solve", "jacobian_update");
		if ((rc = cfg_num(c, "solve", "newton_tol", &ntol, e)) ||
		    (rc = cfg_int(c, "solve", "newton_max_iter", &nit, e)))
			return rc;
		if (cfg_require(c, "solve", "newton_tol", ntol > 0 && ntol < 1, "in (0, 1)", e) ||
		    cfg_require(c, "solve", "newton_max_iter", nit >= 1 && nit <= 100,
		                "between 1 and 100", e))
			return CUBIE_ERR_CONFIG;
		sb_add(b, "#define CUBIE_NEWTON_TOL %.17g\n#define CUBIE_NEWTON_MAX_ITER %lld\n"
		          "#define CUBIE_JAC_UPDATE %d\n", ntol, nit, !strcmp(upd, "iteration"));
	}
	return ctl || implicit
		? (tolerances(s, "atol", b, e) || tolerances(s, "rtol", b, e) ? CUBIE_ERR_CONFIG : 0)
		: 0;
}

