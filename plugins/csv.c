/* Writer "csv": one row per run and saved time,
 *   run,<inputs...>,status,reached[,accepted_steps,rejected_steps][,<events...>],t,<variables...>
 * so that each row says which inputs made it and how the run ended (the
 * time it reached; the step counts and the events' arrays, as columns
 * events.NAME[0].. and events.NAME.count.., when the result has them). An
 * input named like a variable column (an initial state) is called NAME_0.
 * Values are printed so that they read back to the same binary value.
 * Streams: rows go out chunk by chunk as the runs finish. Written to a
 * temporary file beside the target and renamed into place. */
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

/* Per-run columns: inputs [n_in][runs] float64, status [runs], steps [2][runs],
 * the events' arrays ([runs] or [count][runs], float). */
#define MAX_EV 64
struct per_run {
	const double *in;
	size_t n_in;
	const int32_t *status, *steps;
	const double *reached;
	int status_col, steps_col, reached_col;
	const cubie_array *ev[MAX_EV];
	size_t n_ev;
};

static double at(const cubie_array *a, size_t i)
{
	return a->dtype == CUBIE_DTYPE_FLOAT32 ? (double)((const float *)a->data)[i]
	                                       : ((const double *)a->data)[i];
}

static int write_header(FILE *f, const cubie_output *out, const struct per_run *pr)
{
	if (fputs("run", f) == EOF)
		return -1;
	for (size_t i = 0; i < pr->n_in; i++) {
		const char *name = out->input_names[i] ? out->input_names[i] : "";
		if (fprintf(f, ",%s%s", name, is_var(out, name) ? "_0" : "") < 0)
			return -1;
	}
	if (fputs(pr->status_col ? ",status" : "", f) == EOF ||
	    fputs(pr->reached_col ? ",reached" : "", f) == EOF ||
	    fputs(pr->steps_col ? ",accepted_steps,rejected_steps" : "", f) == EOF)
		return -1;
	for (size_t e = 0; e < pr->n_ev; e++) {
		const cubie_array *a = pr->ev[e];
		for (size_t k = 0; k < (a->ndim == 2 ? a->shape[0] : 1); k++)
			if ((a->ndim == 2 ? fprintf(f, ",%s[%zu]", a->name, k) : fprintf(f, ",%s", a->name)) < 0)
				return -1;
	}
	if (fputs(",t", f) == EOF)
		return -1;
	for (size_t j = 0; j < out->n_vars; j++)
		if (fprintf(f, ",%s", out->var_names[j] ? out->var_names[j] : "") < 0)
			return -1;
	return fputc('\n', f) == EOF ? -1 : 0;
}

/* The rows of runs first.. (the arrays hold just those runs). */
static int write_rows(FILE *f, const cubie_array *time, const cubie_array *values,
                      const struct per_run *pr, size_t first)
{
	size_t saves = values->shape[0], vars = values->shape[1], runs = values->shape[2];
	const double *t = time->data;
	const double *v64 = values->data;
	const float *v32 = values->data;
	int f32 = values->dtype == CUBIE_DTYPE_FLOAT32;
	/* values is [saves][vars][runs]: a row gathers one column per variable. */
	for (size_t r = 0; r < runs; r++) {
		for (size_t k = 0; k < saves; k++) {
			const double tk = time->ndim == 2 ? t[k * runs + r] : t[k];
			if (time->ndim == 2 && tk != tk)
				break; /* past the end of a shorter run */
			fprintf(f, "%zu", first + r);
			for (size_t i = 0; i < pr->n_in; i++)
				fprintf(f, ",%.17g", pr->in[i * runs + r]);
			if (pr->status_col)
				fprintf(f, ",%d", (int)pr->status[r]);
			if (pr->reached_col)
				fprintf(f, ",%.17g", pr->reached[r]);
			if (pr->steps_col)
				fprintf(f, ",%d,%d", (int)pr->steps[r], (int)pr->steps[runs + r]);
			for (size_t e = 0; e < pr->n_ev; e++) {
				const cubie_array *a = pr->ev[e];
				const int f32 = a->dtype == CUBIE_DTYPE_FLOAT32;
				for (size_t j = 0; j < (a->ndim == 2 ? a->shape[0] : 1); j++)
					fprintf(f, f32 ? ",%.9g" : ",%.17g", at(a, j * runs + r));
			}
			fprintf(f, ",%.17g", tk);
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

/* The optional per-run arrays, when they are well formed for runs; NULL
 * data is allowed for the shapes open receives. */
static void per_run(const cubie_output *out, size_t runs, struct per_run *pr)
{
	const cubie_array *in = find(out, "inputs"), *st = find(out, "status"),
	                  *steps = find(out, "steps"), *at = find(out, "reached");
	*pr = (struct per_run){0};
	if (in && in->dtype == CUBIE_DTYPE_FLOAT64 && in->ndim == 2 && in->shape[1] == runs &&
	    in->shape[0] == out->n_inputs && out->input_names)
		pr->in = in->data, pr->n_in = in->shape[0];
	if (st && st->dtype == CUBIE_DTYPE_INT32 && st->ndim == 1 && st->shape[0] == runs)
		pr->status = st->data, pr->status_col = 1;
	if (at && at->dtype == CUBIE_DTYPE_FLOAT64 && at->ndim == 1 && at->shape[0] == runs)
		pr->reached = at->data, pr->reached_col = 1;
	if (steps && steps->dtype == CUBIE_DTYPE_INT32 && steps->ndim == 2 && steps->shape[0] == 2 &&
	    steps->shape[1] == runs)
		pr->steps = steps->data, pr->steps_col = 1;
	for (size_t i = 0; i < out->n_arrays && pr->n_ev < MAX_EV; i++) {
		const cubie_array *a = &out->arrays[i];
		if (a->name && !strncmp(a->name, "events.", 7) && (a->ndim == 1 || a->ndim == 2) &&
		    a->shape[a->ndim - 1] == runs &&
		    (a->dtype == CUBIE_DTYPE_FLOAT32 || a->dtype == CUBIE_DTYPE_FLOAT64))
			pr->ev[pr->n_ev++] = a;
	}
}

/* time and values, well formed; with data unless shapes_only. */
static int check(const cubie_output *out, int shapes_only, const cubie_array **time,
                 const cubie_array **values)
{
	const cubie_array *t = *time = find(out, "time"), *v = *values = find(out, "values");
	/* time: [saves], or [saves][runs] when each run has its own span */
	return t && v && t->dtype == CUBIE_DTYPE_FLOAT64 && v->ndim == 3 &&
	       (t->ndim == 1 || (t->ndim == 2 && t->shape[1] == v->shape[2])) &&
	       v->shape[0] == t->shape[0] &&
	       (v->dtype == CUBIE_DTYPE_FLOAT64 || v->dtype == CUBIE_DTYPE_FLOAT32) &&
	       v->shape[1] == out->n_vars && (!out->n_vars || out->var_names) &&
	       (shapes_only || !v->shape[0] || !v->shape[2] || (t->data && v->data));
}

struct csv {
	FILE *f;
	int fd;
	char *path, *tmp;
	size_t runs; /* written so far */
};

static void *csv_open(const cubie_host *host, const cubie_output *whole, const char *path,
                      char *errbuf, size_t errlen)
{
	const cubie_array *time, *values;
	struct per_run pr;
	if (!check(whole, 1, &time, &values)) {
		fail(errbuf, errlen, path, "the result lacks a well-formed \"time\" or \"values\" array",
		     EINVAL);
		return NULL;
	}
	struct csv *c = calloc(1, sizeof *c);
	size_t len = strlen(path) + 40;
	if (!c || !(c->tmp = malloc(len)) || !(c->path = strdup(path))) {
		if (c)
			free(c->tmp), free(c);
		fail(errbuf, errlen, path, "cannot write", ENOMEM);
		return NULL;
	}
	/* PATH.tmp-PID-XXXXXX: the core removes those whose process is gone */
	snprintf(c->tmp, len, "%s.tmp-%ld-XXXXXX", path, (long)getpid());
	if ((c->fd = mkstemp(c->tmp)) < 0) {
		fail(errbuf, errlen, path, "cannot create a temporary file beside it", errno);
		free(c->tmp), free(c->path), free(c);
		return NULL;
	}
	/* mkstemp makes it 0600; give it what creat would have. */
	mode_t mask = umask(0);
	umask(mask);
	fchmod(c->fd, 0666 & ~mask);
	if ((c->f = fdopen(c->fd, "w")))
		setvbuf(c->f, NULL, _IOFBF, 1 << 20); /* millions of short rows */
	per_run(whole, values->shape[2], &pr);
	if (!c->f || write_header(c->f, whole, &pr)) {
		fail(errbuf, errlen, path, "cannot write", errno);
		if (c->f)
			fclose(c->f);
		else
			close(c->fd);
		unlink(c->tmp);
		free(c->tmp), free(c->path), free(c);
		return NULL;
	}
	return c;
}

static int csv_write_runs(void *self, const cubie_output *part, size_t first, char *errbuf,
                          size_t errlen)
{
	struct csv *c = self;
	const cubie_array *time, *values;
	struct per_run pr;
	if (!check(part, 0, &time, &values) || first != c->runs)
		return fail(errbuf, errlen, c->path, "a chunk does not match the result", EINVAL);
	per_run(part, values->shape[2], &pr);
	if (write_rows(c->f, time, values, &pr, first))
		return fail(errbuf, errlen, c->path, "cannot write", errno);
	c->runs += values->shape[2];
	return 0;
}

static int csv_close(void *self, int commit, char *errbuf, size_t errlen)
{
	struct csv *c = self;
	int rc = commit ? 0 : -1, err = 0;
	if (rc == 0 && (fflush(c->f) != 0 || fsync(c->fd) != 0))
		rc = -1, err = errno;
	if (fclose(c->f) != 0 && rc == 0)
		rc = -1, err = errno;
	if (rc == 0 && rename(c->tmp, c->path) != 0)
		rc = -1, err = errno;
	if (rc)
		unlink(c->tmp);
	if (rc && commit)
		fail(errbuf, errlen, c->path, "cannot write", err);
	free(c->tmp), free(c->path), free(c);
	return commit ? rc : 0;
}

static int csv_write(const cubie_host *host, const cubie_output *out, const char *path,
                     char *errbuf, size_t errlen)
{
	void *c = csv_open(host, out, path, errbuf, errlen);
	if (!c)
		return -1;
	int rc = csv_write_runs(c, out, 0, errbuf, errlen);
	return csv_close(c, !rc, errbuf, errlen) || rc ? -1 : 0;
}

static const char *const extensions[] = {"csv", NULL};

static const cubie_writer_ops ops = {
	.extensions = extensions,
	.write = csv_write,
	.open = csv_open,
	.write_runs = csv_write_runs,
	.close = csv_close,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_WRITER, "csv", CUBIE_VERSION_STRING,
                    "comma-separated text, one row per run and saved time, with its inputs and status", &ops)
