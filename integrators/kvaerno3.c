/* Kvaerno's ESDIRK 3(2) with four stages, gamma = 0.4358665215:
 *   A. Kvaerno, Singly diagonally implicit Runge-Kutta methods with an
 *   explicit first stage, BIT 44 (2004) 489-502.
 * L-stable and stiffly accurate; the embedded second-order solution is the
 * third stage, so b - b_hat is the last row minus the third. Coefficients
 * as tabulated in SUNDIALS ARKODE (KVAERNO_4_2_3). */
#include <cubie/plugin.h>

static const cubie_integrator_ops ops = {
	.source =
		"#define DIRK_STAGES 4\n"
		"#define DIRK_A {{0}, "
			"{0.4358665215, 0.4358665215}, "
			"{0.490563388419108, 0.073570090080892, 0.4358665215}, "
			"{0.308809969973036, 1.490563388254106, -1.235239879727145, 0.4358665215}}\n"
		"#define DIRK_B {0.308809969973036, 1.490563388254106, -1.235239879727145, "
			"0.4358665215}\n"
		"#define DIRK_C {0, 0.871733043, 1, 1}\n"
		"#define DIRK_E {0.308809969973036 - 0.490563388419108, "
			"1.490563388254106 - 0.073570090080892, -1.235239879727145 - 0.4358665215, "
			"0.4358665215}\n"
		"#include <cubie/device/dirk.h>\n",
	.order = 3,
	.error_order = 2,
	.stages = 4,
	.fsal = 0,
	.default_controller = "gustafsson", /* as Hairer-Wanner's stiff codes */
	.aliases = NULL,
	.jacobian = 1,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "kvaerno3", CUBIE_VERSION_STRING,
                    "Kvaerno's ESDIRK 3(2), 4 stages, L-stable", &ops)
