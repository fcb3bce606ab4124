/* ROS3P: J. Lang, J. Verwer, ROS3P - an accurate third-order Rosenbrock
 * solver designed for parabolic problems, BIT 41 (2001) 731-738.
 * gamma = 1/2 + sqrt(3)/6; third order also for parabolic PDEs; the
 * second-order embedding gives the estimate. The third stage has the
 * second's argument, so an attempt costs two f evaluations. Not L-stable:
 * R(inf) = -0.73, and the embedded method's too, so the estimate does not
 * see stiff components' errors (OREGO: global error ~1e5 tolerances, see
 * t/stiff.c); the coefficients are checked against the paper's
 * untransformed ones (gamma_21 = -1, gamma_31 = -gamma, gamma_32 =
 * -1.0773502691896260, b = (2/3, 0, 1/3), b_hat = (1/3, 1/3, 1/3)). */
#include <cubie/plugin.h>

static const cubie_integrator_ops ops = {
	.source =
		"#define ROS_STAGES 3\n"
		"#define ROS_GAMMA 0.78867513459481287\n"
		"#define ROS_A {{0}, {1.2679491924311228}, {1.2679491924311228, 0}}\n"
		"#define ROS_C {{0}, {-1.6076951545867364}, {-3.4641016151377553, -1.7320508075688774}}\n"
		"#define ROS_ALPHA {0, 1, 1}\n"
		"#define ROS_D {0.7886751345948129, -0.2113248654051871, -1.077350269189626}\n"
		"#define ROS_B {2, 0.57735026918962573, 0.42264973081037427}\n"
		"#define ROS_E {-0.1132486540518709, -0.42264973081037427, 0}\n"
		"#include <cubie/device/rosenbrock.h>\n",
	.order = 3,
	.error_order = 2,
	.stages = 3,
	.fsal = 0,
	.default_controller = "gustafsson", /* as Hairer-Wanner's stiff codes */
	.aliases = NULL,
	.jacobian = 1,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "ros3p", CUBIE_VERSION_STRING,
                    "ROS3P, Lang-Verwer Rosenbrock 3(2), for parabolic problems; not L-stable", &ops)
