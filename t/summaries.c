/* Summaries computed in the loop, each compared with the same statistic
 * computed here from the densely saved series of the same solve (samples
 * and saves on one grid), per window; on the cpu backend and, where there
 * is a GPU, on the cuda backend; chunking leaves them identical; refusals. */
#include "config.h"
#include "internal.h"
#include "solve.h"

#define METRICS "mean, max, min, rms, std, extrema, max_magnitude, peaks[3], negative_peaks[3], " \
	"dxdt_max, dxdt_min, dxdt_extrema, d2xdt2_max, d2xdt2_min, d2xdt2_extrema"
enum { SLOTS = 22, WINDOWS = 4, SAVES = 1001 };

static const char *model =
	"[model]\nstates = x, v\nparameters = w\nobservables = E\n"
	"[equations]\ndx = v\ndv = -w^2 * x - 0.3 * v\nE = x^2 + v^2\n"
	"[initial]\nx = 1\nv = 0\n[parameters]\nw = 1, 2.5, 4\n"
	"[solve]\nintegrator = rk4\nduration = 10\ndt = 0.005\n"
	"[output]\nsave_every = 0.01\nsave = x, v, E\nsummaries = " METRICS "\n"
	"summarise = x, E\nsample_every = 0.01\nsummarise_every = 2.5\n";

/* The metrics of window w of series x (saves k, time t), as the device
 * computes them: samples k in (250 w, 250 (w + 1)], and k = 0 in window 0;
 * dx, when given, is x's exact derivative (an FSAL method's f). */
static void reference(const double *x, const double *dx, const double *t, int w,
                      double out[SLOTS])
{
	int lo = w ? 250 * w + 1 : 0, hi = 250 * (w + 1), n = 0, np = 0, nn = 0;
	double sum = 0, sq = 0, mx = -INFINITY, mn = INFINITY, mag = 0;
	double d1mx = -INFINITY, d1mn = INFINITY, d2mx = -INFINITY, d2mn = INFINITY;
	double pk[3] = {NAN, NAN, NAN}, npk[3] = {NAN, NAN, NAN};
	for (int k = lo; k <= hi; k++, n++) {
		sum += x[k];
		mx = fmax(mx, x[k]), mn = fmin(mn, x[k]), mag = fmax(mag, fabs(x[k]));
		if (k >= 2 && x[k - 1] > x[k - 2] && x[k - 1] >= x[k] && np < 3)
			pk[np++] = t[k - 1];
		if (k >= 2 && x[k - 1] < x[k - 2] && x[k - 1] <= x[k] && nn < 3)
			npk[nn++] = t[k - 1];
		if (dx) {
			d1mx = fmax(d1mx, dx[k]), d1mn = fmin(d1mn, dx[k]);
			if (k >= 1) {
				double dd = (dx[k] - dx[k - 1]) / (t[k] - t[k - 1]);
				d2mx = fmax(d2mx, dd), d2mn = fmin(d2mn, dd);
			}
			continue;
		}
		if (k >= 1) {
			double d = (x[k] - x[k - 1]) / (t[k] - t[k - 1]);
			d1mx = fmax(d1mx, d), d1mn = fmin(d1mn, d);
		}
		if (k >= 2) {
			double d = (x[k] - x[k - 1]) / (t[k] - t[k - 1]);
			double d0 = (x[k - 1] - x[k - 2]) / (t[k - 1] - t[k - 2]);
			double dd = (d - d0) / (0.5 * (t[k] - t[k - 2]));
			d2mx = fmax(d2mx, dd), d2mn = fmin(d2mn, dd);
		}
	}
	double mean = sum / n;
	for (int k = lo; k <= hi; k++)
		sq += (x[k] - mean) * (x[k] - mean);
	double slots[SLOTS] = {mean, mx, mn, sqrt(sq / n + mean * mean), sqrt(sq / n), mx, mn, mag,
	                       pk[0], pk[1], pk[2], npk[0], npk[1], npk[2], d1mx, d1mn, d1mx, d1mn,
	                       d2mx, d2mn, d2mx, d2mn};
	memcpy(out, slots, sizeof slots);
}

static double at(const cubie_array *a, size_t i)
{
	return a->dtype == CUBIE_DTYPE_FLOAT32 ? ((const float *)a->data)[i]
	                                       : ((const double *)a->data)[i];
}

/* Worst relative difference of every metric from its reference; exact:
 * x's derivative is v (saved), as a FSAL method's summaries use it. */
static double check(const cubie_result *r, int exact)
{
	const cubie_array *v = cubie_result_find(r, "values"), *s = cubie_result_find(r, "summaries");
	const double *t = cubie_result_find(r, "time")->data;
	size_t runs = cubie_result_runs(r), vars[2] = {0, 2}; /* x and E among x, v, E */
	double worst = 0, *x = malloc(SAVES * sizeof *x), *dx = malloc(SAVES * sizeof *dx);
	if (!s || s->shape[0] != WINDOWS || s->shape[1] != 2 * SLOTS || v->shape[0] != SAVES)
		return free(x), free(dx), INFINITY;
	for (size_t run = 0; run < runs; run++)
		for (int q = 0; q < 2; q++) {
			for (int k = 0; k < SAVES; k++) {
				x[k] = at(v, ((size_t)k * 3 + vars[q]) * runs + run);
				dx[k] = at(v, ((size_t)k * 3 + 1) * runs + run);
			}
			for (int w = 0; w < WINDOWS; w++) {
				double ref[SLOTS];
				reference(x, exact && q == 0 ? dx : NULL, t, w, ref);
				for (int m = 0; m < SLOTS; m++) {
					double got = at(s, ((size_t)w * 2 * SLOTS + (size_t)q * SLOTS + m) * runs + run);
					double d = isnan(ref[m]) ? (isnan(got) ? 0 : INFINITY)
					           : fabs(got - ref[m]) / fmax(1e-3, fabs(ref[m]));
					if (d > worst)
						worst = d;
				}
			}
		}
	free(x);
	free(dx);
	return worst;
}

static int identical(const cubie_result *a, const cubie_result *b)
{
	const cubie_array *x = cubie_result_find(a, "summaries"), *y = cubie_result_find(b, "summaries");
	size_t n = x->shape[0] * x->shape[1] * x->shape[2] * (x->dtype == CUBIE_DTYPE_FLOAT32 ? 4 : 8);
	return y && !memcmp(x->shape, y->shape, sizeof x->shape) && !memcmp(x->data, y->data, n);
}

int main(void)
{
	cubie_error e = {0};
	const char *cpu[] = {"device.backend=cpu", NULL};
	cubie_result *r = solve_text(model, cpu, &e);
	if (!ok(r != NULL, "cpu: summaries of x and the observable E, 4 windows"))
		diag("%s", e.msg);
	size_t n = 0;
	const char *const *names = r ? cubie_result_names(r, "summaries", &n) : NULL;
	ok(n == 2 * SLOTS && !strcmp(names[0], "x.mean") && !strcmp(names[5], "x.extrema.max") &&
	   !strcmp(names[9], "x.peaks[1]") && !strcmp(names[SLOTS], "E.mean"),
	   "summaries are named along their axis (x.mean, x.extrema.max, x.peaks[1], E.mean)");
	double d = r ? check(r, 0) : INFINITY;
	ok(d < 1e-12, "cpu float64: every metric of every window matches the saved series (%.2e)", d);

	/* sampled at every accepted step: fixed steps of one save interval */
	const char *per_step[] = {"device.backend=cpu", "output.sample_every=0", "solve.dt=0.01", NULL};
	cubie_result *r2 = solve_text(model, per_step, &e);
	d = r2 ? check(r2, 0) : INFINITY;
	ok(d < 1e-12, "sampled at every step (one per save): the same statistics (%.2e)", d);
	cubie_result_free(r2);

	/* an FSAL method: dxdt of a state is its derivative from the step */
	const char *fsal[] = {"device.backend=cpu", "output.sample_every=0", "solve.dt=0.01",
	                      "solve.integrator=dormand_prince_54", "solve.controller=fixed", NULL};
	r2 = solve_text(model, fsal, &e);
	d = r2 ? check(r2, 1) : INFINITY;
	ok(d < 1e-12, "FSAL (dopri5): dxdt of x is v, d2xdt2 its differences; the rest as before "
	   "(%.2e)", d);
	cubie_result_free(r2);

	const char *chunked[] = {"device.backend=cpu", "memory.chunk_runs=1", NULL};
	r2 = solve_text(model, chunked, &e);
	ok(r && r2 && identical(r, r2), "one run per chunk: identical summaries");
	cubie_result_free(r2);

	const char *f32[] = {"device.backend=cpu", "solve.precision=float32", NULL};
	r2 = solve_text(model, f32, &e);
	d = r2 ? check(r2, 0) : INFINITY;
	ok(d < 2e-5, "float32: float32 accumulators match the saved series (%.2e)", d);
	cubie_result_free(r2);

	/* no saved series: the summaries alone move off the device */
	const char *only[] = {"device.backend=cpu", "output.save=none", "output.summarise=x", NULL};
	r2 = solve_text(model, only, &e);
	const cubie_array *v = r2 ? cubie_result_find(r2, "values") : NULL;
	const cubie_array *s = r2 ? cubie_result_find(r2, "summaries") : NULL;
	ok(v && v->shape[1] == 0 && s && s->shape[1] == SLOTS &&
	   at(s, 0) == at(cubie_result_find(r, "summaries"), 0),
	   "save = none: no series, the same summaries");
	cubie_result_free(r2);

	backend *b;
	if (backend_cuda_open(0, 0, &b, &e) == 0) {
		b->ops->close(b);
		const char *gpu[] = {"device.backend=cuda", NULL};
		r2 = solve_text(model, gpu, &e);
		d = r2 ? check(r2, 0) : INFINITY;
		ok(d < 1e-12, "cuda float64: every metric matches the saved series (%.2e)", d);
		cubie_result_free(r2);
	} else {
		skip("no CUDA device: summaries on the GPU not tested");
	}

	/* refusals, at the key's line */
	const char *bad[] = {"device.backend=cpu", "output.summaries=mean, peeks[2]", NULL};
	ok(!solve_text(model, bad, &e) && strstr(e.msg, "command line: [output] summaries: unknown "
	   "metric 'peeks' (did you mean 'peaks'?)"), "an unknown metric: its line, with a hint");
	const char *grid[] = {"device.backend=cpu", "output.summarise_every=0.015", NULL};
	ok(!solve_text(model, grid, &e) && strstr(e.msg, "summarise_every = 0.015 is not a whole "
	   "multiple"), "a window that is not a multiple of the save grid is refused");
	const char *unknown[] = {"device.backend=cpu", "output.summarise=x, nosuch", NULL};
	ok(!solve_text(model, unknown, &e) && strstr(e.msg, "command line: [output] summarise: "
	   "'nosuch' is neither a state nor an observable"), "an unknown variable to summarise");
	const char *none[] = {"device.backend=cpu", "output.save=none", "output.summarise=", NULL};
	ok(!solve_text(model, none, &e) && strstr(e.msg, "[output] summarise: no variable to "
	   "summarise: name some"), "nothing saved and nothing named to summarise");
	const char *csv[] = {"device.backend=cpu", "output.file=/tmp/never.csv", NULL};
	ok(!solve_text(model, csv, &e) && strstr(e.msg, "writer csv cannot hold them"),
	   "summaries with a writer that cannot hold them are refused");
	cubie_result_free(r);
	done_testing();
	return tap_exit();
}
