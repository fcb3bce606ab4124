/* Heun's method (the explicit trapezoidal rule), order 2, with forward
 * Euler embedded: err = y_heun - y_euler, a first-order estimate.
 *   K. Heun, Neue Methoden zur approximativen Integration der
 *   Differentialgleichungen einer unabhaengigen Veraenderlichen,
 *   Z. Math. Phys. 45 (1900) 23-38.
 * Two stages, not FSAL (the second stage is taken at the Euler point). Only
 * its Butcher tableau; the step is the generic ERK routine of
 * <cubie/device/erk.h>. */
#include <cubie/plugin.h>

static const cubie_integrator_ops ops = {
	.source =
		"#define ERK_STAGES 2\n"
		"#define ERK_A {{0}, {1}}\n"
		"#define ERK_B {1.0 / 2, 1.0 / 2}\n"
		"#define ERK_C {0, 1}\n"
		"#define ERK_E {-1.0 / 2, 1.0 / 2}\n"
		"#include <cubie/device/erk.h>\n",
	.order = 2,
	.error_order = 1,
	.stages = 2,
	.fsal = 0,
	.default_controller = NULL,
	.aliases = NULL,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "heun_21", CUBIE_VERSION_STRING,
                    "Heun 2(1): explicit trapezoid with an embedded Euler estimate", &ops)
