/* Backward (implicit) Euler, y_new = y + h f(t + h, y_new): L-stable, first
 * order. Written as a two-stage ESDIRK whose first stage is f(t, y), so that
 * b - b_hat against the trapezoidal rule, (-1/2, 1/2), estimates the local
 * error h/2 (f(t + h, y_new) - f(t, y)) at no extra cost and the method can
 * run adaptively. */
#include <cubie/plugin.h>

static const char *const aliases[] = {"implicit_euler", NULL};

static const cubie_integrator_ops ops = {
	.source =
		"#define DIRK_STAGES 2\n"
		"#define DIRK_A {{0, 0}, {0, 1}}\n"
		"#define DIRK_B {0, 1}\n"
		"#define DIRK_C {0, 1}\n"
		"#define DIRK_E {-0.5, 0.5}\n"
		"#include <cubie/device/dirk.h>\n",
	.order = 1,
	.error_order = 2,
	.stages = 2,
	.fsal = 0,
	.default_controller = "gustafsson", /* as Hairer-Wanner's stiff codes */
	.aliases = aliases,
	.jacobian = 1,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "backward_euler", CUBIE_VERSION_STRING,
                    "backward Euler, L-stable, order 1, trapezoidal error estimate", &ops)
