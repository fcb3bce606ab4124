/* Forward Euler: the one-stage explicit Runge-Kutta method, first order,
 * no error estimate. Its device source is the generic ERK step with a
 * one-stage tableau. */
#include <cubie/plugin.h>

static const cubie_integrator_ops ops = {
	.source =
		"#define ERK_STAGES 1\n"
		"#define ERK_A {{0}}\n"
		"#define ERK_B {1}\n"
		"#define ERK_C {0}\n"
		"#include <cubie/device/erk.h>\n",
	.order = 1,
	.error_order = 0,
	.stages = 1,
	.fsal = 0,
	.aliases = NULL,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "euler", CUBIE_VERSION_STRING,
                    "forward Euler, fixed step, order 1", &ops)
