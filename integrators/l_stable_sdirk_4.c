/* The L-stable SDIRK of order 4 with five stages and gamma = 1/4, and its
 * third-order embedding b_hat = (59/48, -17/96, 225/32, -85/12, 0):
 *   E. Hairer, G. Wanner, Solving ODEs II, 2nd ed., Springer 1996,
 *   IV.6, Table 6.5 (the code SDIRK4).
 * Stiffly accurate: b is the last row of A. */
#include <cubie/plugin.h>

static const char *const aliases[] = {"sdirk4", NULL};

static const cubie_integrator_ops ops = {
	.source =
		"#define DIRK_STAGES 5\n"
		"#define DIRK_A {"
			"{1.0 / 4}, "
			"{1.0 / 2, 1.0 / 4}, "
			"{17.0 / 50, -1.0 / 25, 1.0 / 4}, "
			"{371.0 / 1360, -137.0 / 2720, 15.0 / 544, 1.0 / 4}, "
			"{25.0 / 24, -49.0 / 48, 125.0 / 16, -85.0 / 12, 1.0 / 4}}\n"
		"#define DIRK_B {25.0 / 24, -49.0 / 48, 125.0 / 16, -85.0 / 12, 1.0 / 4}\n"
		"#define DIRK_C {1.0 / 4, 3.0 / 4, 11.0 / 20, 1.0 / 2, 1}\n"
		"#define DIRK_E {25.0 / 24 - 59.0 / 48, -49.0 / 48 + 17.0 / 96, "
			"125.0 / 16 - 225.0 / 32, 0, 1.0 / 4}\n"
		"#include <cubie/device/dirk.h>\n",
	.order = 4,
	.error_order = 3,
	.stages = 5,
	.fsal = 0,
	.default_controller = "gustafsson", /* as Hairer-Wanner's stiff codes */
	.aliases = aliases,
	.jacobian = 1,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "l_stable_sdirk_4", CUBIE_VERSION_STRING,
                    "Hairer-Wanner's L-stable SDIRK 4(3), 5 stages", &ops)
