/* An integrator plugin: the explicit midpoint rule, second order, fixed
 * step. Its device source is only a Butcher tableau; the step itself is
 * the generic explicit Runge-Kutta routine of <cubie/device/erk.h>, which
 * the core compiles into the kernel (NVRTC on cuda, the C compiler on cpu).
 * Everything but cubie_plugin_describe is static: that is the one symbol
 * a plugin exports. */
#include <cubie/plugin.h>

static const char *const aliases[] = {"explicit_midpoint", NULL};

static const cubie_integrator_ops ops = {
	.source =
		"#define ERK_STAGES 2\n"
		"#define ERK_A {{0, 0}, {0.5, 0}}\n"
		"#define ERK_B {0, 1}\n"
		"#define ERK_C {0, 0.5}\n"
		"#include <cubie/device/erk.h>\n",
	.order = 2,
	.error_order = 0, /* no embedded estimate: the fixed-step controller */
	.stages = 2,
	.fsal = 0,
	.aliases = aliases,
};

static const cubie_plugin plugin = {
	.abi_major = CUBIE_ABI_MAJOR, /* from the headers built against */
	.abi_minor = CUBIE_ABI_MINOR,
	.kind = CUBIE_PLUGIN_INTEGRATOR,
	.name = "midpoint", /* installed as integrator/midpoint.so */
	.version = "1.0",
	.summary = "explicit midpoint rule, fixed step, order 2 (template)",
	.ops = &ops,
};

const cubie_plugin *cubie_plugin_describe(void)
{
	return &plugin;
}
