/* Tsitouras' 5(4) pair (Tsit5):
 *   Ch. Tsitouras, Runge-Kutta pairs of order 5(4) satisfying only the
 *   first column simplifying assumption, Comput. Math. Appl. 62 (2011)
 *   770-775.
 * Seven stages, FSAL (b is the seventh row of A, b7 = 0). The irrational
 * coefficients are given to 25 significant digits, rounded from the
 * 85-digit values of OrdinaryDiffEq.jl's Tsit5 tableau (c2 = 0.161,
 * c3 = 0.327, c4 = 0.9 as in the paper). ERK_E = b - b_hat with the
 * fourth-order b_hat (b_hat7 = 1/66). */
#include <cubie/plugin.h>

static const cubie_integrator_ops ops = {
	.source =
		"#define ERK_STAGES 7\n"
		"#define ERK_A {"
			"{0}, "
			"{161.0 / 1000}, "
			"{-0.008480655492356988544426874, 0.3354806554923569885444269}, "
			"{2.897153057105493432130433, -6.35944848997507484314816, "
				"4.362295432869581411017727}, "
			"{5.325864828439256604428878, -11.74888356406282787774717, "
				"7.495539342889836208304605, -0.09249506636175524925650208}, "
			"{5.861455442946420028659251, -12.92096931784710929170612, "
				"8.159367898576158643180401, -0.07158497328140099722453054, "
				"-0.02826905039406838290900306}, "
			"{0.09646076681806522951816731, 1.0 / 100, 0.4798896504144995747752495, "
				"1.379008574103741893192275, -3.290069515436080679901048, "
				"2.324710524099773982415356}}\n"
		"#define ERK_B {"
			"0.09646076681806522951816731, 1.0 / 100, 0.4798896504144995747752495, "
			"1.379008574103741893192275, -3.290069515436080679901048, "
			"2.324710524099773982415356, 0}\n"
		"#define ERK_C {"
			"0, 161.0 / 1000, 327.0 / 1000, 9.0 / 10, 0.9800255409045096857298103, 1, 1}\n"
		"#define ERK_E {"
			"0.001780011052225771443378551, 8.164344596567469032236361e-4, "
			"-0.007880878010261996010314728, 0.1447110071732629075371651, "
			"-0.5823571654525552250199376, 0.4580821059291869466616365, -1.0 / 66}\n"
		"#define ERK_FSAL 1\n"
		"#include <cubie/device/erk.h>\n",
	.order = 5,
	.error_order = 4,
	.stages = 7,
	.fsal = 1,
	.default_controller = NULL,
	.aliases = NULL,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "tsit5", CUBIE_VERSION_STRING,
                    "Tsitouras 5(4), FSAL, order 5 with a 4th-order estimate", &ops)
