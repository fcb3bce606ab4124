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
	const char *ov[] = {extra, NULL};
	struct solve_job job = {out, plan, v ? on_progress : NULL, v, st};
	cubie_result *r = solve_job(lorenz, ov, &job, e);
	unsetenv("CUBIE_TEST_CPU_DEVICES");
	unsetenv("CUBIE_TEST_FAIL_GPU");
	return r;
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
	if (!ok(same_result(ref, r) && st.chunks > 3,
	        "three devices: identical, bit for bit (%zu chunks)", st.chunks))
		diag("%s", r ? "" : e.msg);
	like(plan, "chunks are handed to whichever device finishes first",
	     "check: the plan says how chunks are handed out");
	like(plan, "cpu device 2:", "check: ... and shows each device");
	free(plan);
	cubie_result_free(r);

	r = solve(3, NULL, NULL, "memory.chunk_runs=7", NULL, NULL, &st, &e);
	ok(same_result(ref, r) && st.chunks == 143,
	   "chunk_runs = 7 over three devices: 143 chunks, identical");
	cubie_result_free(r);

	r = solve(3, "1:2", NULL, NULL, NULL, NULL, &st, &e);
	if (!ok(same_result(ref, r),
	        "device 1 fails at its third chunk: the others solve its runs, identical"))
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
