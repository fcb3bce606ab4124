/* Writer "csv": one row per run and saved time,
 *   run,<inputs...>,status[,accepted_steps,rejected_steps],t,<variables...>
 * so that each row says which inputs made it and how the run ended (the
 * step counts when the result has them). An
 * input named like a variable column (an initial state) is called NAME_0.
 * Values are printed so that they read back to the same binary value.
 * Written to a temporary file beside the target and renamed into place. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cubie/plugin.h>

static int fail(char *errbuf, size_t errlen, const char *path, const char *what, int err)
{
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s: %s: %s", path, what, strerror(err));
	return -1;
}

static const cubie_array *find(const cubie_output *out, const char *name)
{
	for (size_t i = 0; i < out->n_arrays; i++)
		if (out->arrays[i].name && strcmp(out->arrays[i].name, name) == 0)
			return &out->arrays[i];
	return NULL;
}

static int is_var(const cubie_output *out, const char *name)
{
	for (size_t j = 0; j < out->n_vars; j++)
		if (out->var_names[j] && !strcmp(out->var_names[j], name))
			return 1;
	return 0;
}

/* Per-run columns: inputs [n_in][runs] float64, status [runs], steps [2][runs]. */
struct per_run {
	const double *in;
	size_t n_in;
	const int32_t *status, *steps;
};

static int write_rows(FILE *f, const cubie_output *out, const cubie_array *time,
                      const cubie_array *values, const struct per_run *pr)
{
	size_t saves = values->shape[0], vars = values->shape[1], runs = values->shape[2];
	const double *t = time->data;
	const double *v64 = values->data;
	const float *v32 = values->data;
	int f32 = values->dtype == CUBIE_DTYPE_FLOAT32;

	if (fputs("run", f) == EOF)
		return -1;
	for (size_t i = 0; i < pr->n_in; i++) {
		const char *name = out->input_names[i] ? out->input_names[i] : "";
		if (fprintf(f, ",%s%s", name, is_var(out, name) ? "_0" : "") < 0)
			return -1;
	}
	if (fputs(pr->status ? ",status" : "", f) == EOF ||
	    fputs(pr->steps ? ",accepted_steps,rejected_steps" : "", f) == EOF || fputs(",t", f) == EOF)
		return -1;
	for (size_t j = 0; j < vars; j++)
		if (fprintf(f, ",%s", out->var_names[j] ? out->var_names[j] : "") < 0)
			return -1;
	if (fputc('\n', f) == EOF)
		return -1;
	/* values is [saves][vars][runs]: a row gathers one column per variable. */
	for (size_t r = 0; r < runs; r++) {
		for (size_t k = 0; k < saves; k++) {
			fprintf(f, "%zu", r);
			for (size_t i = 0; i < pr->n_in; i++)
				fprintf(f, ",%.17g", pr->in[i * runs + r]);
			if (pr->status)
				fprintf(f, ",%d", (int)pr->status[r]);
			if (pr->steps)
				fprintf(f, ",%d,%d", (int)pr->steps[r], (int)pr->steps[runs + r]);
			fprintf(f, ",%.17g", t[k]);
			for (size_t j = 0; j < vars; j++) {
				size_t at = (k * vars + j) * runs + r;
				if (f32)
					fprintf(f, ",%.9g", (double)v32[at]);
				else
					fprintf(f, ",%.17g", v64[at]);
			}
			if (fputc('\n', f) == EOF)
				return -1;
		}
	}
	return ferror(f) ? -1 : 0;
}

/* The optional per-run arrays, when they are well formed for runs. */
static void per_run(const cubie_output *out, size_t runs, struct per_run *pr)
{
	const cubie_array *in = find(out, "inputs"), *st = find(out, "status"),
	                  *steps = find(out, "steps");
	*pr = (struct per_run){0};
	if (in && in->dtype == CUBIE_DTYPE_FLOAT64 && in->ndim == 2 && in->shape[1] == runs &&
	    in->shape[0] == out->n_inputs && (in->data || !runs) && out->input_names)
		pr->in = in->data, pr->n_in = in->shape[0];
	if (st && st->dtype == CUBIE_DTYPE_INT32 && st->ndim == 1 && st->shape[0] == runs &&
	    (st->data || !runs))
		pr->status = st->data;
	if (steps && steps->dtype == CUBIE_DTYPE_INT32 && steps->ndim == 2 && steps->shape[0] == 2 &&
	    steps->shape[1] == runs && (steps->data || !runs))
		pr->steps = steps->data;
}

static int csv_write(const cubie_host *host, const cubie_output *out, const char *path,
                     char *errbuf, size_t errlen)
{
	const cubie_array *time = find(out, "time"), *values = find(out, "values");
	if (!time || !values || time->dtype != CUBIE_DTYPE_FLOAT64 || time->ndim != 1 ||
	    values->ndim != 3 || values->shape[0] != time->shape[0] ||
	    (values->dtype != CUBIE_DTYPE_FLOAT64 && values->dtype != CUBIE_DTYPE_FLOAT32) ||
	    values->shape[1] != out->n_vars || (out->n_vars && !out->var_names) ||
	    (values->shape[0] && values->shape[2] && (!time->data || !values->data)))
		return fail(errbuf, errlen, path, "the result lacks a well-formed \"time\" or "
		            "\"values\" array", EINVAL);

	size_t len = strlen(path) + 12;
	char *tmp = malloc(len);
	if (!tmp)
		return fail(errbuf, errlen, path, "cannot write", ENOMEM);
	snprintf(tmp, len, "%s.tmp-XXXXXX", path);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		int err = errno;
		free(tmp);
		return fail(errbuf, errlen, path, "cannot create a temporary file beside it", err);
	}
	/* mkstemp makes it 0600; give it what creat would have. */
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);

	FILE *f = fdopen(fd, "w");
	if (f)
		setvbuf(f, NULL, _IOFBF, 1 << 20); /* millions of short rows */
	struct per_run pr;
	per_run(out, values->shape[2], &pr);
	int rc = f ? write_rows(f, out, time, values, &pr) : -1;
	int err = errno;
	if (f && rc == 0 && (fflush(f) != 0 || fsync(fd) != 0))
		rc = -1, err = errno;
	if (f ? fclose(f) != 0 : close(fd) != 0)
		if (rc == 0)
			rc = -1, err = errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1, err = errno;
	if (rc) {
		unlink(tmp);
		fail(errbuf, errlen, path, "cannot write", err);
	}
	free(tmp);
	return rc;
}

static const char *const extensions[] = {"csv", NULL};

static const cubie_writer_ops ops = {
	.extensions = extensions,
	.write = csv_write,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_WRITER, "csv", CUBIE_VERSION_STRING,
                    "comma-separated text, one row per run and saved time, with its inputs and status", &ops)
