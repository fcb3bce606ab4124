/* Two-stage, second-order, L-stable SDIRK with gamma = 1 - 1/sqrt(2):
 *   R. Alexander, Diagonally implicit Runge-Kutta methods for stiff
 *   ODEs, SIAM J. Numer. Anal. 14 (1977) 1006-1021.
 * Stiffly accurate (b is the last row of A). The embedded first-order
 * solution y + h k_1 gives b - b_hat = (-gamma, gamma). */
#include <cubie/plugin.h>

static const cubie_integrator_ops ops = {
	.source =
		"#define DIRK_STAGES 2\n"
		"#define DIRK_A {{0.29289321881345254, 0}, {0.70710678118654746, 0.29289321881345254}}\n"
		"#define DIRK_B {0.70710678118654746, 0.29289321881345254}\n"
		"#define DIRK_C {0.29289321881345254, 1}\n"
		"#define DIRK_E {-0.29289321881345254, 0.29289321881345254}\n"
		"#include <cubie/device/dirk.h>\n",
	.order = 2,
	.error_order = 1,
	.stages = 2,
	.fsal = 0,
	.default_controller = "gustafsson", /* as Hairer-Wanner's stiff codes */
	.aliases = NULL,
	.jacobian = 1,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "sdirk_2_2", CUBIE_VERSION_STRING,
                    "Alexander's 2-stage SDIRK, L-stable, order 2 with a first-order estimate", &ops)
