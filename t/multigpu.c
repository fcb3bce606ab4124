/* Several GPUs in one process ([device] gpu = 0, 1 or all) against one
 * GPU, bit for bit: whole results, adaptive steps, a streaming writer, a
 * GPU that fails mid-solve (CUBIE_TEST_FAIL_GPU) and all of them failing.
 * With one GPU, gpu = all is the same as gpu = 0. Skipped without a GPU. */
#include "config.h"
#include "internal.h"
#include "solve.h"

static const char *lorenz =
	"[model]\nstates = x, y, z\nparameters = rho\nobservables = r\n"
	"[constants]\nsigma = 10\nbeta = 8/3\n"
	"[equations]\ndx = sigma * (y - x)\ndy = x * (rho - z) - y\ndz = x * y - beta * z\n"
	"r = sqrt(x^2 + y^2 + z^2)\n"
	"[initial]\nx = 1\ny = 0\nz = 0\n[parameters]\nrho = linspace(0, 28, 5000)\n"
	"[solve]\nintegrator = rk4\nduration = 1\ndt = 0.001\n"
	"[output]\nsave = x, y, z, r, steps\nsave_every = 0.1\n[device]\nbackend = cuda\n";

/* A forced oscillator: each GPU needs its own copy of the drivers'
 * coefficients, and of the sweep's list of x values. */
static const char *driven =
	"[model]\nstates = x, v\nparameters = c\n[equations]\ndx = v\ndv = -x - c * v + u\n"
	"[drivers]\nsample_every = 0.25\nu = 0, 1, 0.5, -0.3, -1, 0.2, 0.7, 0\n"
	"u.interpolation = cubic\nu.wrap = periodic\n"
	"[initial]\nx = 0, 0.5\nv = 0\n[parameters]\nc = linspace(0, 1, 3000)\n"
	"[solve]\nintegrator = rk4\nduration = 5\ndt = 0.001\n[output]\nsave_every = 0.5\n"
	"[device]\nbackend = cuda\n";
static const char *model; /* NULL: lorenz */

/* overrides: up to 4, NULL-terminated; faults: CUBIE_TEST_FAIL_GPU */
static cubie_result *run(const char *const *ov, const char *faults, const char *out,
                         char **plan, cubie_stats *st, cubie_error *e)
{
	if (faults)
		setenv("CUBIE_TEST_FAIL_GPU", faults, 1);
	struct solve_job job = {.out = out, .plan = plan, .stats = st};
	cubie_result *r = solve_job(model ? model : lorenz, ov, &job, e);
	unsetenv("CUBIE_TEST_FAIL_GPU");
	return r;
}

/* The same configuration on GPU 0 alone and on gpus, compared. */
static void versus(const char *what, const char *gpus, const char *const *extra,
                   const char *faults)
{
	const char *one[6] = {"device.gpu=0"}, *many[6] = {gpus};
	for (int i = 0; extra && extra[i] && i < 4; i++)
		one[i + 1] = many[i + 1] = extra[i];
	cubie_error e = {0};
	cubie_stats st = {0};
	cubie_result *a = run(one, NULL, NULL, NULL, NULL, &e), *b = NULL;
	if (a)
		b = run(many, faults, NULL, NULL, &st, &e);
	if (!ok(same_result(a, b), "%s: %s = gpu 0, bit for bit (%zu chunks)", what, gpus, st.chunks))
		diag("%s", e.msg);
	cubie_result_free(a);
	cubie_result_free(b);
}

int main(void)
{
	int count = 0;
	cubie_error e = {0};
	if (backend_cuda_count(&count, &e) || count < 1) {
		diag("%s", e.msg);
		plan_skip_all("no CUDA device");
	}
	diag("%d GPU%s", count, count == 1 ? "" : "s");
	static const char *const small[] = {"memory.chunk_runs=256", NULL};
	versus("rk4", "device.gpu=all", NULL, NULL);
	if (count < 2) {
		diag("one GPU: the several-GPU checks need two");
		done_testing();
		return tap_exit();
	}
	versus("rk4, chunks of 256", "device.gpu=0, 1", small, NULL);
	static const char *const dopri[] = {"memory.chunk_runs=256",
		"solve.integrator=dormand_prince_54", "solve.atol=1e-8", "solve.rtol=1e-8", NULL};
	versus("dormand_prince_54 at 1e-8, chunks of 256", "device.gpu=0, 1", dopri, NULL);
	static const char *const big[] = {"parameters.rho=linspace(0, 28, 300000)",
		"output.save=x", "solve.precision=float32", NULL};
	versus("300000 runs, float32, the planner's chunks", "device.gpu=0, 1", big, NULL);
	model = driven;
	versus("drivers, a list of x, chunks of 256", "device.gpu=0, 1", small, NULL);
	model = NULL;
	versus("gpu 1 fails at its second chunk", "device.gpu=0, 1", small, "1:1");
	versus("gpu 0 fails at its first chunk", "device.gpu=all", small, "0:0");

	const char *both[] = {"device.gpu=0, 1", "memory.chunk_runs=256", NULL};
	char *plan = NULL;
	cubie_result *r = run(both, NULL, NULL, &plan, NULL, &e);
	like(plan, "gpu 0:", "check shows gpu 0");
	like(plan, "gpu 1:", "... and gpu 1, each with its budget and chunks");
	free(plan);
	cubie_result_free(r);
	r = run(both, "0:0,1:2", NULL, NULL, NULL, &e);
	ok(!r && strstr(e.msg, "were not solved: every device failed"),
	   "both GPUs fail: the solve fails naming the runs lost");
	diag("%s", e.msg);
	cubie_result_free(r);

	/* a streaming writer sees the runs in order */
	const char *one[] = {"device.gpu=0", "memory.chunk_runs=256", NULL};
	size_t la, lb;
	cubie_result *sa = run(one, NULL, "multigpu-1.csv", NULL, NULL, &e);
	cubie_result *sb = run(both, "1:3", "multigpu-2.csv", NULL, NULL, &e);
	char *a = slurp("multigpu-1.csv", &la), *b = slurp("multigpu-2.csv", &lb);
	if (!ok(sa && sb && a && b && la == lb && !memcmp(a, b, la),
	        "streamed to csv over two GPUs, one failing: the same file (%zu bytes)", lb))
		diag("%s", e.msg);
	free(a);
	free(b);
	cubie_result_free(sa);
	cubie_result_free(sb);
	unlink("multigpu-1.csv");
	unlink("multigpu-2.csv");
	done_testing();
	return tap_exit();
}
