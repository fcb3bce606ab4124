/* Writer "csv": one row per run and saved time, `run,t,<variables...>`,
 * values printed so that they read back to the same binary value. Written
 * to a temporary file beside the target and renamed into place. */
#define _XOPEN_SOURCE 700
#include <errno.h>
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

static int write_rows(FILE *f, const cubie_output *out, const cubie_array *time,
                      const cubie_array *values)
{
	size_t saves = values->shape[0], vars = values->shape[1], runs = values->shape[2];
	const double *t = time->data;
	const double *v64 = values->data;
	const float *v32 = values->data;
	int f32 = values->dtype == CUBIE_DTYPE_FLOAT32;

	if (fputs("run,t", f) == EOF)
		return -1;
	for (size_t j = 0; j < vars; j++)
		if (fprintf(f, ",%s", out->var_names[j] ? out->var_names[j] : "") < 0)
			return -1;
	if (fputc('\n', f) == EOF)
		return -1;
	/* values is [saves][vars][runs]: a row gathers one column per variable. */
	for (size_t r = 0; r < runs; r++) {
		for (size_t k = 0; k < saves; k++) {
			fprintf(f, "%zu,%.17g", r, t[k]);
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

	size_t len = strlen(path) + 40;
	char *tmp = malloc(len);
	if (!tmp)
		return fail(errbuf, errlen, path, "cannot write", ENOMEM);
	/* TARGET.tmp-PID-XXXXXX: the core removes those whose process is gone */
	snprintf(tmp, len, "%s.tmp-%ld-XXXXXX", path, (long)getpid());
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
	int rc = f ? write_rows(f, out, time, values) : -1;
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
                    "comma-separated text, one row per run and saved time", &ops)
