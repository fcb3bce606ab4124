/* Verner's "most efficient" 7(6) pair (Vern7):
 *   J. H. Verner, Numerically optimal Runge-Kutta pairs with interpolants,
 *   Numer. Algorithms 53 (2010) 383-396; coefficients from Verner's
 *   "RKV76.IIa Efficient" rational tableau.
 * Ten stages, without the six extra stages of its interpolant. The
 * seventh-order solution is propagated; the tenth stage enters only the
 * sixth-order estimate (b10 = 0, b_hat8 = b_hat9 = 0). Not FSAL. Small
 * rationals are written as fractions; Verner's long rationals as decimals
 * to 25 significant digits. */
#include <cubie/plugin.h>

static const cubie_integrator_ops ops = {
	.source =
		"#define ERK_STAGES 10\n"
		"#define ERK_A {"
			"{0}, "
			"{1.0 / 200}, "
			"{-4361.0 / 4050, 2401.0 / 2025}, "
			"{49.0 / 1200, 0, 49.0 / 400}, "
			"{2454451729.0 / 3841600000, 0, -9433712007.0 / 3841600000, "
				"4364554539.0 / 1920800000}, "
			"{-2.661577375018757131119259, 0, 10.80451388645613769565397, "
				"-8.353914657396199411968049, 0.8204875949566569791420417}, "
			"{6.06774143469677099271836, 0, -24.71127363591108579734203, "
				"20.42751793078889394045773, -1.906157978816647150624097, "
				"1.00617224924206801479004}, "
			"{12.05467007625320299509109, 0, -1990261989751005.0 / 40001418792832, "
				"41.14288863860467663259698, -4.461760149974004185641912, "
				"2.042334822239174959821717, -0.09834843665406107379530802}, "
			"{10.13814652288180787641845, 0, -42.64113603171750214622846, "
				"35.76384003992257007135021, -4.34802284039290765334037, "
				"2.009862268377035895441944, 0.3487490460338272405953823, "
				"-0.2714390051048312842371587}, "
			"{-45.03007203429867712435322, 0, 187.3272437654588840752418, "
				"-154.0288236935018690596729, 18.56465306347536233859492, "
				"-7.14180967929507885492542, 1.308808578161378625114763}}\n"
		"#define ERK_B {"
			"0.04715561848627222170431765, 0, 0, 0.2575056429843415189596436, "
			"0.2621665397741262047713863, 0.1521609265673855740323133, "
			"0.4939969170032484246907176, -0.2943031171403250441557245, "
			"0.08131747232495109999734599, 0}\n"
		"#define ERK_C {"
			"0, 1.0 / 200, 49.0 / 450, 49.0 / 300, 911.0 / 2000, 3480084980.0 / 5709648941, "
			"221.0 / 250, 37.0 / 40, 1, 1}\n"
		"#define ERK_E {"
			"0.002547011879931045416999475, 0, 0, -0.009658394872795749091266616, "
			"0.04206470975639690277341473, -0.06668224374693010906599876, "
			"0.2650097464621281363529002, -0.2943031171403250441557245, "
			"0.08131747232495109999734599, -0.02029518466335628222767055}\n"
		"#include <cubie/device/erk.h>\n",
	.order = 7,
	.error_order = 6,
	.stages = 10,
	.fsal = 0,
	.default_controller = NULL,
	.aliases = NULL,
};

static const cubie_plugin plugin = {
	.abi_major = CUBIE_ABI_MAJOR,
	.abi_minor = CUBIE_ABI_MINOR,
	.kind = CUBIE_PLUGIN_INTEGRATOR,
	.name = "vern7",
	.version = CUBIE_VERSION_STRING,
	.summary = "Verner's efficient 7(6), order 7 with a 6th-order estimate",
	.ops = &ops,
};

const cubie_plugin *cubie_plugin_describe(void)
{
	return &plugin;
}
