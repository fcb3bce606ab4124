/* Every key the core accepts, with its type and default: the one table
 * that validation, defaults, `cubie check` and cubie.ini(5) follow. */
#include "config.h"
#include "schema.h"

#include <stddef.h>

/* Sections whose keys are the user's names, in file order. */
const char *const cfg_free_sections[] = {"constants", "equations", "initial", "parameters",
                                         "drivers", "events", NULL};

const struct cfg_key cfg_schema[] = {
	{"model", "name", CFG_STR, "model", "name of the model, used in messages"},
	{"model", "states", CFG_NAMES, NULL, "state variables, in integration order"},
	{"model", "parameters", CFG_NAMES, "", "per-run parameters"},
	{"model", "observables", CFG_NAMES, "", "derived outputs defined in [equations]"},
	{"drivers", "interpolation", CFG_CHOICE, "linear", "linear|cubic"},
	{"drivers", "wrap", CFG_CHOICE, "clamp", "clamp|periodic|error"},
	{"drivers", "sample_every", CFG_NUM, NULL, "spacing of inline sample lists"},
	{"drivers", "start", CFG_NUM, "0", "time of the first sample of inline lists"},
	{"runs", "combine", CFG_CHOICE, "grid", "grid|zip"},
	{"runs", "file", CFG_STR, NULL, "CSV of per-run values, columns named by state or parameter"},
	{"solve", "integrator", CFG_STR, "rk4", "integrator plugin name or alias"},
	{"solve", "t0", CFG_NUMS, "0", "start time; several values sweep it per run"},
	{"solve", "duration", CFG_NUMS, "1", "length of the integration; several values sweep it per run"},
	{"solve", "dt", CFG_NUM, "0.001", "step size"},
	{"solve", "precision", CFG_CHOICE, "float64", "float32|float64"},
	{"solve", "controller", CFG_CHOICE, "auto", "auto|fixed|i|pi|pid|gustafsson"},
	{"solve", "atol", CFG_NUMS, "1e-6", "absolute tolerance: one value, or one per state"},
	{"solve", "rtol", CFG_NUMS, "1e-6", "relative tolerance: one value, or one per state"},
	{"solve", "dt_min", CFG_NUM, "1e-12", "smallest step before a run fails"},
	{"solve", "dt_max", CFG_NUM, "0", "largest step; 0: no limit"},
	{"solve", "max_steps", CFG_INT, "10000000", "steps (accepted and rejected) before a run fails"},
	{"solve", "safety", CFG_NUM, "0.9", "safety factor of the step controller"},
	{"solve", "min_gain", CFG_NUM, "0.2", "smallest factor a step may shrink by"},
	{"solve", "max_gain", CFG_NUM, "5", "largest factor a step may grow by"},
	{"solve", "newton_tol", CFG_NUM, "0.03",
	 "implicit methods: Newton stops when its estimated error, in units of the tolerances, is below this"},
	{"solve", "newton_max_iter", CFG_INT, "7", "implicit methods: Newton iterations before a step is retried smaller"},
	{"solve", "jacobian_update", CFG_CHOICE, "step", "step|iteration"},
	{"solve", "settling_time", CFG_NUMS, "0",
	 "integrated before t0, not saved; several values sweep it per run"},
	{"output", "file", CFG_STR, NULL, "output path; the writer follows its extension"},
	{"output", "format", CFG_STR, NULL, "writer plugin name, overriding the extension"},
	{"output", "save_every", CFG_NUM, "0", "interval between saves; 0: initial and final only"},
	{"output", "save", CFG_NAMES, NULL, "states and observables to save; default all states"},
	{"output", "compression", CFG_STR, "none", "none, gzip[:LEVEL] or shuffle,gzip (hdf5)"},
	{"output", "summaries", CFG_STR, NULL, "metrics computed on the device: mean, max, peaks[3], ..."},
	{"output", "summarise", CFG_NAMES, NULL, "variables summarised; default the saved ones"},
	{"output", "sample_every", CFG_NUM, "0", "interval between summary samples; 0: every step"},
	{"output", "summarise_every", CFG_NUM, "0", "summary window; 0: the whole run"},
	{"events", "tolerance", CFG_NUM, "1e-9", "events: time to which each crossing is located"},
	{"events", "max_chatter", CFG_INT, "100", "events: resets in a row, each within chatter_spacing of the last, before a run ends as ZENO"},
	{"events", "chatter_spacing", CFG_NUM, NULL, "events: resets closer than this chatter; unset: 100 x tolerance"},
	{"memory", "allocator", CFG_STR, "default", "allocator plugin name"},
	{"memory", "mem_proportion", CFG_NUM, "0.7", "share of total memory the solve may use"},
	{"memory", "streams", CFG_INT, "2", "streams the chunks are spread over"},
	{"memory", "chunk_runs", CFG_AUTO_INT, "auto", "runs per chunk; auto: as many as fit"},
	{"memory", "stream_group", CFG_STR, NULL, "solvers naming the same group share its streams"},
	{"device", "backend", CFG_CHOICE, "auto", "auto|cuda|cpu"},
	{"device", "gpu", CFG_GPUS, "0", "CUDA device ordinal, a list of them (0, 2) or all"},
	{"device", "block_size", CFG_AUTO_INT, "auto", "threads per block"},
	{"device", "threads", CFG_AUTO_INT, "auto", "OpenMP threads (cpu backend)"},
	{"plugins", "path", CFG_STR, NULL, "extra plugin directories, comma-separated"},
	{NULL, NULL, 0, NULL, NULL}
};
