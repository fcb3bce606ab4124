/* Crank-Nicolson, the trapezoidal rule y_new = y + h/2 (f(t, y) +
 * f(t + h, y_new)): A-stable (not L-stable), second order. As a two-stage
 * ESDIRK with gamma = 1/2; the embedded first-order solution
 * y + h f(t + h, y_new) gives the estimate h/2 (f(t, y) - f(t + h, y_new)),
 * pessimistic by one order but free. */
#include <cubie/plugin.h>

static const char *const aliases[] = {"trapezoidal", NULL};

static const cubie_integrator_ops ops = {
	.source =
		"#define DIRK_STAGES 2\n"
		"#define DIRK_A {{0, 0}, {0.5, 0.5}}\n"
		"#define DIRK_B {0.5, 0.5}\n"
		"#define DIRK_C {0, 1}\n"
		"#define DIRK_E {0.5, -0.5}\n"
		"#include <cubie/device/dirk.h>\n",
	.order = 2,
	.error_order = 1,
	.stages = 2,
	.fsal = 0,
	.default_controller = "gustafsson", /* as Hairer-Wanner's stiff codes */
	.aliases = aliases,
	.jacobian = 1,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "crank_nicolson", CUBIE_VERSION_STRING,
                    "Crank-Nicolson (trapezoidal rule), order 2, A- but not L-stable: not for very stiff long runs", &ops)
