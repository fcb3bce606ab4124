/* The npy and csv writer plugins, called as the core calls them, on a
 * result built by hand; their files are parsed back here byte by byte. */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE /* tap.h uses mkstemps */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "tap.h"

enum { SAVES = 3, VARS = 2, RUNS = 4, INPUTS = 2 };

static char root[1024];
static const char *const var_names[] = {"x", "y"};
static const char *const input_names[] = {"x0", "rho"};
static double t_data[SAVES] = {0, 0.1, 1.0 / 3};
static double v64[SAVES][VARS][RUNS];
static float v32[SAVES][VARS][RUNS];
static int32_t status_data[RUNS] = {0, 0, 4, 0};
static double in_data[INPUTS][RUNS];
static cubie_array arrays[4];
static cubie_output out;

static void quiet(void *ctx, int level, const char *msg) {}
static const cubie_host host = {.log = quiet};

static const char *at(const char *rel)
{
	static char buf[8][1200];
	static int i;
	char *b = buf[i++ % 8];
	snprintf(b, sizeof buf[0], "%s/%s", root, rel);
	return b;
}

static void build(int dtype)
{
	for (int k = 0; k < SAVES; k++)
		for (int j = 0; j < VARS; j++)
			for (int r = 0; r < RUNS; r++) {
				/* not exactly representable: exercises round-tripping */
				v64[k][j][r] = (k + 1) / 7.0 + j * 10 + r * 1e-3;
				v32[k][j][r] = (float)v64[k][j][r];
			}
	for (int i = 0; i < INPUTS; i++)
		for (int r = 0; r < RUNS; r++)
			in_data[i][r] = i * 100 + r / 3.0;
	arrays[0] = (cubie_array){"time", CUBIE_DTYPE_FLOAT64, 1, {SAVES}, t_data};
	arrays[1] = (cubie_array){"values", dtype, 3, {SAVES, VARS, RUNS},
	                          dtype == CUBIE_DTYPE_FLOAT32 ? (void *)v32 : (void *)v64};
	arrays[2] = (cubie_array){"status", CUBIE_DTYPE_INT32, 1, {RUNS}, status_data};
	arrays[3] = (cubie_array){"inputs", CUBIE_DTYPE_FLOAT64, 2, {INPUTS, RUNS}, in_data};
	out = (cubie_output){4, arrays, VARS, var_names, INPUTS, input_names};
}

/* An array as a plain pointer, for like(), which also tests for NULL. */
static const char *text(const char *s) { return s; }

/* Entries of root whose name holds a writer's temporary marker. */
static int leftovers(void)
{
	DIR *d = opendir(root);
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)))
		if (strstr(e->d_name, ".tmp-") || strstr(e->d_name, ".old-")) {
			diag("left behind: %s", e->d_name);
			n++;
		}
	if (d)
		closedir(d);
	return n;
}

/* One .npy file: magic, version 1.0, the exact header dict, 64-byte
 * alignment, then the data bytes as they are in memory. */
static void check_npy(const char *dir, const cubie_array *a, const char *descr,
                      const char *shape, size_t bytes)
{
	char path[1300], want[256];
	snprintf(path, sizeof path, "%s/%s.npy", dir, a->name);
	size_t len;
	char *s = slurp(path, &len);
	if (!ok(s != NULL, "%s.npy exists", a->name)) {
		for (int i = 0; i < 4; i++)
			skip("no file");
		return;
	}
	ok(len > 10 && !memcmp(s, "\x93NUMPY\x01\x00", 8), "%s.npy: magic, version 1.0", a->name);
	size_t hl = (unsigned char)s[8] | (size_t)(unsigned char)s[9] << 8;
	ok(len >= 10 + hl && (10 + hl) % 64 == 0 && s[10 + hl - 1] == '\n',
	   "%s.npy: header padded to 64 bytes, ends in a newline", a->name);
	snprintf(want, sizeof want, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
	         descr, shape);
	size_t wl = strlen(want);
	int header_ok = len >= 10 + hl && hl >= wl + 1 && !memcmp(s + 10, want, wl);
	for (size_t i = 10 + wl; header_ok && i < 10 + hl - 1; i++)
		header_ok = s[i] == ' ';
	if (!ok(header_ok, "%s.npy: header %s", a->name, want))
		diag("got: %.*s", (int)(len > 10 ? (hl < len - 10 ? hl : len - 10) : 0), s + 10);
	ok(len == 10 + hl + bytes && !memcmp(s + 10 + hl, a->data, bytes),
	   "%s.npy: %zu data bytes", a->name, bytes);
	free(s);
}

static void test_npy(const struct plugin *w, int dtype)
{
	const cubie_writer_ops *ops = w->desc->ops;
	int f32 = dtype == CUBIE_DTYPE_FLOAT32;
	const char *dir = at(f32 ? "out32.npy" : "out.npy");
	char errbuf[512] = "";
	build(dtype);
	int rc = ops->write(&host, &out, dir, errbuf, sizeof errbuf);
	if (!is_int(rc, 0, "npy (%s): written", f32 ? "float32" : "float64"))
		diag("%s", errbuf);
	check_npy(dir, &arrays[0], "<f8", "(3,)", sizeof t_data);
	check_npy(dir, &arrays[1], f32 ? "<f4" : "<f8", "(3, 2, 4)",
	          f32 ? sizeof v32 : sizeof v64);
	check_npy(dir, &arrays[2], "<i4", "(4,)", sizeof status_data);
	check_npy(dir, &arrays[3], "<f8", "(2, 4)", sizeof in_data);
	char path[1300];
	snprintf(path, sizeof path, "%s/variables.txt", dir);
	char *s = slurp(path, NULL);
	ok(s && !strcmp(s, "x\ny\n"), "npy: variables.txt");
	free(s);
	snprintf(path, sizeof path, "%s/inputs.txt", dir);
	s = slurp(path, NULL);
	ok(s && !strcmp(s, "x0\nrho\n"), "npy: inputs.txt");
	free(s);
	is_int(leftovers(), 0, "npy: no temporary directory left");
}

static void test_npy_failures(const struct plugin *w)
{
	const cubie_writer_ops *ops = w->desc->ops;
	char errbuf[512];
	build(CUBIE_DTYPE_FLOAT64);

	/* Writing again replaces the earlier output. */
	t_data[2] = 2.5;
	is_int(ops->write(&host, &out, at("out.npy"), errbuf, sizeof errbuf), 0,
	       "npy: an earlier output is replaced");
	char path[1300];
	snprintf(path, sizeof path, "%s/time.npy", at("out.npy"));
	size_t len;
	char *s = slurp(path, &len);
	ok(s && len == 128 + sizeof t_data && !memcmp(s + 128, t_data, sizeof t_data),
	   "npy: the replacement holds the new data");
	free(s);
	t_data[2] = 1.0 / 3;
	is_int(leftovers(), 0, "npy: nothing left of the earlier output");

	/* A directory holding anything else is not ours to replace. */
	mkdir(at("mine"), 0777);
	FILE *f = fopen(at("mine/notes.txt"), "w");
	if (f)
		fclose(f);
	errbuf[0] = 0;
	ok(ops->write(&host, &out, at("mine"), errbuf, sizeof errbuf) != 0,
	   "npy: a directory of other files is not replaced");
	like(text(errbuf), at("mine"), "npy: the message names the path");
	ok(access(at("mine/notes.txt"), F_OK) == 0, "npy: the user's file is still there");
	is_int(leftovers(), 0, "npy: no temporary directory left");

	/* No parent directory. */
	errbuf[0] = 0;
	ok(ops->write(&host, &out, at("nodir/out.npy"), errbuf, sizeof errbuf) != 0,
	   "npy: a missing parent directory fails");
	like(text(errbuf), at("nodir/out.npy"), "npy: the message names the path");
	like(text(errbuf), strerror(ENOENT), "npy: the message says why");
	ok(access(at("nodir"), F_OK) != 0, "npy: nothing created");

	/* A failure half-way removes what was written. */
	arrays[1].data = NULL;
	errbuf[0] = 0;
	ok(ops->write(&host, &out, at("half.npy"), errbuf, sizeof errbuf) != 0,
	   "npy: an array without data fails");
	like(text(errbuf), at("half.npy"), "npy: the message names the path");
	ok(access(at("half.npy"), F_OK) != 0, "npy: no output");
	is_int(leftovers(), 0, "npy: no temporary directory left");
}

/* Rows "r,t,x,y" for every run and save, each value read back exactly. */
/* The same file, byte for byte, in two npy output directories. */
static int same_file(const char *a, const char *b, const char *name)
{
	char pa[1300], pb[1300];
	snprintf(pa, sizeof pa, "%s/%s", a, name);
	snprintf(pb, sizeof pb, "%s/%s", b, name);
	size_t la = 0, lb = 0;
	char *sa = slurp(pa, &la), *sb = slurp(pb, &lb);
	int same = sa && sb && la == lb && !memcmp(sa, sb, la);
	free(sa);
	free(sb);
	return same;
}

/* The runs [first, first + n) of the hand-built result, as a chunk. */
static cubie_output chunk(cubie_array part[4], size_t first, size_t n, double *v, double *in,
                          int32_t *st)
{
	for (int k = 0; k < SAVES; k++)
		for (int j = 0; j < VARS; j++)
			for (size_t r = 0; r < n; r++)
				v[(k * VARS + j) * n + r] = v64[k][j][first + r];
	for (int i = 0; i < INPUTS; i++)
		for (size_t r = 0; r < n; r++)
			in[i * n + r] = in_data[i][first + r];
	memcpy(st, status_data + first, n * sizeof *st);
	part[0] = arrays[0];
	part[1] = (cubie_array){"values", CUBIE_DTYPE_FLOAT64, 3, {SAVES, VARS, n}, v};
	part[2] = (cubie_array){"status", CUBIE_DTYPE_INT32, 1, {n}, st};
	part[3] = (cubie_array){"inputs", CUBIE_DTYPE_FLOAT64, 2, {INPUTS, n}, in};
	cubie_output o = out;
	o.arrays = part;
	return o;
}

/* join: a layout and a second handle (another rank's) write the runs out
 * of order; the committed directory is the one write makes, byte for byte. */
static void test_npy_join(const struct plugin *w)
{
	const cubie_writer_ops *ops = w->desc->ops;
	char errbuf[512] = "", tmp[1300] = "";
	build(CUBIE_DTYPE_FLOAT64);
	if (!ok(w->desc->abi_minor >= 3 && ops->join && ops->write_runs && ops->close,
	        "npy: offers join")) {
		skip("no join");
		return;
	}
	is_int(ops->write(&host, &out, at("whole.npy"), errbuf, sizeof errbuf), 0,
	       "npy: written whole");
	cubie_output whole = out;
	cubie_array shapes[4];
	memcpy(shapes, arrays, sizeof shapes);
	for (int i = 1; i < 4; i++)
		shapes[i].data = NULL; /* "time" keeps its data, as the core gives it */
	whole.arrays = shapes;
	void *lay = ops->join(&host, &whole, at("joined.npy"), tmp, sizeof tmp, errbuf,
	                      sizeof errbuf);
	ok(lay && strstr(tmp, "joined.npy.tmp-"), "npy: join lays out a temporary");
	void *other = lay ? ops->join(&host, &whole, at("joined.npy"), tmp, sizeof tmp, errbuf,
	                              sizeof errbuf) : NULL;
	ok(other != NULL, "npy: a second handle joins it");
	double v[SAVES * VARS * RUNS], in[INPUTS * RUNS];
	int32_t st[RUNS];
	cubie_array part[4];
	cubie_output c = chunk(part, 3, 1, v, in, st);
	int rc = other ? ops->write_runs(other, &c, 3, errbuf, sizeof errbuf) : -1;
	c = chunk(part, 0, 2, v, in, st);
	rc |= lay ? ops->write_runs(lay, &c, 0, errbuf, sizeof errbuf) : -1;
	c = chunk(part, 2, 1, v, in, st);
	rc |= other ? ops->write_runs(other, &c, 2, errbuf, sizeof errbuf) : -1;
	is_int(rc, 0, "npy: runs written out of order, from both handles");
	is_int(other ? ops->close(other, 1, errbuf, sizeof errbuf) : -1, 0,
	       "npy: the joined handle closes");
	ok(access(tmp, F_OK) == 0 && access(at("joined.npy"), F_OK) != 0,
	   "npy: ... and neither renames nor removes");
	is_int(lay ? ops->close(lay, 1, errbuf, sizeof errbuf) : -1, 0, "npy: the layout commits");
	static const char *const files[] = {"time.npy", "values.npy", "status.npy", "inputs.npy",
	                                    "variables.txt", "inputs.txt", ".cubie-npy"};
	int same = 1;
	for (size_t i = 0; i < sizeof files / sizeof *files; i++)
		if (!same_file(at("whole.npy"), at("joined.npy"), files[i]))
			same = 0, diag("differs: %s", files[i]);
	ok(same, "npy: the joined output is the one written whole");
	*tmp = 0;
	lay = ops->join(&host, &whole, at("dropped.npy"), tmp, sizeof tmp, errbuf, sizeof errbuf);
	is_int(lay ? ops->close(lay, 0, errbuf, sizeof errbuf) : -1, 0, "npy: a layout dropped");
	ok(access(at("dropped.npy"), F_OK) != 0, "npy: ... leaves no output");
	is_int(leftovers(), 0, "npy: ... and no temporary");
}

static void test_csv(const struct plugin *w, int dtype)
{
	const cubie_writer_ops *ops = w->desc->ops;
	int f32 = dtype == CUBIE_DTYPE_FLOAT32;
	const char *name = f32 ? "out32.csv" : "out.csv";
	char errbuf[512] = "";
	build(dtype);
	if (!is_int(ops->write(&host, &out, at(name), errbuf, sizeof errbuf), 0,
	            "csv (%s): written", f32 ? "float32" : "float64"))
		diag("%s", errbuf);
	char *s = slurp(at(name), NULL);
	ok(s && !strncmp(s, "run,x0,rho,status,t,x,y\n", 24),
	   "csv: header run, the inputs, status, t, the variables");
	size_t rows = 0;
	int exact = s != NULL, order = s != NULL;
	char *line = s ? strchr(s, '\n') + 1 : NULL;
	for (; line && *line; rows++) {
		char *end;
		long r = strtol(line, &end, 10);
		double in0 = strtod(end + 1, &end), in1 = strtod(end + 1, &end);
		long st = strtol(end + 1, &end, 10);
		double t = strtod(end + 1, &end);
		double x = strtod(end + 1, &end);
		double y = strtod(end + 1, &end);
		size_t k = rows % SAVES;
		order &= *end == '\n' && r == (long)(rows / SAVES) && t == t_data[k];
		if (r >= 0 && r < RUNS)
			exact &= in0 == in_data[0][r] && in1 == in_data[1][r] && st == status_data[r];
		if (r >= 0 && r < RUNS)
			exact &= f32 ? (float)x == v32[k][0][r] && (float)y == v32[k][1][r]
			             : x == v64[k][0][r] && y == v64[k][1][r];
		line = *end ? end + 1 : end;
	}
	is_int(rows, RUNS * SAVES, "csv: one row per run and save");
	ok(order, "csv: rows by run, then save, with their times");
	ok(exact, "csv: every value, input and status reads back exactly");
	if (s) {
		char want[128];
		if (f32)
			snprintf(want, sizeof want, "\n2,%.17g,%.17g,4,0.10000000000000001,%.9g,%.9g\n",
			         in_data[0][2], in_data[1][2], (double)v32[1][0][2], (double)v32[1][1][2]);
		else
			snprintf(want, sizeof want, "\n2,%.17g,%.17g,4,0.10000000000000001,%.17g,%.17g\n",
			         in_data[0][2], in_data[1][2], v64[1][0][2], v64[1][1][2]);
		like(s, want, "csv: run 2, save 1 printed with full precision");
	}
	free(s);
	/* Made through mkstemp (0600), yet it gets the mode any new file gets. */
	struct stat st;
	mode_t mask = umask(0);
	umask(mask);
	ok(stat(at(name), &st) == 0 && (st.st_mode & 0777) == (0666 & ~mask),
	   "csv: file mode 0666 less the umask");
	is_int(leftovers(), 0, "csv: no temporary file left");
}

static void test_csv_failures(const struct plugin *w)
{
	const cubie_writer_ops *ops = w->desc->ops;
	char errbuf[512] = "";
	build(CUBIE_DTYPE_FLOAT64);
	ok(ops->write(&host, &out, at("nodir/out.csv"), errbuf, sizeof errbuf) != 0,
	   "csv: a missing parent directory fails");
	like(text(errbuf), at("nodir/out.csv"), "csv: the message names the path");
	like(text(errbuf), strerror(ENOENT), "csv: the message says why");
	is_int(leftovers(), 0, "csv: no temporary file left");

	arrays[1].name = "not values";
	errbuf[0] = 0;
	ok(ops->write(&host, &out, at("bad.csv"), errbuf, sizeof errbuf) != 0,
	   "csv: a result without values fails");
	like(text(errbuf), at("bad.csv"), "csv: the message names the path");
	ok(access(at("bad.csv"), F_OK) != 0, "csv: no output");
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static int open_writer(const char *builddir, const char *name, struct plugin *p)
{
	char path[1300];
	cubie_error e;
	snprintf(path, sizeof path, "%s/plugin-dir/writer/%s.so", builddir, name);
	int rc = plugin_open(path, p, &e);
	if (!is_int(rc, 0, "open %s", path))
		diag("%s", e.msg);
	else
		ok(p->desc->kind == CUBIE_PLUGIN_WRITER && !strcmp(p->desc->name, name) &&
		   !strcmp(((const cubie_writer_ops *)p->desc->ops)->extensions[0],
		           strcmp(name, "npydir") ? name : "npy"),
		   "%s: a writer", name);
	return rc;
}

int main(void)
{
	const char *builddir = getenv("CUBIE_BUILDDIR");
	if (!builddir)
		builddir = ".";
	snprintf(root, sizeof root, "%s/t/tmp-writers-XXXXXX", builddir);
	if (!mkdtemp(root)) {
		printf("Bail out! cannot create %s: %s\n", root, strerror(errno));
		return 1;
	}

	struct plugin npy, csv;
	if (open_writer(builddir, "npydir", &npy) == 0) {
		test_npy(&npy, CUBIE_DTYPE_FLOAT64);
		test_npy(&npy, CUBIE_DTYPE_FLOAT32);
		test_npy_failures(&npy);
		test_npy_join(&npy);
		plugin_close(&npy);
	}
	if (open_writer(builddir, "csv", &csv) == 0) {
		test_csv(&csv, CUBIE_DTYPE_FLOAT64);
		test_csv(&csv, CUBIE_DTYPE_FLOAT32);
		test_csv_failures(&csv);
		plugin_close(&csv);
	}

	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	ok(access(root, F_OK) != 0, "temporary directory removed");
	done_testing();
	return tap_exit();
}
