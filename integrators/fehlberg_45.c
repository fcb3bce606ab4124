/* The Runge-Kutta-Fehlberg pair RKF4(5), as in Fehlberg's original:
 *   E. Fehlberg, Low-order classical Runge-Kutta formulas with stepsize
 *   control and their application to some heat transfer problems,
 *   NASA Technical Report R-315 (1969).
 * Six stages. The fourth-order solution is propagated (order 4) and the
 * fifth-order one serves only the estimate: err = y4 - y5 (error_order 5;
 * the controller uses min(order, error_order) = 4). Not the common variant
 * that propagates the fifth-order solution; for local extrapolation use
 * cash_karp_54 or dormand_prince_54. Not FSAL. */
#include <cubie/plugin.h>

static const cubie_integrator_ops ops = {
	.source =
		"#define ERK_STAGES 6\n"
		"#define ERK_A {"
			"{0}, "
			"{1.0 / 4}, "
			"{3.0 / 32, 9.0 / 32}, "
			"{1932.0 / 2197, -7200.0 / 2197, 7296.0 / 2197}, "
			"{439.0 / 216, -8, 3680.0 / 513, -845.0 / 4104}, "
			"{-8.0 / 27, 2, -3544.0 / 2565, 1859.0 / 4104, -11.0 / 40}}\n"
		"#define ERK_B {25.0 / 216, 0, 1408.0 / 2565, 2197.0 / 4104, -1.0 / 5, 0}\n"
		"#define ERK_C {0, 1.0 / 4, 3.0 / 8, 12.0 / 13, 1, 1.0 / 2}\n"
		"#define ERK_E {"
			"-1.0 / 360, 0, 128.0 / 4275, 2197.0 / 75240, -1.0 / 50, -2.0 / 55}\n"
		"#include <cubie/device/erk.h>\n",
	.order = 4,
	.error_order = 5,
	.stages = 6,
	.fsal = 0,
	.default_controller = NULL,
	.aliases = NULL,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "fehlberg_45", CUBIE_VERSION_STRING,
                    "Runge-Kutta-Fehlberg 4(5), order 4 with a 5th-order estimate", &ops)
