/* Writer "hdf5": one HDF5 file with a dataset per result array ("values",
 * "time", "status", "inputs", "steps" when kept), chunked along runs so that
 * the result streams in chunk by chunk; the names along the variable axes
 * as attributes ("variables" on values, "inputs" on inputs), the resolved
 * configuration and cubie's version as attributes of the root. Readable by
 * h5py and h5dump as is. [output] compression: "gzip", "gzip:LEVEL",
 * "shuffle,gzip[:LEVEL]" or "none". The file is written under a unique
 * temporary name beside the target and renamed into place on success. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <hdf5.h>
#include <cubie/plugin.h>

#define CHUNK_BYTES ((size_t)8 << 20) /* HDF5 chunks of a few MiB: fewer, larger writes */

struct h5w {
	hid_t file;
	char *path, *tmp;
	size_t n_sets;
	/* time, values, summaries, status, reached, inputs, steps, 4 per event */
	struct { char name[80]; hid_t set, type; int ndim; hsize_t dims[3]; } sets[80];
};

static int fail(char *errbuf, size_t errlen, const char *path, const char *what)
{
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s: %s", path, what);
	return -1;
}

static hid_t mem_type(int dtype)
{
	return dtype == CUBIE_DTYPE_FLOAT64 ? H5T_NATIVE_DOUBLE
	       : dtype == CUBIE_DTYPE_FLOAT32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_INT32;
}

/* A variable-length UTF-8 string attribute: one string, or a list. */
static int put_strings(hid_t obj, const char *name, const char *const *v, size_t n, int scalar)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	hsize_t dim = n;
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	hid_t sp = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
	hid_t a = H5Acreate2(obj, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
	int rc = a < 0 || H5Awrite(a, t, v) < 0 ? -1 : 0;
	if (a >= 0)
		H5Aclose(a);
	H5Sclose(sp);
	H5Tclose(t);
	return rc;
}

/* The filters [output] compression asks for, on a dataset creation list. */
static int set_filters(hid_t dcpl, const char *spec)
{
	if (!spec || !*spec || !strcmp(spec, "none"))
		return 0;
	char buf[64];
	snprintf(buf, sizeof buf, "%s", spec);
	for (char *tok = strtok(buf, ", "); tok; tok = strtok(NULL, ", ")) {
		unsigned level = 6;
		if (!strcmp(tok, "shuffle")) {
			if (H5Pset_shuffle(dcpl) < 0)
				return -1;
			continue;
		}
		if (strncmp(tok, "gzip", 4) || (tok[4] && (tok[4] != ':' ||
		    sscanf(tok + 5, "%u", &level) != 1 || level > 9)))
			return -1;
		if (H5Pset_deflate(dcpl, level) < 0)
			return -1;
	}
	return 0;
}

/* One dataset of the array's whole shape, chunked along its last (run)
 * axis; "time" is written here, whole. */
static int make_set(struct h5w *w, const cubie_array *a, const char *compression)
{
	hsize_t dims[3], chunk[3];
	size_t elem = a->dtype == CUBIE_DTYPE_FLOAT64 ? 8 : 4, per = elem;
	int nd = a->ndim;
	for (int i = 0; i < nd; i++)
		dims[i] = chunk[i] = a->shape[i];
	/* runs along the last axis, then as many rows of the first as fit */
	size_t runs = dims[nd - 1] ? dims[nd - 1] : 1;
	chunk[nd - 1] = runs < 65536 ? runs : 65536;
	for (int i = 1; i < nd; i++)
		per *= chunk[i] ? chunk[i] : 1;
	if (nd > 1) {
		size_t rows = CHUNK_BYTES / per;
		chunk[0] = rows < 1 ? 1 : rows < dims[0] ? rows : dims[0] ? dims[0] : 1;
	}
	for (int i = 0; i < nd; i++)
		if (!chunk[i])
			chunk[i] = 1;
	hid_t sp = H5Screate_simple(nd, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
	int rc = H5Pset_chunk(dcpl, nd, chunk) < 0 || set_filters(dcpl, compression) ? -1 : 0;
	hid_t set = rc ? -1 : H5Dcreate2(w->file, a->name, mem_type(a->dtype), sp, H5P_DEFAULT, dcpl,
	                                 H5P_DEFAULT);
	H5Pclose(dcpl);
	H5Sclose(sp);
	if (set < 0)
		return -1;
	if (!strcmp(a->name, "time") && a->data &&
	    H5Dwrite(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, a->data) < 0) {
		H5Dclose(set);
		return -1;
	}
	size_t k = w->n_sets++;
	snprintf(w->sets[k].name, sizeof w->sets[k].name, "%s", a->name);
	w->sets[k].set = set;
	w->sets[k].type = mem_type(a->dtype);
	w->sets[k].ndim = nd;
	memcpy(w->sets[k].dims, dims, sizeof dims);
	return 0;
}

static void discard(struct h5w *w)
{
	for (size_t i = 0; i < w->n_sets; i++)
		H5Dclose(w->sets[i].set);
	if (w->file >= 0)
		H5Fclose(w->file);
	if (w->tmp)
		unlink(w->tmp);
	free(w->tmp);
	free(w->path);
	free(w);
}

static void *h5_open(const cubie_host *host, const cubie_output *whole, const char *path,
                     char *errbuf, size_t errlen)
{
	struct h5w *w = calloc(1, sizeof *w);
	if (!w) {
		fail(errbuf, errlen, path, "out of memory");
		return NULL;
	}
	w->file = -1;
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* errors come back as messages, not prints */
	w->path = strdup(path);
	w->tmp = malloc(strlen(path) + 40);
	int fd = -1;
	if (w->tmp) {
		/* PATH.tmp-PID-XXXXXX: the core removes those whose process is gone */
		sprintf(w->tmp, "%s.tmp-%ld-XXXXXX", path, (long)getpid());
		fd = mkstemp(w->tmp);
	}
	if (fd < 0) {
		char what[256];
		snprintf(what, sizeof what, "cannot create a temporary file beside it: %s",
		         strerror(errno));
		free(w->tmp);
		w->tmp = NULL;
		discard(w);
		fail(errbuf, errlen, path, what);
		return NULL;
	}
	close(fd);
	w->file = H5Fcreate(w->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	int rc = w->file < 0;
	for (size_t i = 0; !rc && i < whole->n_arrays && i < 80; i++) {
		const cubie_array *a = &whole->arrays[i];
		rc = a->ndim < 1 || a->ndim > 3 || make_set(w, a, whole->compression);
		if (!rc && !strcmp(a->name, "values"))
			rc = put_strings(w->sets[w->n_sets - 1].set, "variables", whole->var_names,
			                 whole->n_vars, 0);
		if (!rc && !strcmp(a->name, "summaries") && whole->n_metrics)
			rc = put_strings(w->sets[w->n_sets - 1].set, "metrics", whole->metric_names,
			                 whole->n_metrics, 0);
		if (!rc && !strcmp(a->name, "inputs") && whole->n_inputs)
			rc = put_strings(w->sets[w->n_sets - 1].set, "inputs", whole->input_names,
			                 whole->n_inputs, 0);
	}
	const char *version = whole->version ? whole->version : CUBIE_VERSION_STRING;
	if (!rc)
		rc = put_strings(w->file, "cubie_version", &version, 1, 1);
	if (!rc && whole->settings)
		rc = put_strings(w->file, "settings", &whole->settings, 1, 1);
	if (rc) {
		discard(w);
		fail(errbuf, errlen, path, whole->compression && *whole->compression
		     ? "cannot create the HDF5 datasets (is [output] compression one of gzip, "
		       "gzip:0-9, shuffle,gzip or none?)"
		     : "cannot create the HDF5 file");
		return NULL;
	}
	return w;
}

/* Runs [first, first + n) of every dataset but a [saves] time, from
 * part's arrays. */
static int h5_write_runs(void *self, const cubie_output *part, size_t first, char *errbuf,
                         size_t errlen)
{
	struct h5w *w = self;
	for (size_t i = 0; i < part->n_arrays; i++) {
		const cubie_array *a = &part->arrays[i];
		size_t k = 0;
		while (k < w->n_sets && strcmp(w->sets[k].name, a->name))
			k++;
		if (k == w->n_sets || (!strcmp(a->name, "time") && a->ndim == 1))
			continue; /* time [saves] was written whole; [saves][runs] goes by runs */
		int nd = w->sets[k].ndim;
		hsize_t start[3] = {0}, count[3];
		for (int d = 0; d < nd; d++)
			count[d] = a->shape[d];
		start[nd - 1] = first;
		if (a->ndim != nd || first + count[nd - 1] > w->sets[k].dims[nd - 1])
			return fail(errbuf, errlen, w->path, "a chunk does not match the result's shape");
		if (!count[nd - 1])
			continue;
		hid_t fs = H5Dget_space(w->sets[k].set), ms = H5Screate_simple(nd, count, NULL);
		int rc = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
		         H5Dwrite(w->sets[k].set, w->sets[k].type, ms, fs, H5P_DEFAULT, a->data) < 0;
		H5Sclose(ms);
		H5Sclose(fs);
		if (rc)
			return fail(errbuf, errlen, w->path, "cannot write to the HDF5 file (disk full?)");
	}
	return 0;
}

static int h5_close(void *self, int commit, char *errbuf, size_t errlen)
{
	struct h5w *w = self;
	int rc = 0;
	for (size_t i = 0; i < w->n_sets; i++)
		rc |= H5Dclose(w->sets[i].set) < 0;
	w->n_sets = 0;
	rc |= H5Fclose(w->file) < 0;
	w->file = -1;
	if (commit && rc)
		fail(errbuf, errlen, w->path, "cannot finish the HDF5 file (disk full?)");
	else if (commit && rename(w->tmp, w->path) != 0)
		rc = fail(errbuf, errlen, w->path, strerror(errno));
	else if (commit)
		free(w->tmp), w->tmp = NULL; /* in place: nothing to remove */
	discard(w);
	return commit && rc ? -1 : 0;
}

static int h5_write(const cubie_host *host, const cubie_output *out, const char *path,
                    char *errbuf, size_t errlen)
{
	void *w = h5_open(host, out, path, errbuf, errlen);
	if (!w)
		return -1;
	int rc = h5_write_runs(w, out, 0, errbuf, errlen);
	return h5_close(w, !rc, errbuf, errlen) || rc ? -1 : 0;
}

static const char *const extensions[] = {"h5", "hdf5", NULL};

static const cubie_writer_ops ops = {
	.extensions = extensions,
	.write = h5_write,
	.open = h5_open,
	.write_runs = h5_write_runs,
	.close = h5_close,
	.compresses = 1,
	.summaries = 1,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_WRITER, "hdf5", CUBIE_VERSION_STRING,
                    "one HDF5 file, a dataset per result array, streamed by chunks of runs", &ops)
