/* Radau IIA of order 5 (three stages), Hairer and Wanner's RADAU5:
 *   E. Hairer, G. Wanner, Solving ODEs II, 2nd ed., Springer 1996, IV.8.
 * The constants are those of radau5.f: nodes (4 -+ sqrt 6)/10 and 1; T and
 * T^-1 bring A^-1 to diag(u, [alpha -beta; beta alpha]) with
 * u = 1/u1, u1 = (6 + 81^(1/3) - 9^(1/3))/30 and alpha + i beta the inverse
 * of (12 - 81^(1/3) + 9^(1/3))/60 + i (81^(1/3) + 9^(1/3)) sqrt(3)/60;
 * dd = (-(13 + 7 sqrt 6)/3, (-13 + 7 sqrt 6)/3, -1/3) weigh the error
 * estimate, of order 3 (the controller's exponent 1/4, as in RADAU5). The
 * Gustafsson controller is its default, as in RADAU5. */
#include <cubie/plugin.h>

static const char *const aliases[] = {"radau5", "radau", NULL};

static const cubie_integrator_ops ops = {
	.source =
		"#define RAD_C {0.15505102572168222, 0.64494897427831777, 1}\n"
		"#define RAD_T {"
			"{9.1232394870892942792e-02, -0.14125529502095420843, "
			"-3.0029194105147424492e-02}, "
			"{0.24171793270710701896, 0.20412935229379993199, 0.38294211275726193779}, "
			"{0.96604818261509293619, 1, 0}}\n"
		"#define RAD_TI {"
			"{4.3255798900631553510, 0.33919925181580986954, 0.54177053993587487119}, "
			"{-4.1787185915519047273, -0.32768282076106238708, 0.47662355450055045196}, "
			"{-0.50287263494578687595, 2.5719269498556054292, -0.59603920482822492497}}\n"
		"#define RAD_U 3.6378342527444962\n"
		"#define RAD_ALPHA 2.6810828736277523\n"
		"#define RAD_BETA 3.0504301992474105\n"
		"#define RAD_DD {-10.048809399827414, 1.3821427331607481, -1.0 / 3}\n"
		"#include <cubie/device/radau.h>\n",
	.order = 5,
	.error_order = 3,
	.stages = 3,
	.fsal = 0,
	.default_controller = "gustafsson",
	.aliases = aliases,
	.jacobian = 1,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "radau_iia_5", CUBIE_VERSION_STRING,
                    "Radau IIA order 5 (RADAU5), L-stable, 3 implicit stages", &ops)
