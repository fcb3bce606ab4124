/* The Bogacki-Shampine 3(2) pair (MATLAB's ode23):
 *   P. Bogacki, L. F. Shampine, A 3(2) pair of Runge-Kutta formulas,
 *   Appl. Math. Lett. 2 (1989) 321-325.
 * Propagates the third-order solution (Ralston's weights); the fourth
 * stage is f(t + h, y_new) and is reused as the next step's first (FSAL),
 * so an accepted step costs three evaluations. ERK_E = b - b_hat with the
 * second-order b_hat = (7/24, 1/4, 1/3, 1/8). */
#include <cubie/plugin.h>

static const char *const aliases[] = {"rk23", "ode23", NULL};

static const cubie_integrator_ops ops = {
	.source =
		"#define ERK_STAGES 4\n"
		"#define ERK_A {{0}, {1.0 / 2}, {0, 3.0 / 4}, {2.0 / 9, 1.0 / 3, 4.0 / 9}}\n"
		"#define ERK_B {2.0 / 9, 1.0 / 3, 4.0 / 9, 0}\n"
		"#define ERK_C {0, 1.0 / 2, 3.0 / 4, 1}\n"
		"#define ERK_E {-5.0 / 72, 1.0 / 12, 1.0 / 9, -1.0 / 8}\n"
		"#define ERK_FSAL 1\n"
		"#include <cubie/device/erk.h>\n",
	.order = 3,
	.error_order = 2,
	.stages = 4,
	.fsal = 1,
	.default_controller = NULL,
	.aliases = aliases,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "bogacki_shampine_32", CUBIE_VERSION_STRING,
                    "Bogacki-Shampine 3(2), FSAL, order 3 with a 2nd-order estimate", &ops)
