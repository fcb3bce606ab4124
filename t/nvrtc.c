/* The CUDA backend. Without a GPU: NVRTC compiles the kernels for sm_90 in
 * both precisions with sane register use and no local memory, and a compile
 * error carries NVRTC's diagnostic. With a GPU: the backend runs a kernel
 * end to end (explicit Euler on dy/dt = -p y, exact to rounding). */
#include "config.h"
#include <dirent.h>
#include <stdint.h>
#include "internal.h"
#include "tap.h"

#define ARCH 90

/* Step control as the core compiles it in: fixed steps, or a PI controller. */
#define FIXED "#define CUBIE_CONTROLLER 0\n#define CUBIE_ERR_ORDER 0\n#define CUBIE_MAX_STEPS 1000000LL\n"
#define ADAPTIVE "#define CUBIE_CONTROLLER 2\n#define CUBIE_ERR_ORDER 4\n#define CUBIE_MAX_STEPS 1000000LL\n" \
	"#define CUBIE_LOG2_SAFETY -0.15200309344504997\n#define CUBIE_MIN_GAIN 0.2\n#define CUBIE_MAX_GAIN 5\n" \
	"#define CUBIE_DT_MIN 1e-12\n#define CUBIE_DT_MAX 0\n#define CUBIE_ATOL {1e-6}\n#define CUBIE_RTOL {1e-6}\n"
#define MODEL \
	"#define CUBIE_NSTATES 1\n#define CUBIE_NPARAMS 1\n#define CUBIE_NSAVED 1\n" \
	"CUBIE_DEV void cubie_rhs(double t, const cubie_real *y, const cubie_real *p,\n" \
	"                         cubie_real *dydt) { dydt[0] = -p[0] * y[0]; }\n" \
	"CUBIE_DEV void cubie_saved(double t, const cubie_real *y, const cubie_real *p,\n" \
	"                           cubie_real *v) { v[0] = y[0]; }\n"
static const char *model = FIXED MODEL;
static const char *adaptive_model = ADAPTIVE MODEL;
/* What implicit methods see besides: the Jacobian, the tolerances (also
 * under fixed steps) and the Newton settings. */
#define IMPLICIT \
	"#define CUBIE_ATOL {1e-6}\n#define CUBIE_RTOL {1e-6}\n#define CUBIE_NEWTON_TOL 0.03\n" \
	"#define CUBIE_NEWTON_MAX_ITER 7\n#define CUBIE_JAC_UPDATE 0\n#define CUBIE_AUTONOMOUS 0\n" \
	"CUBIE_DEV void cubie_jac(double t, const cubie_real *y, const cubie_real *p,\n" \
	"                         cubie_real *J) { J[0] = -p[0]; }\n" \
	"CUBIE_DEV void cubie_dfdt(double t, const cubie_real *y, const cubie_real *p,\n" \
	"                          cubie_real *d) { d[0] = 0; }\n"
static const char *implicit_model = FIXED MODEL IMPLICIT;
/* Robertson's kinetics with its Jacobian, as the core generates them: the
 * implicit methods keep a 3-state model's matrices in registers. */
static const char *robertson_model =
	"#define CUBIE_CONTROLLER 2\n#define CUBIE_ERR_ORDER 4\n#define CUBIE_MAX_STEPS 1000000LL\n"
	"#define CUBIE_LOG2_SAFETY -0.15200309344504997\n#define CUBIE_MIN_GAIN 0.2\n#define CUBIE_MAX_GAIN 5\n"
	"#define CUBIE_DT_MIN 1e-12\n#define CUBIE_DT_MAX 0\n"
	"#define CUBIE_ATOL {1e-10, 1e-10, 1e-10}\n#define CUBIE_RTOL {1e-6, 1e-6, 1e-6}\n"
	"#define CUBIE_NEWTON_TOL 0.03\n#define CUBIE_NEWTON_MAX_ITER 7\n#define CUBIE_JAC_UPDATE 0\n"
	"#define CUBIE_AUTONOMOUS 1\n"
	"#define CUBIE_NSTATES 3\n#define CUBIE_NPARAMS 1\n#define CUBIE_NSAVED 3\n"
	"CUBIE_DEV void cubie_rhs(double t, const cubie_real *y, const cubie_real *p, cubie_real *f)\n"
	"{ f[0] = -p[0] * y[0] + 1e4 * y[1] * y[2]; f[2] = 3e7 * y[1] * y[1];\n"
	"  f[1] = -f[0] - f[2]; }\n"
	"CUBIE_DEV void cubie_saved(double t, const cubie_real *y, const cubie_real *p, cubie_real *v)\n"
	"{ v[0] = y[0]; v[1] = y[1]; v[2] = y[2]; }\n"
	"CUBIE_DEV void cubie_jac(double t, const cubie_real *y, const cubie_real *p, cubie_real *J)\n"
	"{ J[0] = -p[0]; J[1] = 1e4 * y[2]; J[2] = 1e4 * y[1]; J[3] = p[0];\n"
	"  J[4] = -1e4 * y[2] - 6e7 * y[1]; J[5] = -1e4 * y[1]; J[6] = 0; J[7] = 6e7 * y[1]; J[8] = 0; }\n"
	"CUBIE_DEV void cubie_dfdt(double t, const cubie_real *y, const cubie_real *p, cubie_real *d)\n"
	"{ d[0] = d[1] = d[2] = 0; }\n";
static const char *implicit_adaptive_model =
	"#define CUBIE_CONTROLLER 2\n#define CUBIE_ERR_ORDER 4\n#define CUBIE_MAX_STEPS 1000000LL\n"
	"#define CUBIE_LOG2_SAFETY -0.15200309344504997\n#define CUBIE_MIN_GAIN 0.2\n#define CUBIE_MAX_GAIN 5\n"
	"#define CUBIE_DT_MIN 1e-12\n#define CUBIE_DT_MAX 0\n" MODEL IMPLICIT;

#define STEP_HEAD "CUBIE_DEV void cubie_step(double t, cubie_real h, const cubie_real *y,\n" \
	"    const cubie_real *p, cubie_real *y_new, cubie_real *err, cubie_real *f0,\n" \
	"    cubie_real *f1, int f0_ok)\n"
static const char *euler = STEP_HEAD
	"{\n\tcubie_real k[CUBIE_NSTATES];\n\tcubie_rhs(t, y, p, k);\n\tCUBIE_UNROLL\n"
	"\tfor (int i = 0; i < CUBIE_NSTATES; i++)\n\t\ty_new[i] = y[i] + h * k[i];\n"
	"\t(void)err, (void)f0, (void)f1, (void)f0_ok;\n}\n";
/* A dynamically indexed local array cannot live in registers. */
static const char *stacky = STEP_HEAD
	"{\n\tvolatile cubie_real tmp[32];\n\tcubie_rhs(t, y, p, y_new);\n"
	"\tfor (int i = 0; i < 32; i++)\n\t\ttmp[i] = y_new[0] * i;\n"
	"\ty_new[0] = y[0] + h * tmp[(int)t & 31];\n}\n";
static const char *broken = STEP_HEAD "{\n\ty_new[0] = undefined_thing;\n}\n";
/* A step that can fail (CUBIE_STEP_STATUS): Euler with a bound. */
static const char *failing = "#define CUBIE_STEP_STATUS 1\n"
	"CUBIE_DEV int cubie_step(double t, cubie_real h, const cubie_real *y,\n"
	"    const cubie_real *p, cubie_real *y_new, cubie_real *err, cubie_real *f0,\n"
	"    cubie_real *f1, int f0_ok)\n"
	"{\n\tif (!f0_ok)\n\t\tcubie_rhs(t, y, p, f0);\n\ty_new[0] = y[0] + h * f0[0];\n"
	"\terr[0] = h * f0[0];\n\t(void)f1;\n\treturn y_new[0] > 10 ? CUBIE_STATUS_NONFINITE : 0;\n}\n";

/* One kernel: compiles, 1..255 registers, nothing spilled to local memory. */
static void check_kernel(const char *label, const char *src)
{
	cubie_error e = {0};
	int regs = 0;
	size_t local = 1;
	if (!ok(cuda_compile_only(src, ARCH, &regs, &local, &e) == 0, "%s: compiles for sm_%d",
	        label, ARCH)) {
		diag("%s", e.msg);
		return;
	}
	ok(regs > 0 && regs <= 255, "%s: %d registers per thread", label, regs);
	is_int(local, 0, "%s: no local memory", label);
}

/* An integrator's source in both precisions, with fixed steps and, where
 * the method has an error estimate, with the adaptive controller. */
static void check_method(const char *name, const char *integrator_src, int adaptive, int implicit)
{
	for (int a = 0; a <= adaptive; a++)
		for (int prec = 32; prec <= 64; prec += 32) {
			const char *m = implicit ? (a ? implicit_adaptive_model : implicit_model)
			                         : (a ? adaptive_model : model);
			char label[128], *src = kernel_source(prec, m, integrator_src);
			snprintf(label, sizeof label, "%s float%d%s", name, prec, a ? " adaptive" : "");
			check_kernel(label, src);
			free(src);
		}
}

/* Every integrator plugin of the build tree. */
static void check_plugins(void)
{
	const char *build = getenv("CUBIE_BUILDDIR");
	char *dir = cb_printf("%s/plugin-dir/integrator", build ? build : ".");
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d))) {
		if (!strstr(de->d_name, ".so"))
			continue;
		char *path = cb_printf("%s/%s", dir, de->d_name);
		struct plugin pl;
		cubie_error e = {0};
		if (ok(plugin_open(path, &pl, &e) == 0, "load %s", de->d_name)) {
			const cubie_integrator_ops *io = pl.desc->ops;
			check_method(pl.desc->name, io->source, io->error_order > 0, plugin_wants_jacobian(&pl));
			if (plugin_wants_jacobian(&pl)) {
				char label[128], *src = kernel_source(64, robertson_model, io->source);
				snprintf(label, sizeof label, "%s float64 adaptive, 3 states", pl.desc->name);
				check_kernel(label, src);
				free(src);
			}
			plugin_close(&pl);
			n++;
		} else {
			diag("%s", e.msg);
		}
		free(path);
	}
	if (d)
		closedir(d);
	ok(n >= 2, "%d integrator plugins compiled", n);
	free(dir);
}

static uint64_t dalloc(backend *b, size_t bytes)
{
	uint64_t p = 0;
	ok(b->ops->mem_alloc(b, bytes, &p) == 0 && p, "mem_alloc %zu bytes", bytes);
	return p;
}

/* Euler on dy/dt = -p y with dt dividing each save interval: the saves are
 * y0 (1 - dt p)^steps, which the host computes in the same order. */
static void run_on_gpu(backend *b)
{
	cubie_error e = {0};
	const long long n = 1000, stride = 1024, n_saves = 3;
	const double dt = 0.01, save_every = 0.5;
	size_t free_b = 0, total_b = 0;
	void *s = NULL, *out_h = NULL;
	char *src = kernel_source(64, model, euler);
	double y0[1024] = {0}, p[1024] = {0};
	int status[1024];

	int rc = b->ops->mem_info(b, &free_b, &total_b);
	ok(rc == 0 && total_b > 0 && free_b <= total_b, "mem_info: %.1f of %.1f GiB free",
	   free_b / 1073741824.0, total_b / 1073741824.0);
	if (!ok(b->ops->load(b, src, &e) == 0, "load the euler float64 kernel"))
		diag("%s", e.msg);
	diag("compile %.3f s, cache hit %d, block size %d", b->compile_s, b->cache_hit, b->block_size);
	if (getenv("CUBIE_CACHE_DIR")) {
		ok(b->ops->load(b, src, &e) == 0 && b->cache_hit && b->compile_s == 0,
		   "a second load comes from the cache");
	}
	free(src);
	b->kernel_s = 0;
	for (long long i = 0; i < n; i++)
		y0[i] = 1 + 0.001 * (double)i, p[i] = 0.001 * (double)i;
	if (!ok(b->ops->stream_create(b, &s, &e) == 0, "stream_create"))
		diag("%s", e.msg);
	uint64_t dy = dalloc(b, sizeof y0), dp = dalloc(b, sizeof p), dst = dalloc(b, sizeof status);
	uint64_t dout = 0;
	size_t out_bytes = (size_t)(n_saves * stride) * sizeof(double);
	if (b->ops->mem_alloc_async) {
		ok(b->ops->mem_pool_keep(b, 64 << 20) == 0, "mem_pool_keep");
		ok(b->ops->mem_alloc_async(b, out_bytes, s, &dout) == 0 && dout, "mem_alloc_async");
	} else {
		dout = dalloc(b, out_bytes);
	}
	ok(b->ops->pinned_alloc(b, out_bytes, &out_h) == 0 && out_h, "pinned_alloc");
	uint64_t dsteps = dalloc(b, 2 * sizeof status), dreached = dalloc(b, n * sizeof(double));
	struct cubie_args a = {
		.y0 = (const void *)(uintptr_t)dy, .params = (const void *)(uintptr_t)dp,
		.out = (void *)(uintptr_t)dout, .status = (int *)(uintptr_t)dst,
		.steps = (int *)(uintptr_t)dsteps, .reached = (double *)(uintptr_t)dreached, .n = n, .stride = stride, .n_saves = n_saves,
		.t0 = 0.0, .duration = 1.0, .dt = dt, .save_every = save_every,
		.tick = save_every, .n_ticks = (int)n_saves - 1, .save_ticks = 1, .sample_ticks = 1,
		.window_ticks = (int)n_saves - 1};
	rc = b->ops->copy_h2d(b, dy, y0, sizeof y0, s, &e) || b->ops->copy_h2d(b, dp, p, sizeof p, s, &e) ||
	         b->ops->launch(b, &a, s, &e) || b->ops->copy_d2h(b, out_h, dout, out_bytes, s, &e) ||
	         b->ops->copy_d2h(b, status, dst, sizeof status, s, &e) || b->ops->stream_sync(b, s, &e);
	if (!ok(rc == 0, "copy in, launch, copy out, sync")) {
		diag("%s", e.msg);
	} else {
		const double *out = out_h;
		double worst = 0;
		long long bad = 0;
		for (long long i = 0; i < n; i++) {
			double y = y0[i];
			bad += status[i] != 0;
			for (long long k = 0; k < n_saves; k++) {
				if (k)
					for (int j = 0; j < 50; j++)
						y = y + dt * (-p[i] * y);
				worst = fmax(worst, fabs(out[k * stride + i] - y) / fabs(y));
			}
		}
		is_int(bad, 0, "every run succeeded");
		ok(b->kernel_s > 0 && b->kernel_s < 10, "kernel_s: %.3g s of device time", b->kernel_s);
		ok(worst < 1e-13, "saves match the host's Euler (worst relative error %.3g)", worst);
	}
	ok(b->ops->pinned_free(b, out_h) == 0, "pinned_free");
	if (b->ops->mem_free_async)
		ok(b->ops->mem_free_async(b, dout, s) == 0, "mem_free_async");
	else
		b->ops->mem_free(b, dout);
	ok(b->ops->mem_free(b, dy) == 0 && b->ops->mem_free(b, dp) == 0 &&
	   b->ops->mem_free(b, dst) == 0 && b->ops->mem_free(b, dsteps) == 0 &&
	   b->ops->mem_free(b, dreached) == 0, "mem_free");
	ok(b->ops->stream_sync(b, s, &e) == 0, "sync after the frees");
	b->ops->stream_destroy(b, s);
}

int main(void)
{
	cubie_error e = {0};
	int regs;
	size_t local;
	char *src;
#ifndef HAVE_CUDA
	plan_skip_all("no NVRTC (cubie built without CUDA headers)");
#endif
	src = kernel_source(64, model, euler);
	if (cuda_compile_only(src, ARCH, &regs, &local, &e) && strstr(e.msg, "NVRTC not found"))
		plan_skip_all("no NVRTC");
	free(src);

	check_method("test euler", euler, 0, 0);
	check_method("failing step", failing, 1, 0);
	check_plugins();

	src = kernel_source(64, model, stacky);
	local = 0;
	int rc = cuda_compile_only(src, ARCH, &regs, &local, &e);
	ok(rc == 0 && local >= 32 * 8, "a local array shows as %zu bytes of local memory", local);
	free(src);
	src = kernel_source(32, model, broken);
	memset(&e, 0, sizeof e);
	is_int(cuda_compile_only(src, ARCH, &regs, &local, &e), CB_ERR_SOURCE,
	       "a compile error fails as the source's fault");
	like(e.msg, "identifier \"undefined_thing\" is undefined", "with NVRTC's diagnostic");
	is_int(cuda_compile_only(src, 1, &regs, &local, &e), CUBIE_ERR_RUNTIME, "sm_1 fails");
	free(src);

	backend *b = NULL;
	is_int(backend_cuda_open(0, 33, &b, &e), CUBIE_ERR_CONFIG, "block_size 33 is refused");
	if (backend_cuda_open(0, 0, &b, &e)) {
		ok(e.code == CUBIE_ERR_RUNTIME && e.msg[0], "no GPU here, and the reason given");
		diag("%s", e.msg);
		skip("no GPU: the backend's run is not tested");
	} else {
		ok(b->device[0] != '\0', "device: %s", b->device);
		run_on_gpu(b);
		b->ops->close(b);
	}
	done_testing();
	return tap_exit();
}
