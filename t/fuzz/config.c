/* Fuzz harness: a configuration file through the reader, the schema, the
 * model parser and checks, code generation and the run table; what
 * `cubie check` does short of plugins and the compiler. */
#include "config.h"
#include "internal.h"
#include "settings.h"
#include "fuzz.h"

#include <stdlib.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd;
	cubie_config *c = NULL;
	struct model *m = NULL;
	cubie_error e = {0};
	cb_memory_cap = (size_t)64 << 20; /* big tables are refused, not made */
	if (fuzz_file(data, size, path, &fd))
		return 0;
	if (cubie_config_load(path, &c, &e) == 0) {
		free(cubie_config_describe(c));
		if (model_build(c, &m, &e) == 0) {
			int *save = calloc(m->n_states + m->n_obs + 1, sizeof *save);
			for (size_t i = 0; save && i < m->n_states + m->n_obs; i++)
				save[i] = (int)i;
			if (save)
				free(model_source(m, save, m->n_states + m->n_obs, save, m->n_states + m->n_obs));
			free(save);
			struct run_table rt;
			struct settings st;
			if (settings_read(c, &st, &e) == 0) {
				if (runs_build(c, &st, m, &rt, &e) == 0)
					runs_free(&rt);
				settings_free(&st);
			}
			model_free(m);
		}
		cubie_config_free(c);
	}
	close(fd);
	return 0;
}
