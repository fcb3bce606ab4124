/* Writer "npydir" (also chosen by a .npy path): the output path is a directory with one NumPy .npy file per
 * result array (format 1.0, readable by numpy.load as is) plus
 * variables.txt and inputs.txt naming the variable axes. The directory is
 * built under a temporary name beside the target and renamed into place. */
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

/* Is name one of the files this writer puts in its directories? */
static int ours(const char *name)
{
	size_t n = strlen(name);
	return strcmp(name, "variables.txt") == 0 || strcmp(name, "inputs.txt") == 0 ||
	       (n > 4 && strcmp(name + n - 4, ".npy") == 0);
}

/* Remove a directory of plain files this writer made. With check set,
 * remove nothing and fail (ENOTEMPTY) when it holds anything else. */
static int remove_tree(const char *dir, int check)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (check) {
			if (!ours(e->d_name))
				rc = -1, errno = ENOTEMPTY;
			continue;
		}
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		char *p = malloc(len);
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
	size_t len = plen + 16;
	char *tmp = malloc(len), *old = malloc(len);
	if (!tmp || !old || !plen) {
		free(tmp);
		free(old);
		return fail(errbuf, errlen, path, "cannot write", plen ? ENOMEM : ENOENT);
	}
	snprintf(tmp, len, "%.*s.tmp-XXXXXX", (int)plen, path);
	snprintf(old, len, "%.*s.old-XXXXXX", (int)plen, path);
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
	    (out->n_metrics && put(tmp, "summaries.txt", put_names, &metrics) != 0)) {
		rc = fail(errbuf, errlen, path, "cannot write the name lists", errno);
		goto cleanup;
	}

	if (rename(tmp, path) == 0)
		goto out;
	if (errno != EEXIST && errno != ENOTEMPTY && errno != EISDIR && errno != ENOTDIR) {
		rc = fail(errbuf, errlen, path, "cannot rename the temporary directory", errno);
		goto cleanup;
	}
	/* An earlier output is in the way: replace it, but only one that holds
	 * nothing but our files, so that a mistyped path loses no user data. */
	struct stat st;
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		rc = fail(errbuf, errlen, path, "exists and is not an npy output directory; "
		          "remove it or choose another output path", EEXIST);
		goto cleanup;
	}
	if (remove_tree(path, 1) != 0) {
		rc = fail(errbuf, errlen, path, "exists and holds files not written by cubie; "
		          "remove it or choose another output path", errno);
		goto cleanup;
	}
	if (!mkdtemp(old) || rename(path, old) != 0) {
		rc = fail(errbuf, errlen, path, "cannot move the earlier output aside", errno);
		rmdir(old);
		goto cleanup;
	}
	if (rename(tmp, path) != 0) {
		int err = errno;
		rename(old, path); /* put the earlier output back */
		rc = fail(errbuf, errlen, path, "cannot rename the temporary directory", err);
		goto cleanup;
	}
	remove_tree(old, 0);
	goto out;

cleanup:
	remove_tree(tmp, 0);
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
