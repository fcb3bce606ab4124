/* Writer "npydir" (also chosen by a .npy path): the output path is a directory with one NumPy .npy file per
 * result array (format 1.0, readable by numpy.load as is) plus
 * variables.txt and inputs.txt naming the variable axes. The directory is
 * built under a temporary name beside the target and renamed into place.
 * Its file MARKER lists what the writer put there: an existing directory
 * is replaced only when its marker proves that it holds nothing else. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <errno.h>
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

static int npy_write(const cubie_host *host, const cubie_output *out, const char *path,
                     char *errbuf, size_t errlen)
{
	/* "out.npy/" names out.npy: the temporary must go beside it, not in it. */
	size_t plen = strlen(path);
	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	size_t len = plen + 40;
	char *tmp = malloc(len), *old = malloc(len);
	if (!tmp || !old || !plen) {
		free(tmp);
		free(old);
		return fail(errbuf, errlen, path, "cannot write", plen ? ENOMEM : ENOENT);
	}
	/* TARGET.tmp-PID-XXXXXX: the core removes those whose process is gone */
	snprintf(tmp, len, "%.*s.tmp-%ld-XXXXXX", (int)plen, path, (long)getpid());
	snprintf(old, len, "%.*s.old-%ld-XXXXXX", (int)plen, path, (long)getpid());
	int rc = 0;
	if (!mkdtemp(tmp)) {
		rc = fail(errbuf, errlen, path, "cannot create a temporary directory beside it",
		          errno);
		goto out;
	}
	/* mkdtemp makes it 0700; give it what mkdir would have. */
	mode_t mask = umask(0);
	umask(mask);
	chmod(tmp, 0777 & ~mask);

	for (size_t i = 0; i < out->n_arrays; i++) {
		const cubie_array *a = &out->arrays[i];
		size_t nlen = a->name ? strlen(a->name) + 5 : 0;
		char *file = nlen > 5 && !strchr(a->name, '/') ? malloc(nlen) : NULL;
		if (!file || !dtype_size(a->dtype) || a->ndim < 0 || a->ndim > 3) {
			free(file);
			rc = fail(errbuf, errlen, path, "cannot write a malformed result array",
			          EINVAL);
			goto cleanup;
		}
		snprintf(file, nlen, "%s.npy", a->name);
		if (put(tmp, file, put_array, a) != 0) {
			char what[128];
			snprintf(what, sizeof what, "cannot write %s", file);
			rc = fail(errbuf, errlen, path, what, errno);
			free(file);
			goto cleanup;
		}
		free(file);
	}
	struct names vars = {out->var_names, out->n_vars};
	struct names inputs = {out->input_names, out->n_inputs};
	struct names metrics = {out->metric_names, out->n_metrics};
	if (put(tmp, "variables.txt", put_names, &vars) != 0 ||
	    put(tmp, "inputs.txt", put_names, &inputs) != 0 ||
	    (out->n_metrics && put(tmp, "summaries.txt", put_names, &metrics) != 0) ||
	    put(tmp, MARKER, put_marker, out) != 0) {
		rc = fail(errbuf, errlen, path, "cannot write the name lists", errno);
		goto cleanup;
	}

	if (rename(tmp, path) == 0)
		goto out;
	if (errno != EEXIST && errno != ENOTEMPTY && errno != EISDIR && errno != ENOTDIR) {
		rc = fail(errbuf, errlen, path, "cannot rename the temporary directory", errno);
		goto cleanup;
	}
	/* An earlier output is in the way: replace it, but only one that this
	 * writer provably made and that holds nothing else, so that a mistyped
	 * path loses no user data. Refusals are CUBIE_ERR_CONFIG: the path is
	 * unusable as given. */
	struct stat st;
	char *marker = NULL, extra[256] = "";
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fail(errbuf, errlen, path, "exists and is not an npy output directory; "
		     "remove it or choose another output path", EEXIST);
		rc = CUBIE_ERR_CONFIG;
		goto cleanup;
	}
	if (!(marker = read_marker(path))) {
		fail(errbuf, errlen, path, "exists and was not written by cubie (it has no " MARKER
		     " file); remove it or choose another output path", EEXIST);
		rc = CUBIE_ERR_CONFIG;
		goto cleanup;
	}
	if (remove_tree(path, marker, 1, extra, sizeof extra) != 0) {
		char what[400];
		snprintf(what, sizeof what, "holds '%s', which cubie did not write; remove it or "
		         "choose another output path", extra);
		fail(errbuf, errlen, path, what, ENOTEMPTY);
		rc = CUBIE_ERR_CONFIG;
		free(marker);
		goto cleanup;
	}
	if (!mkdtemp(old) || rename(path, old) != 0) {
		rc = fail(errbuf, errlen, path, "cannot move the earlier output aside", errno);
		rmdir(old);
		free(marker);
		goto cleanup;
	}
	if (rename(tmp, path) != 0) {
		int err = errno;
		rename(old, path); /* put the earlier output back */
		rc = fail(errbuf, errlen, path, "cannot rename the temporary directory", err);
		free(marker);
		goto cleanup;
	}
	remove_tree(old, marker, 0, NULL, 0);
	free(marker);
	goto out;

cleanup:
	remove_tree(tmp, NULL, 0, NULL, 0);
out:
	free(tmp);
	free(old);
	return rc;
}

static const char *const extensions[] = {"npy", NULL};

static const cubie_writer_ops ops = {
	.extensions = extensions,
	.write = npy_write,
	.summaries = 1,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_WRITER, "npydir", CUBIE_VERSION_STRING,
                    "a directory of NumPy .npy files, one per result array", &ops)
