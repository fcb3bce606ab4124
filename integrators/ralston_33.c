/* Ralston's third-order, three-stage explicit Runge-Kutta method, the one
 * of minimum error bound:
 *   A. Ralston, Runge-Kutta methods with minimum error bounds,
 *   Math. Comp. 16 (1962) 431-437.
 * No embedded error estimate (error_order 0), so it runs with fixed steps;
 * the same three stages plus an FSAL fourth give bogacki_shampine_32, its
 * adaptive counterpart. */
#include <cubie/plugin.h>

static const cubie_integrator_ops ops = {
	.source =
		"#define ERK_STAGES 3\n"
		"#define ERK_A {{0}, {1.0 / 2}, {0, 3.0 / 4}}\n"
		"#define ERK_B {2.0 / 9, 1.0 / 3, 4.0 / 9}\n"
		"#define ERK_C {0, 1.0 / 2, 3.0 / 4}\n"
		"#include <cubie/device/erk.h>\n",
	.order = 3,
	.error_order = 0,
	.stages = 3,
	.fsal = 0,
	.default_controller = NULL,
	.aliases = NULL,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "ralston_33", CUBIE_VERSION_STRING,
                    "Ralston's 3-stage method, fixed step, order 3", &ops)
