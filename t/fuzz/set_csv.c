/* Fuzz harness: the first line is a `-s SECTION.KEY=VALUE` argument, the
 * rest a `[runs] file` CSV, both over a fixed model. */
#include "config.h"
#include "internal.h"
#include "settings.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char model[] =
	"[model]\nstates = x, y\nparameters = k\n[equations]\ndx = -k * x\ndy = x - y\n"
	"[initial]\nx = 1\n[parameters]\nk = 2\n[runs]\nfile = %s\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t alen = nl ? (size_t)(nl - data) : size;
	char *arg = malloc(alen + 1), csv[64], ini[64], text[sizeof model + 64];
	int cfd, ifd;
	if (!arg)
		return 0;
	memcpy(arg, data, alen);
	arg[alen] = 0;
	cb_memory_cap = (size_t)64 << 20;
	if (fuzz_file(nl ? nl + 1 : data + size, nl ? size - alen - 1 : 0, csv, &cfd) == 0) {
		snprintf(text, sizeof text, model, csv);
		if (fuzz_file((const uint8_t *)text, strlen(text), ini, &ifd) == 0) {
			cubie_config *c = NULL;
			struct model *m = NULL;
			cubie_error e = {0};
			if (cubie_config_load(ini, &c, &e) == 0) {
				if (cubie_config_set(c, arg, &e) == 0 && model_build(c, &m, &e) == 0) {
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
			close(ifd);
		}
		close(cfd);
	}
	free(arg);
	return 0;
}
