/* RODAS4: E. Hairer, G. Wanner, Solving ODEs II, 2nd ed., Springer 1996,
 * IV.7, and their code RODAS (METH = 1). Six stages, gamma = 1/4,
 * stiffly accurate: stage 5 is the embedded third-order solution, stage 6
 * evaluates there, y_new = stage 6's argument + U_6 and err = U_6. */
#include <cubie/plugin.h>

static const cubie_integrator_ops ops = {
	.source =
		"#define ROS_STAGES 6\n"
		"#define ROS_GAMMA 0.25\n"
		"#define ROS_A {{0}, "
			"{1.544}, "
			"{0.9466785280815826, 0.2557011698983284}, "
			"{3.314825187068521, 2.896124015972201, 0.9986419139977817}, "
			"{1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950}, "
			"{1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950, 1}}\n"
		"#define ROS_C {{0}, "
			"{-5.6688}, "
			"{-2.430093356833875, -0.2063599157091915}, "
			"{-0.1073529058151375, -9.594562251023355, -20.47028614809616}, "
			"{7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160}, "
			"{8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, "
			"-6.058818238834054}}\n"
		"#define ROS_ALPHA {0, 0.386, 0.21, 0.63, 1, 1}\n"
		"#define ROS_D {0.25, -0.1043, 0.1035, -0.0362, 0, 0}\n"
		"#define ROS_B {1.221224509226641, 6.019134481288629, 12.53708332932087, "
			"-0.6878860361058950, 1, 1}\n"
		"#define ROS_E {0, 0, 0, 0, 0, 1}\n"
		"#include <cubie/device/rosenbrock.h>\n",
	.order = 4,
	.error_order = 3,
	.stages = 6,
	.fsal = 0,
	.default_controller = "gustafsson", /* as Hairer-Wanner's stiff codes */
	.aliases = NULL,
	.jacobian = 1,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_INTEGRATOR, "rodas4", CUBIE_VERSION_STRING,
                    "Hairer-Wanner RODAS4, Rosenbrock 4(3), 6 stages, stiffly accurate", &ops)
