/* The several-device driver on the cpu backend (CUBIE_TEST_CPU_DEVICES
 * runs it as N devices, each a thread with a backend of its own): results
 * identical, bit for bit, to one device, with a whole result and through a
 * streaming writer (which must see the runs in order); a device that fails
 * mid-solve (CUBIE_TEST_FAIL_GPU) leaves its runs to the others; when all
 * fail, the error names the runs lost; progress counts every device. */
#include "config.h"
#include "internal.h"
#include "solve.h"

static const char *lorenz =
	"[model]\nstates = x, y, z\nparameters = rho\nobservables = r\n"
	"[constants]\nsigma = 10\nbeta = 8/3\n"
	"[equations]\ndx = sigma * (y - x)\ndy = x * (rho - z) - y\ndz = x * y - beta * z\n"
	"r = sqrt(x^2 + y^2 + z^2)\n"
	"[initial]\nx = 1, 2\ny = 0\nz = 0\n[parameters]\nrho = linspace(0, 30, 500)\n"
	"[solve]\nintegrator = dormand_prince_54\nduration = 0.5\ndt = 0.005\n"
	"[output]\nsave = x, z, r, steps\nsave_every = 0.05\n[device]\nbackend = cpu\nthreads = 1\n";

static int same(const cubie_result *a, const cubie_result *b)
{
	for (size_t i = 0; i < cubie_result_count(a); i++) {
		const cubie_array *x = cubie_result_array(a, i), *y = cubie_result_find(b, x->name);
		size_t n = 1, sz = x->dtype == CUBIE_DTYPE_FLOAT64 ? 8 : 4;
		for (int d = 0; d < x->ndim; d++)
			n *= x->shape[d];
		if (!y || memcmp(x->shape, y->shape, sizeof x->shape) || memcmp(x->data, y->data, n * sz))
			return 0;
	}
	return 1;
}

struct seen { size_t calls, last, runs; int monotonic; };
static void on_progress(size_t done, size_t runs, void *user)
{
	struct seen *v = user;
	v->monotonic &= done > v->last || v->calls == 0;
	v->calls++, v->last = done, v->runs = runs;
}

/* Solve (to out when given) on devs devices, failing as faults says. */
static cubie_result *solve(int devs, const char *faults, const char *out, const char *extra,
                           struct seen *v, char **plan, cubie_stats *st, cubie_error *e)
{
	char n[16];
	snprintf(n, sizeof n, "%d", devs);
	setenv("CUBIE_TEST_CPU_DEVICES", n, 1);
	if (faults)
		setenv("CUBIE_TEST_FAIL_GPU", faults, 1);
	else
		unsetenv("CUBIE_TEST_FAIL_GPU");
	char *p = write_tmp("multidev", lorenz);
	cubie_config *c = NULL;
	cubie_solver *s = NULL;
	cubie_result *r = NULL;
	int rc = cubie_config_load(p, &c, e);
	if (!rc && extra)
		rc = cubie_config_set(c, extra, e);
	if (!rc && !(rc = cubie_solver_create(c, &s, e))) {
		if (plan)
			*plan = cubie_solver_describe(s);
		if (v)
			cubie_solver_set_progress(s, on_progress, v);
		rc = out ? cubie_solve_write(s, out, &r, e) : cubie_solve(s, &r, e);
		if (st)
			cubie_solver_stats(s, st);
	}
	cubie_solver_free(s);
	cubie_config_free(c);
	unlink(p);
	free(p);
	unsetenv("CUBIE_TEST_CPU_DEVICES");
	unsetenv("CUBIE_TEST_FAIL_GPU");
	return rc ? NULL : r;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	*len = 0;
	if (f && !fseek(f, 0, SEEK_END)) {
		long n = ftell(f);
		if (n >= 0 && !fseek(f, 0, SEEK_SET) && (buf = malloc((size_t)n + 1)))
			*len = fread(buf, 1, (size_t)n, f);
	}
	if (f)
		fclose(f);
	return buf;
}

int main(void)
{
	cubie_error e = {0};
	cubie_stats st = {0};
	char *plan = NULL;
	cubie_result *ref = solve(1, NULL, NULL, NULL, NULL, NULL, NULL, &e);
	if (!ok(ref != NULL, "one device: the reference"))
		diag("%s", e.msg);
	cubie_result *r = solve(3, NULL, NULL, NULL, NULL, &plan, &st, &e);
	if (!ok(r && ref && same(ref, r) && st.chunks > 3,
	        "three devices: identical, bit for bit (%zu chunks)", st.chunks))
		diag("%s", r ? "" : e.msg);
	like(plan, "chunks are handed to whichever device finishes first",
	     "check: the plan says how chunks are handed out");
	like(plan, "cpu device 2:", "check: ... and shows each device");
	free(plan);
	cubie_result_free(r);

	r = solve(3, NULL, NULL, "memory.chunk_runs=7", NULL, NULL, &st, &e);
	ok(r && ref && same(ref, r) && st.chunks == 143, "chunk_runs = 7 over three devices: "
	   "143 chunks, identical");
	cubie_result_free(r);

	r = solve(3, "1:2", NULL, NULL, NULL, NULL, &st, &e);
	if (!ok(r && ref && same(ref, r), "device 1 fails at its third chunk: the others solve its "
	        "runs, identical"))
		diag("%s", r ? "" : e.msg);
	cubie_result_free(r);

	r = solve(2, "0:0,1:1", NULL, "memory.chunk_runs=50", NULL, NULL, NULL, &e);
	ok(!r && e.code == CUBIE_ERR_RUNTIME, "every device fails: the solve fails");
	like(e.msg, "were not solved: every device failed", "... saying so");
	like(e.msg, "(of 0-999)", "... naming the runs lost (one device did one chunk first)");
	like(e.msg, "cpu device 1: CUBIE_TEST_FAIL_GPU", "... and why each device stopped");

	struct seen v = {0, 0, 0, 1};
	r = solve(3, NULL, NULL, "memory.chunk_runs=20", &v, NULL, NULL, &e);
	ok(r && v.monotonic && v.last == 1000 && v.runs == 1000 && v.calls >= 1,
	   "progress rises to every run over all devices (%zu reports)", v.calls);
	cubie_result_free(r);

	/* a streaming writer gets the runs in order, whoever finishes first */
	size_t la = 0, lb = 0;
	cubie_result *sa = solve(1, NULL, "multidev-1.csv", "memory.chunk_runs=10", NULL, NULL,
	                         NULL, &e);
	cubie_result *sb = solve(3, "2:4", "multidev-3.csv", "memory.chunk_runs=10", NULL, NULL,
	                         NULL, &e);
	char *a = slurp("multidev-1.csv", &la), *b = slurp("multidev-3.csv", &lb);
	if (!ok(sa && sb && a && b && la > 1000 && la == lb && !memcmp(a, b, la),
	        "streamed to csv over three devices, one failing: the same file (%zu bytes)", lb))
		diag("%s", e.msg);
	free(a);
	free(b);
	cubie_result_free(sa);
	cubie_result_free(sb);
	unlink("multidev-1.csv");
	unlink("multidev-3.csv");
	cubie_result_free(ref);
	done_testing();
	return tap_exit();
}
