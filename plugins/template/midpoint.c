/* An integrator plugin: the explicit midpoint rule, second order, fixed
 * step. Its device source (midpoint_device.h) is only a Butcher tableau; the step itself is
 * the generic explicit Runge-Kutta routine of <cubie/device/erk.h>, which
 * the core compiles into the kernel (NVRTC on cuda, the C compiler on cpu).
 * Everything but cubie_plugin_describe is static: that is the one symbol
 * a plugin exports. */
#include <cubie/plugin.h>

#include "midpoint_device.inc" /* midpoint_source, made from midpoint_device.h */

static const char *const aliases[] = {"explicit_midpoint", NULL};

static const cubie_integrator_ops ops = {
	.source = midpoint_source,
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
