/* Every key the core accepts, with its type and default: the one table
 * that validation, defaults, `cubie check` and cubie.ini(5) follow. */
#include "config.h"
#include "schema.h"

#include <stddef.h>

/* Sections whose keys are the user's names, in file order. */
const char *const cfg_free_sections[] = {"constants", "equations", "initial", "parameters", NULL};

const struct cfg_key cfg_schema[] = {
	{"model", "name", CFG_STR, "model", "name of the model, used in messages"},
	{"model", "states", CFG_NAMES, NULL, "state variables, in integration order"},
	{"model", "parameters", CFG_NAMES, "", "per-run parameters"},
	{"model", "observables", CFG_NAMES, "", "derived outputs defined in [equations]"},
	{"runs", "combine", CFG_CHOICE, "grid", "grid|zip"},
	{"solve", "integrator", CFG_STR, "rk4", "integrator plugin name or alias"},
	{"solve", "t0", CFG_NUM, "0", "start time"},
	{"solve", "duration", CFG_NUM, "1", "length of the integration"},
	{"solve", "dt", CFG_NUM, "0.001", "step size"},
	{"solve", "precision", CFG_CHOICE, "float64", "float32|float64"},
	{"output", "file", CFG_STR, NULL, "output path; the writer follows its extension"},
	{"output", "format", CFG_STR, NULL, "writer plugin name, overriding the extension"},
	{"output", "save_every", CFG_NUM, "0", "interval between saves; 0: initial and final only"},
	{"output", "save", CFG_NAMES, NULL, "states and observables to save; default all states"},
	{"memory", "allocator", CFG_STR, "default", "allocator plugin name"},
	{"memory", "mem_proportion", CFG_NUM, "0.7", "share of total memory the solve may use"},
	{"device", "backend", CFG_CHOICE, "auto", "auto|cuda|cpu"},
	{"device", "gpu", CFG_INT, "0", "CUDA device ordinal"},
	{"device", "block_size", CFG_AUTO_INT, "auto", "threads per block"},
	{"device", "threads", CFG_AUTO_INT, "auto", "OpenMP threads (cpu backend)"},
	{"plugins", "path", CFG_STR, NULL, "extra plugin directories, comma-separated"},
	{NULL, NULL, 0, NULL, NULL}
};
