/* MATLAB's ode23s: the Rosenbrock 2(3) pair of
 *   L. F. Shampine, M. W. Reichelt, The MATLAB ODE suite, SIAM J. Sci.
 *   Comput. 18 (1997) 1-22,
 * with d = 1/(2 + sqrt 2), e32 = 6 + sqrt 2. Their stages k_i satisfy
 * (I - h d J) K_i = h f_i + h J sum_j Gamma_ij K_j + delta_i h^2 f_t with
 * K = h k, Gamma_21 = -d, Gamma_31 = (e32 - 2) d, Gamma_32 = -e32 d and
 * delta = (d, 0, -d) (stage 3 rewritten without f_0, f_1); the transformed
 * coefficients below are a = alpha Gamma^-1, C = 1/d - Gamma^-1,
 * b = (0, 1, 0) Gamma^-1 (y_new = y + K_2) and
 * e = (1/6, -1/3, 1/6) Gamma^-1, where Gamma^-1 = [1 0 0; 1 1 0; 2 e32 1] / d. */
#include <cubie/plugin.h>

static const char *const aliases[] = {"ode23s", NULL};

static const cubie_integrator_ops ops = {
	.source =
		"#define ROS_STAGES 3\n"
		"#define ROS_GAMMA 0.29289321881345248\n"
		"#define ROS_A {{0}, {1.7071067811865475}, {3.4142135623730949, 3.4142135623730949}}\n"
		"#define ROS_C {{0}, {-3.4142135623730949}, "
			"{-6.8284271247461898, -25.313708498984759}}\n"
		"#define ROS_ALPHA {0, 0.5, 1}\n"
		"#define ROS_D {0.29289321881345248, 0, -0.29289321881345248}\n"
		"#define ROS_B {3.4142135623730949, 3.4142135623730949, 0}\n"
		"#define ROS_E {0.56903559372884915, 3.0808802290397619, 0.56903559372884915}\n"
		"#include <cubie/device/rosenbrock.h>\n",
	.order = 2,
	.error_order = 3,
	.stages = 3,
	.fsal = 0,
	.default_controller = "gustafsson", /* as Hairer-Wanner's stiff codes */
	.aliases = aliases,
	.jacobian = 1,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "rosenbrock23", CUBIE_VERSION_STRING,
                    "Shampine-Reichelt Rosenbrock 2(3) (ode23s), L-stable, order 2", &ops)
