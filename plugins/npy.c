/* Writer "npydir" (also chosen by a .npy path): the output path is a directory with one NumPy .npy file per
 * result array (format 1.0, readable by numpy.load as is) plus
 * variables.txt and inputs.txt naming the variable axes. The directory is
 * built under a temporary name beside the target and renamed into place.
 * Its file MARKER lists what the writer put there: an existing directory
 * is replaced only when its marker proves that it holds nothing else. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cubie/plugin.h>
#include "npy_format.h"

static int fail(char *errbuf, size_t errlen, const char *path, const char *what, int err)
{
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s: %s: %s", path, what, strerror(err));
	return -1;
}

#define dtype_size npy_dtype_size

static int write_npy(FILE *f, const cubie_array *a)
{
	size_t count = 1;
	for (int i = 0; i < a->ndim; i++)
		count *= a->shape[i];
	if (count && !a->data) {
		errno = EINVAL;
		return -1;
	}
	char head[256];
	size_t total = npy_header(head, sizeof head, npy_descr(a->dtype), a->ndim, a->shape);
	if (!total) {
		errno = EOVERFLOW;
		return -1;
	}
	if (fwrite(head, 1, total, f) != total)
		return -1;
	if (count && fwrite(a->data, dtype_size(a->dtype), count, f) != count)
		return -1;
	return 0;
}

static int write_names(FILE *f, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fprintf(f, "%s\n", names && names[i] ? names[i] : "") < 0)
			return -1;
	return 0;
}

/* Write one file dir/name through fn; 0 or -1 with errno set. */
static int put(const char *dir, const char *name, int (*fn)(FILE *, const void *),
               const void *arg)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *p = malloc(len);
	if (!p)
		return -1;
	snprintf(p, len, "%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	free(p);
	if (!f)
		return -1;
	int rc = fn(f, arg);
	int err = errno;
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = -1, err = errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -1, err = errno;
	errno = err;
	return rc;
}

static int put_array(FILE *f, const void *arg) { return write_npy(f, arg); }

struct names { const char *const *v; size_t n; };
static int put_names(FILE *f, const void *arg)
{
	const struct names *n = arg;
	return write_names(f, n->v, n->n);
}

#define MARKER ".cubie-npy"

/* The names the marker lists, one a line, after its first line. */
static int put_marker(FILE *f, const void *arg)
{
	const cubie_output *out = arg;
	if (fputs("cubie npy output; written with these files:\nvariables.txt\ninputs.txt\n", f) < 0 ||
	    (out->n_metrics && fputs("summaries.txt\n", f) < 0))
		return -1;
	for (size_t i = 0; i < out->n_arrays; i++)
		if (fprintf(f, "%s.npy\n", out->arrays[i].name) < 0)
			return -1;
	return 0;
}

/* The marker's text, when dir has one that this writer wrote. */
static char *read_marker(const char *dir)
{
	size_t len = strlen(dir) + sizeof MARKER + 1;
	char *p = malloc(len), *text = NULL;
	FILE *f = NULL;
	if (p) {
		snprintf(p, len, "%s/%s", dir, MARKER);
		f = fopen(p, "r");
	}
	free(p);
	struct stat st;
	if (f && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size < 65536 &&
	    (text = calloc(1, (size_t)st.st_size + 2)))
		if (fread(text, 1, (size_t)st.st_size, f) != (size_t)st.st_size ||
		    strncmp(text, "cubie npy output", 16))
			text = (free(text), NULL);
	if (f)
		fclose(f);
	return text;
}

/* Is name on a line of the marker text (after its first)? */
static int listed(const char *marker, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strchr(marker, '\n'); p; p = strchr(p + 1, '\n'))
		if (!strncmp(p + 1, name, n) && p[1 + n] == '\n')
			return 1;
	return 0;
}

/* Remove, from a directory this writer made, what the marker lists (all
 * = the marker NULL: everything, for the temporary still being built),
 * then the directory if that leaves it empty. check: remove nothing, and
 * fail (ENOTEMPTY, *extra the first stranger) when it holds anything the
 * marker does not list. */
static int remove_tree(const char *dir, const char *marker, int check, char *extra, size_t xlen)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		int ours = !marker || !strcmp(e->d_name, MARKER) || listed(marker, e->d_name);
		if (check) {
			if (!ours && !rc)
				rc = -1, errno = ENOTEMPTY, snprintf(extra, xlen, "%s", e->d_name);
			continue;
		}
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		char *p = ours ? malloc(len) : NULL;
		if (p) {
			snprintf(p, len, "%s/%s", dir, e->d_name);
			unlink(p);
			free(p);
		}
	}
	closedir(d);
	return check ? rc : rmdir(dir);
}

/* Rename the finished temporary tmp to path. An earlier output in the way
 * is replaced, but only one that this writer provably made and that holds
 * nothing else, so that a mistyped path loses no user data. Refusals are
 * CUBIE_ERR_CONFIG: the path is unusable as given. The caller removes tmp
 * when this fails. */
static int place(const char *tmp, const char *path, char *errbuf, size_t errlen)
{
	if (rename(tmp, path) == 0)
		return 0;
	if (errno != EEXIST && errno != ENOTEMPTY && errno != EISDIR && errno != ENOTDIR)
		return fail(errbuf, errlen, path, "cannot rename the temporary directory", errno);
	struct stat st;
	char *marker = NULL, extra[256] = "";
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fail(errbuf, errlen, path, "exists and is not an npy output directory; "
		     "remove it or choose another output path", EEXIST);
		return CUBIE_ERR_CONFIG;
	}
	if (!(marker = read_marker(path))) {
		fail(errbuf, errlen, path, "exists and was not written by cubie (it has no " MARKER
		     " file); remove it or choose another output path", EEXIST);
		return CUBIE_ERR_CONFIG;
	}
	int rc = 0;
	size_t len = strlen(path) + 40;
	char *old = malloc(len);
	if (remove_tree(path, marker, 1, extra, sizeof extra) != 0) {
		char what[400];
		snprintf(what, sizeof what, "holds '%s', which cubie did not write; remove it or "
		         "choose another output path", extra);
		fail(errbuf, errlen, path, what, ENOTEMPTY);
		rc = CUBIE_ERR_CONFIG;
	} else if (!old) {
		rc = fail(errbuf, errlen, path, "cannot move the earlier output aside", ENOMEM);
	} else if (snprintf(old, len, "%s.old-%ld-XXXXXX", path, (long)getpid()),
	           !mkdtemp(old) || rename(path, old) != 0) {
		rc = fail(errbuf, errlen, path, "cannot move the earlier output aside", errno);
		rmdir(old);
	} else if (rename(tmp, path) != 0) {
		int err = errno;
		rename(old, path); /* put the earlier output back */
		rc = fail(errbuf, errlen, path, "cannot rename the temporary directory", err);
	} else {
		remove_tree(old, marker, 0, NULL, 0);
	}
	free(old);
	free(marker);
	return rc;
}

/* The path without trailing slashes ("out.npy/" names out.npy: the
 * temporary must go beside it, not in it), malloc'd; NULL: none left. */
static char *target(const char *path)
{
	size_t plen = strlen(path);
	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	char *t = plen ? malloc(plen + 1) : NULL;
	if (t)
		memcpy(t, path, plen), t[plen] = 0;
	return t;
}

/* A new temporary directory beside path, TARGET.tmp-PID-XXXXXX (the core
 * removes those whose process is gone), with the mode mkdir would give. */
static int make_tmp(char *tmp, size_t len, const char *path)
{
	snprintf(tmp, len, "%s.tmp-%ld-XXXXXX", path, (long)getpid());
	if (!mkdtemp(tmp))
		return -1;
	mode_t mask = umask(0);
	umask(mask);
	chmod(tmp, 0777 & ~mask);
	return 0;
}

/* The file name of an array, NAME.npy, malloc'd; NULL: not a usable array. */
static char *array_file(const cubie_array *a)
{
	size_t nlen = a->name ? strlen(a->name) + 5 : 0;
	char *file = nlen > 5 && !strchr(a->name, '/') ? malloc(nlen) : NULL;
	if (file && (!dtype_size(a->dtype) || a->ndim < 0 || a->ndim > 3))
		file = (free(file), NULL);
	if (file)
		snprintf(file, nlen, "%s.npy", a->name);
	return file;
}

/* The name lists and the marker, beside the arrays. */
static int put_lists(const char *dir, const cubie_output *out)
{
	struct names vars = {out->var_names, out->n_vars};
	struct names inputs = {out->input_names, out->n_inputs};
	struct names metrics = {out->metric_names, out->n_metrics};
	return put(dir, "variables.txt", put_names, &vars) != 0 ||
	       put(dir, "inputs.txt", put_names, &inputs) != 0 ||
	       (out->n_metrics && put(dir, "summaries.txt", put_names, &metrics) != 0) ||
	       put(dir, MARKER, put_marker, out) != 0 ? -1 : 0;
}

static int npy_write(const cubie_host *host, const cubie_output *out, const char *path,
                     char *errbuf, size_t errlen)
{
	(void)host;
	char *t = target(path), *tmp = t ? malloc(strlen(t) + 40) : NULL;
	int rc = 0;
	if (!tmp) {
		rc = fail(errbuf, errlen, path, "cannot write", t ? ENOMEM : ENOENT);
		goto out;
	}
	if (make_tmp(tmp, strlen(t) + 40, t) != 0) {
		rc = fail(errbuf, errlen, path, "cannot create a temporary directory beside it",
		          errno);
		goto out;
	}
	for (size_t i = 0; i < out->n_arrays && !rc; i++) {
		char *file = array_file(&out->arrays[i]);
		if (!file) {
			rc = fail(errbuf, errlen, path, "cannot write a malformed result array",
			          EINVAL);
		} else if (put(tmp, file, put_array, &out->arrays[i]) != 0) {
			char what[128];
			snprintf(what, sizeof what, "cannot write %s", file);
			rc = fail(errbuf, errlen, path, what, errno);
		}
		free(file);
	}
	if (!rc && put_lists(tmp, out) != 0)
		rc = fail(errbuf, errlen, path, "cannot write the name lists", errno);
	if (!rc)
		rc = place(tmp, t, errbuf, errlen);
	if (rc)
		remove_tree(tmp, NULL, 0, NULL, 0);
out:
	free(tmp);
	free(t);
	return rc;
}

/* ---- join: one output written by several processes, each its runs ----
 * Every .npy file is laid out at its final size, its header first: a run's
 * elements have a fixed place, row r's at data + (r * N + run) * size, so
 * chunks go in by pwrite in any order, from any process. */

struct column {
	int fd;
	int shared; /* "time" [saves] (or no run axis): written whole */
	size_t rows, N, es;
	off_t data; /* where the elements begin */
};

struct joined {
	int layout; /* this handle made the temporary: it commits or removes it */
	char *path, *tmp;
	size_t n;
	struct column *c;
};

static int pwrite_all(int fd, const void *p, size_t n, off_t at)
{
	while (n) {
		ssize_t k = pwrite(fd, p, n, at);
		if (k <= 0)
			return -1;
		p = (const char *)p + k, n -= (size_t)k, at += k;
	}
	return 0;
}

/* Open (layout: create and size) one array's file; 0 or -1 with errno. */
static int open_column(struct joined *w, const cubie_array *a, struct column *c)
{
	char *file = array_file(a), head[256];
	size_t len = strlen(w->tmp) + (file ? strlen(file) : 0) + 2, count = 1;
	char *p = file ? malloc(len) : NULL;
	if (!p) {
		free(file);
		errno = file ? ENOMEM : EINVAL;
		return -1;
	}
	snprintf(p, len, "%s/%s", w->tmp, file);
	free(file);
	for (int d = 0; d < a->ndim; d++)
		count *= a->shape[d];
	c->es = dtype_size(a->dtype);
	c->shared = a->ndim == 0 || (a->ndim == 1 && !strcmp(a->name, "time"));
	c->N = a->ndim ? a->shape[a->ndim - 1] : 1;
	c->rows = c->N ? count / c->N : 0;
	size_t hlen = npy_header(head, sizeof head, npy_descr(a->dtype), a->ndim, a->shape);
	c->data = (off_t)hlen;
	c->fd = open(p, w->layout ? O_RDWR | O_CREAT | O_TRUNC : O_WRONLY, 0666);
	free(p);
	if (c->fd < 0)
		return -1;
	if (!hlen)
		return errno = EOVERFLOW, -1;
	if (w->layout && (pwrite_all(c->fd, head, hlen, 0) != 0 ||
	                  ftruncate(c->fd, (off_t)(hlen + count * c->es)) != 0))
		return -1;
	if (w->layout && c->shared && a->data && pwrite_all(c->fd, a->data, count * c->es, c->data))
		return -1;
	return 0;
}

static int npy_close(void *self, int commit, char *errbuf, size_t errlen);

static void *npy_join(const cubie_host *host, const cubie_output *whole, const char *path,
                      char *tmp, size_t tmplen, char *errbuf, size_t errlen)
{
	(void)host;
	struct joined *w = calloc(1, sizeof *w);
	int err = ENOMEM;
	const char *what = "cannot write";
	if (!w || !(w->path = target(path)) ||
	    !(w->c = calloc(whole->n_arrays ? whole->n_arrays : 1, sizeof *w->c)) ||
	    !(w->tmp = malloc(strlen(w->path) + 40)))
		goto fail;
	for (size_t i = 0; i < whole->n_arrays; i++)
		w->c[i].fd = -1;
	w->layout = !*tmp;
	if (w->layout) {
		what = "cannot create a temporary directory beside it";
		if (make_tmp(w->tmp, strlen(w->path) + 40, w->path) != 0) {
			err = errno;
			free(w->tmp), w->tmp = NULL;
			goto fail;
		}
		if (strlen(w->tmp) >= tmplen) {
			err = ENAMETOOLONG;
			goto fail;
		}
		strcpy(tmp, w->tmp);
		what = "cannot write the name lists";
		if (put_lists(w->tmp, whole) != 0) {
			err = errno;
			goto fail;
		}
	} else {
		free(w->tmp);
		if (!(w->tmp = strdup(tmp)))
			goto fail;
	}
	what = "cannot open the temporary's arrays";
	for (; w->n < whole->n_arrays; w->n++)
		if (open_column(w, &whole->arrays[w->n], &w->c[w->n]) != 0) {
			err = errno;
			w->n++;
			goto fail;
		}
	return w;
fail:
	fail(errbuf, errlen, path, what, err);
	if (w)
		npy_close(w, 0, NULL, 0);
	return NULL;
}

static int npy_write_runs(void *self, const cubie_output *part, size_t first, char *errbuf,
                          size_t errlen)
{
	struct joined *w = self;
	for (size_t i = 0; i < part->n_arrays && i < w->n; i++) {
		const cubie_array *a = &part->arrays[i];
		const struct column *c = &w->c[i];
		if (c->shared) { /* whole in every chunk: the same bytes each time */
			if (a->data && pwrite_all(c->fd, a->data, c->rows * c->N * c->es, c->data))
				return fail(errbuf, errlen, w->path, "cannot write", errno);
			continue;
		}
		size_t n = a->ndim ? a->shape[a->ndim - 1] : 0, es = c->es;
		if (first + n > c->N || !a->data)
			return fail(errbuf, errlen, w->path, "cannot write a malformed chunk", EINVAL);
		for (size_t r = 0; r < c->rows; r++)
			if (pwrite_all(c->fd, (const char *)a->data + r * n * es, n * es,
			               c->data + (off_t)((r * c->N + first) * es)))
				return fail(errbuf, errlen, w->path, "cannot write", errno);
	}
	return 0;
}

/* A joined handle only closes (after fsync: another process renames it);
 * the layout's commits by rename or removes the temporary. */
static int npy_close(void *self, int commit, char *errbuf, size_t errlen)
{
	struct joined *w = self;
	int rc = 0, err = 0;
	int keep = !w->layout || commit;
	for (size_t i = 0; i < w->n; i++) {
		if (w->c[i].fd < 0)
			continue;
		if (keep && !rc && fsync(w->c[i].fd) != 0)
			rc = -1, err = errno;
		if (close(w->c[i].fd) != 0 && !rc)
			rc = -1, err = errno;
	}
	if (rc)
		fail(errbuf, errlen, w->path, "cannot write", err);
	if (w->layout && w->tmp) {
		if (commit && !rc)
			rc = place(w->tmp, w->path, errbuf, errlen);
		if (!commit || rc)
			remove_tree(w->tmp, NULL, 0, NULL, 0);
	}
	free(w->c);
	free(w->tmp);
	free(w->path);
	free(w);
	return rc;
}

static const char *const extensions[] = {"npy", NULL};

static const cubie_writer_ops ops = {
	.extensions = extensions,
	.write = npy_write,
	.summaries = 1,
	.write_runs = npy_write_runs,
	.close = npy_close,
	.join = npy_join,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_WRITER, "npydir", CUBIE_VERSION_STRING,
                    "a directory of NumPy .npy files, one per result array", &ops)
