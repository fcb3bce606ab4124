/* Kvaerno's ESDIRK 5(4) with seven stages, gamma = 0.26:
 *   A. Kvaerno, Singly diagonally implicit Runge-Kutta methods with an
 *   explicit first stage, BIT 44 (2004) 489-502.
 * L-stable and stiffly accurate; the embedded fourth-order solution is the
 * sixth stage. Coefficients as tabulated in SUNDIALS ARKODE
 * (KVAERNO_7_4_5), the method of diffrax's Kvaerno5. */
#include <cubie/plugin.h>

static const cubie_integrator_ops ops = {
	.source =
		"#define DIRK_STAGES 7\n"
		"#define DIRK_A {{0}, "
			"{0.26, 0.26}, "
			"{0.13, 0.84033320996790809, 0.26}, "
			"{0.22371961478320505, 0.47675532319799699, -0.06470895363112615, 0.26}, "
			"{0.16648564323248321, 0.10450018841591720, 0.03631482272098715, "
			"-0.13090704451073998, 0.26}, "
			"{0.13855640231268224, 0, -0.04245337201752043, 0.02446657898003141, "
			"0.61943039072480676, 0.26}, "
			"{0.13659751177640291, 0, -0.05496908796538376, -0.04118626728321046, "
			"0.62993304899016403, 0.06962479448202728, 0.26}}\n"
		"#define DIRK_B {0.13659751177640291, 0, -0.05496908796538376, -0.04118626728321046, "
			"0.62993304899016403, 0.06962479448202728, 0.26}\n"
		"#define DIRK_C {0, 0.52, 1.230333209967908, 0.895765984350076, 0.436393609858648, "
			"1, 1}\n"
		"#define DIRK_E {0.13659751177640291 - 0.13855640231268224, 0, "
			"-0.05496908796538376 + 0.04245337201752043, "
			"-0.04118626728321046 - 0.02446657898003141, "
			"0.62993304899016403 - 0.61943039072480676, 0.06962479448202728 - 0.26, 0.26}\n"
		"#include <cubie/device/dirk.h>\n",
	.order = 5,
	.error_order = 4,
	.stages = 7,
	.fsal = 0,
	.default_controller = "gustafsson", /* as Hairer-Wanner's stiff codes */
	.aliases = NULL,
	.jacobian = 1,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "kvaerno5", CUBIE_VERSION_STRING,
                    "Kvaerno's ESDIRK 5(4), 7 stages, L-stable", &ops)
