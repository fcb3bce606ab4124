/* The Dormand-Prince 5(4) pair (DOPRI5, MATLAB's ode45):
 *   J. R. Dormand, P. J. Prince, A family of embedded Runge-Kutta formulae,
 *   J. Comput. Appl. Math. 6 (1980) 19-26.
 * Seven stages; the fifth-order solution is propagated, the seventh stage
 * is f(t + h, y_new) and becomes the next step's first (FSAL), so an
 * accepted step costs six evaluations. ERK_E = b - b_hat, the familiar
 * (71/57600, 0, -71/16695, 71/1920, -17253/339200, 22/525, -1/40). */
#include <cubie/plugin.h>

static const char *const aliases[] = {"dopri54", "rk45", "ode45", NULL};

static const cubie_integrator_ops ops = {
	.source =
		"#define ERK_STAGES 7\n"
		"#define ERK_A {"
			"{0}, "
			"{1.0 / 5}, "
			"{3.0 / 40, 9.0 / 40}, "
			"{44.0 / 45, -56.0 / 15, 32.0 / 9}, "
			"{19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729}, "
			"{9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656}, "
			"{35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84}}\n"
		"#define ERK_B {"
			"35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0}\n"
		"#define ERK_C {0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1}\n"
		"#define ERK_E {"
			"71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, "
			"-1.0 / 40}\n"
		"#define ERK_FSAL 1\n"
		"#include <cubie/device/erk.h>\n",
	.order = 5,
	.error_order = 4,
	.stages = 7,
	.fsal = 1,
	.default_controller = NULL,
	.aliases = aliases,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "dormand_prince_54", CUBIE_VERSION_STRING,
                    "Dormand-Prince 5(4), FSAL, order 5 with a 4th-order estimate", &ops)
