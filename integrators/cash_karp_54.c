/* The Cash-Karp 5(4) pair:
 *   J. R. Cash, A. H. Karp, A variable order Runge-Kutta method for initial
 *   value problems with rapidly varying right-hand sides,
 *   ACM Trans. Math. Software 16 (1990) 201-222.
 * Six stages; the fifth-order solution is propagated and the embedded
 * fourth-order one gives ERK_E = b - b_hat. Not FSAL. */
#include <cubie/plugin.h>

static const cubie_integrator_ops ops = {
	.source =
		"#define ERK_STAGES 6\n"
		"#define ERK_A {"
			"{0}, "
			"{1.0 / 5}, "
			"{3.0 / 40, 9.0 / 40}, "
			"{3.0 / 10, -9.0 / 10, 6.0 / 5}, "
			"{-11.0 / 54, 5.0 / 2, -70.0 / 27, 35.0 / 27}, "
			"{1631.0 / 55296, 175.0 / 512, 575.0 / 13824, 44275.0 / 110592, 253.0 / 4096}}\n"
		"#define ERK_B {37.0 / 378, 0, 250.0 / 621, 125.0 / 594, 0, 512.0 / 1771}\n"
		"#define ERK_C {0, 1.0 / 5, 3.0 / 10, 3.0 / 5, 1, 7.0 / 8}\n"
		"#define ERK_E {"
			"-277.0 / 64512, 0, 6925.0 / 370944, -6925.0 / 202752, -277.0 / 14336, "
			"277.0 / 7084}\n"
		"#include <cubie/device/erk.h>\n",
	.order = 5,
	.error_order = 4,
	.stages = 6,
	.fsal = 0,
	.default_controller = NULL,
	.aliases = NULL,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "cash_karp_54", CUBIE_VERSION_STRING,
                    "Cash-Karp 5(4), order 5 with a 4th-order estimate", &ops)
