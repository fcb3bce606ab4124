/* The classical fourth-order Runge-Kutta method: four stages, fixed step,
 * no error estimate. Only its Butcher tableau; the step is the generic
 * ERK routine of <cubie/device/erk.h>. */
#include <cubie/plugin.h>

static const char *const aliases[] = {"classical_rk4", NULL};

static const cubie_integrator_ops ops = {
	.source =
		"#define ERK_STAGES 4\n"
		"#define ERK_A {{0, 0, 0, 0}, {0.5, 0, 0, 0}, {0, 0.5, 0, 0}, {0, 0, 1, 0}}\n"
		"#define ERK_B {1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6}\n"
		"#define ERK_C {0, 0.5, 0.5, 1}\n"
		"#include <cubie/device/erk.h>\n",
	.order = 4,
	.error_order = 0,
	.stages = 4,
	.fsal = 0,
	.aliases = aliases,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "rk4", CUBIE_VERSION_STRING,
                    "classical Runge-Kutta, fixed step, order 4", &ops)
