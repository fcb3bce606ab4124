/* A writer plugin: "tsv", the final state of every run as tab-separated
 * text, one row per run (run, status, then each saved variable at the last
 * save). It shows the writer contract: the arrays arrive in a cubie_output,
 * the file is written under a temporary name and renamed, and a failure
 * fills errbuf and returns nonzero. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cubie/plugin.h>

static const cubie_array *find(const cubie_output *out, const char *name)
{
	for (size_t i = 0; i < out->n_arrays; i++)
		if (!strcmp(out->arrays[i].name, name))
			return &out->arrays[i];
	return NULL;
}

static int tsv_write(const cubie_host *host, const cubie_output *out, const char *path,
                     char *errbuf, size_t errlen)
{
	const cubie_array *v = find(out, "values"), *st = find(out, "status");
	if (!v || !st || v->ndim != 3 || v->shape[0] == 0) {
		snprintf(errbuf, errlen, "%s: the result has no values", path);
		return -1;
	}
	size_t saves = v->shape[0], vars = v->shape[1], runs = v->shape[2];
	size_t len = strlen(path) + 5;
	char *tmp = malloc(len);
	FILE *f = tmp ? (snprintf(tmp, len, "%s.tmp", path), fopen(tmp, "w")) : NULL;
	if (!f) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(tmp ? errno : ENOMEM));
		free(tmp);
		return -1;
	}
	fprintf(f, "run\tstatus");
	for (size_t j = 0; j < vars; j++)
		fprintf(f, "\t%s", out->var_names[j]);
	fputc('\n', f);
	for (size_t r = 0; r < runs; r++) {
		fprintf(f, "%zu\t%d", r, (int)((const int32_t *)st->data)[r]);
		for (size_t j = 0; j < vars; j++) {
			size_t at = ((saves - 1) * vars + j) * runs + r; /* [saves][vars][runs] */
			double x = v->dtype == CUBIE_DTYPE_FLOAT32 ? ((const float *)v->data)[at]
			                                           : ((const double *)v->data)[at];
			fprintf(f, "\t%.17g", x);
		}
		fputc('\n', f);
	}
	int rc = ferror(f) | fclose(f);
	if (rc || rename(tmp, path)) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		rc = -1;
	}
	free(tmp);
	return rc;
}

static const char *const extensions[] = {"tsv", NULL};

static const cubie_writer_ops ops = {
	.extensions = extensions,
	.write = tsv_write,
};

/* The plugin's name is its file name: installed as writer/tsv.so, and
 * chosen by an output path ending in .tsv (or [output] format = tsv). */
CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_WRITER, "tsv", "1.0",
                    "final states as tab-separated text (template)", &ops)
