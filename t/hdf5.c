/* The hdf5 writer, through the core as `cubie run` uses it: a solve streamed
 * in chunks to an .h5 file is read back with the HDF5 C API and compared,
 * value for value, with the same solve held whole; names, settings and
 * version attributes; compression filters; refusals; nothing left behind.
 * `test-hdf5 --dump FILE` lists a file's contents for t/mpi.sh to compare
 * (where no h5dump is installed). */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "solve.h"

static const char *model =
	"[model]\nstates = x, y, z\nparameters = rho\n[constants]\nsigma = 10\nbeta = 8/3\n"
	"[equations]\ndx = sigma * (y - x)\ndy = x * (rho - z) - y\ndz = x * y - beta * z\n"
	"[initial]\nx = 1\ny = 0\nz = 0\n[parameters]\nrho = linspace(0, 21, 1000)\n"
	"[solve]\nintegrator = rk4\nduration = 0.5\ndt = 0.01\n[output]\nsave_every = 0.1\n"
	"save = x, z, steps\n[device]\nbackend = cpu\n";

static cubie_solver *solver(const char *ini, const char *const *sets, cubie_config **c,
                            cubie_error *e)
{
	char *p = write_tmp("h5", ini);
	cubie_solver *s = NULL;
	int rc = cubie_config_load(p, c, e);
	for (size_t i = 0; !rc && sets && sets[i]; i++)
		rc = cubie_config_set(*c, sets[i], e);
	if (!rc)
		rc = cubie_solver_create(*c, &s, e);
	unlink(p);
	free(p);
	return s;
}

/* A dataset's extent and its data as doubles. */
static double *read_set(hid_t f, const char *name, hsize_t dims[3], int *nd)
{
	hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
	if (d < 0)
		return NULL;
	hid_t sp = H5Dget_space(d);
	*nd = H5Sget_simple_extent_dims(sp, dims, NULL);
	hsize_t n = 1;
	for (int i = 0; i < *nd; i++)
		n *= dims[i];
	double *v = malloc(n * sizeof *v + 1);
	if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
		free(v), v = NULL;
	H5Sclose(sp);
	H5Dclose(d);
	return v;
}

/* Every element of array name equals the file's dataset of that name. */
static int same(hid_t f, const cubie_result *r, const char *name)
{
	const cubie_array *a = cubie_result_find(r, name);
	hsize_t dims[3];
	int nd, good = a != NULL;
	double *v = good ? read_set(f, name, dims, &nd) : NULL;
	good = good && v && nd == a->ndim;
	size_t n = 1;
	for (int i = 0; good && i < nd; i++)
		good = dims[i] == a->shape[i], n *= dims[i];
	for (size_t i = 0; good && i < n; i++) {
		double x = a->dtype == CUBIE_DTYPE_FLOAT64 ? ((const double *)a->data)[i]
		           : a->dtype == CUBIE_DTYPE_FLOAT32 ? ((const float *)a->data)[i]
		                                             : ((const int32_t *)a->data)[i];
		good = x == v[i] || (x != x && v[i] != v[i]);
	}
	free(v);
	return good;
}

static char *string_attr(hid_t obj, const char *name, int index)
{
	hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
	if (a < 0)
		return NULL;
	hid_t t = H5Tcopy(H5T_C_S1), sp = H5Aget_space(a);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	hssize_t n = H5Sget_simple_extent_npoints(sp);
	char **v = calloc((size_t)n + 1, sizeof *v), *out = NULL;
	if (H5Aread(a, t, v) >= 0) {
		if (index < n)
			out = strdup(v[index]);
		H5Dvlen_reclaim(t, sp, H5P_DEFAULT, v);
	}
	free(v);
	H5Sclose(sp);
	H5Tclose(t);
	H5Aclose(a);
	return out;
}

static int filters(hid_t f, const char *name)
{
	hid_t d = H5Dopen2(f, name, H5P_DEFAULT), p = H5Dget_create_plist(d);
	int n = H5Pget_nfilters(p);
	H5Pclose(p);
	H5Dclose(d);
	return n;
}

/* Entries of dir whose name starts with prefix. */
static int leftovers(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d)))
		n += !strncmp(de->d_name, prefix, strlen(prefix));
	if (d)
		closedir(d);
	return n;
}

/* --dump: every object's attributes in name order (strings as they are,
 * other values as a hash), then every dataset's type, shape and a hash of
 * its values, one line each. */
static unsigned long long fnv(const void *p, size_t n)
{
	unsigned long long h = 14695981039346656037ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ ((const unsigned char *)p)[i]) * 1099511628211ULL;
	return h;
}

static herr_t dump_attr(hid_t obj, const char *name, const H5A_info_t *info, void *op)
{
	hid_t a = H5Aopen(obj, name, H5P_DEFAULT), ft = H5Aget_type(a), sp = H5Aget_space(a);
	const hssize_t n = H5Sget_simple_extent_npoints(sp);
	printf("  @%s:", name);
	if (H5Tget_class(ft) == H5T_STRING) {
		char **v = calloc((size_t)n + 1, sizeof *v);
		hid_t t = H5Tcopy(H5T_C_S1);
		H5Tset_size(t, H5T_VARIABLE);
		H5Tset_cset(t, H5T_CSET_UTF8);
		if (v && H5Aread(a, t, v) >= 0) {
			for (hssize_t i = 0; i < n; i++)
				printf(" '%s'", v[i]);
			H5Dvlen_reclaim(t, sp, H5P_DEFAULT, v);
		}
		free(v);
		H5Tclose(t);
	} else {
		hid_t t = H5Tget_native_type(ft, H5T_DIR_ASCEND);
		size_t bytes = (size_t)n * H5Tget_size(t);
		void *v = malloc(bytes ? bytes : 1);
		if (v && H5Aread(a, t, v) >= 0)
			printf(" %lld values, hash %016llx", (long long)n, fnv(v, bytes));
		free(v);
		H5Tclose(t);
	}
	printf("\n");
	H5Sclose(sp);
	H5Tclose(ft);
	H5Aclose(a);
	(void)info, (void)op;
	return 0;
}

static herr_t dump_link(hid_t group, const char *name, const H5L_info_t *info, void *op)
{
	hid_t o = H5Oopen(group, name, H5P_DEFAULT);
	if (o < 0)
		return -1;
	const int is_set = H5Iget_type(o) == H5I_DATASET;
	printf("%s %s\n", is_set ? "dataset" : "group", name);
	H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, NULL, dump_attr, NULL);
	if (is_set) {
		hid_t ft = H5Dget_type(o), t = H5Tget_native_type(ft, H5T_DIR_ASCEND);
		hid_t sp = H5Dget_space(o);
		hsize_t dims[8] = {0};
		const int nd = H5Sget_simple_extent_ndims(sp);
		H5Sget_simple_extent_dims(sp, dims, NULL);
		printf("  class %d, %zu bytes, shape", (int)H5Tget_class(ft), H5Tget_size(t));
		for (int i = 0; i < nd && i < 8; i++)
			printf(" %llu", (unsigned long long)dims[i]);
		size_t bytes = (size_t)H5Sget_simple_extent_npoints(sp) * H5Tget_size(t);
		void *v = malloc(bytes ? bytes : 1);
		if (v && H5Dread(o, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0)
			printf(", hash %016llx", fnv(v, bytes));
		printf("\n");
		free(v);
		H5Sclose(sp);
		H5Tclose(t);
		H5Tclose(ft);
	}
	H5Oclose(o);
	(void)info, (void)op;
	return 0;
}

static int dump(const char *path)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (f < 0)
		return 1;
	printf("group /\n");
	int rc = H5Aiterate2(f, H5_INDEX_NAME, H5_ITER_INC, NULL, dump_attr, NULL) < 0 ||
	         H5Lvisit(f, H5_INDEX_NAME, H5_ITER_INC, dump_link, NULL) < 0;
	H5Fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--dump"))
		return dump(argv[2]);
	cubie_error e = {0};
	cubie_config *c1, *c2;
	char dir[] = "/tmp/cubie-h5-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char *path = cb_printf("%s/out.h5", dir);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

	/* whole, for reference */
	cubie_solver *s = solver(model, NULL, &c1, &e);
	cubie_result *whole = NULL;
	if (!ok(s && cubie_solve(s, &whole, &e) == 0, "reference solve"))
		diag("%s", e.msg);
	cubie_solver_free(s);

	/* streamed in chunks of 128 runs, with compression */
	char out[1100];
	snprintf(out, sizeof out, "output.file=%s", path);
	const char *sets[] = {out, "memory.chunk_runs=128", "output.compression=shuffle,gzip:4", NULL};
	s = solver(model, sets, &c2, &e);
	char *plan = s ? cubie_solver_describe(s) : NULL;
	like(plan, "the result streams to the writer", "cubie check: the output streams");
	free(plan);
	cubie_result *sum = NULL;
	if (!ok(s && cubie_solve_write(s, NULL, &sum, &e) == 0, "solve streamed to hdf5"))
		diag("%s", e.msg);
	cubie_stats st;
	if (s)
		cubie_solver_stats(s, &st);
	ok(s && st.chunks == 8, "... in 8 chunks (%zu)", s ? st.chunks : 0);
	ok(sum && !cubie_result_find(sum, "values") && cubie_result_find(sum, "status"),
	   "the summary of a streamed solve has status, no values");
	ok(sum && whole && cubie_result_failed(sum) == cubie_result_failed(whole),
	   "... and the same failed count");
	cubie_result_free(sum);
	cubie_solver_free(s);

	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (!ok(f >= 0, "the file opens with the HDF5 C API")) {
		done_testing();
		return tap_exit();
	}
	const char *names[] = {"values", "time", "status", "inputs", "steps"};
	for (int i = 0; i < 5; i++)
		ok(whole && same(f, whole, names[i]), "dataset %s equals the whole solve's", names[i]);
	hid_t v = H5Dopen2(f, "values", H5P_DEFAULT), in = H5Dopen2(f, "inputs", H5P_DEFAULT);
	char *a = string_attr(v, "variables", 1), *b = string_attr(in, "inputs", 3);
	ok(a && !strcmp(a, "z"), "values: attribute variables names the saved variables");
	ok(b && !strcmp(b, "rho"), "inputs: attribute inputs names the inputs");
	free(a), free(b);
	H5Dclose(v), H5Dclose(in);
	a = string_attr(f, "cubie_version", 0), b = string_attr(f, "settings", 0);
	ok(a && !strcmp(a, CUBIE_VERSION_STRING), "root: cubie_version");
	like(b, "[solve] integrator = rk4", "root: settings hold the resolved configuration");
	free(a), free(b);
	is_int(filters(f, "values"), 2, "compression: shuffle and gzip on values");
	H5Fclose(f);
	ok(leftovers(dir, "out.h5.tmp") == 0, "no temporary file left");

	/* refusals leave nothing behind */
	cubie_config *c3;
	snprintf(out, sizeof out, "output.file=%s/out.csv", dir);
	const char *csv[] = {out, "output.compression=gzip", NULL};
	ok(!solver(model, csv, &c3, &e) && e.code == CUBIE_ERR_CONFIG &&
	   strstr(e.msg, "command line: [output] compression: writer csv does not compress"),
	   "compression with a writer that cannot compress: a configuration error");
	cubie_config_free(c3);
	char *bad = cb_printf("output.file=%s/none/out.h5", dir);
	const char *missing[] = {bad, NULL};
	s = solver(model, missing, &c3, &e);
	ok(!s && e.code == CUBIE_ERR_CONFIG && strstr(e.msg, "cannot create"),
	   "a missing directory is refused before solving");
	cubie_config_free(c3);
	free(bad);

	cubie_result_free(whole);
	cubie_config_free(c1);
	cubie_config_free(c2);

	/* per-run time spans: "time" [saves][runs] streamed by runs too (to
	 * another file: the library may still hold the first one open) */
	char *path2 = cb_printf("%s/spans.h5", dir), out2[1100];
	snprintf(out2, sizeof out2, "output.file=%s", path2);
	const char *spans[] = {"solve.duration=0.2, 0.5", "solve.t0=0, 1", NULL};
	s = solver(model, spans, &c1, &e);
	whole = NULL;
	if (!ok(s && cubie_solve(s, &whole, &e) == 0, "per-run spans: reference solve"))
		diag("%s", e.msg);
	cubie_solver_free(s);
	const char *spans_out[] = {"solve.duration=0.2, 0.5", "solve.t0=0, 1", out2,
	                           "memory.chunk_runs=300", NULL};
	s = solver(model, spans_out, &c2, &e);
	if (!ok(s && cubie_solve_write(s, NULL, NULL, &e) == 0, "per-run spans streamed to hdf5"))
		diag("%s", e.msg);
	cubie_solver_free(s);
	f = H5Fopen(path2, H5F_ACC_RDONLY, H5P_DEFAULT);
	ok(f >= 0 && whole && same(f, whole, "time"), "time [saves][runs] as held whole");
	ok(f >= 0 && whole && same(f, whole, "values") && same(f, whole, "inputs"),
	   "values and inputs as held whole");
	if (f >= 0)
		H5Fclose(f);
	cubie_result_free(whole);
	cubie_config_free(c1);
	cubie_config_free(c2);
	unlink(path2);
	free(path2);
	unlink(path);
	rmdir(dir);
	free(path);
	done_testing();
	return tap_exit();
}
