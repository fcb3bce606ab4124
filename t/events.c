/* [events] against analytic crossing times: the bouncing ball (reset with
 * restitution, fixed and adaptive steps), the first zero of a harmonic
 * oscillator (record), a stop event (status, final state), a spike counter
 * on FitzHugh-Nagumo over a sweep, two events in one step, the Zeno limit,
 * chunking, every writer, refusals. */
#include "config.h"
#include "internal.h"
#include "solve.h"

#include <dirent.h>
#include <sys/stat.h>

#define G 9.81

static const char *ball =
	"[model]\nstates = h, v\nparameters = e\n[equations]\ndh = v\ndv = -9.81\n"
	"[initial]\nh = 1\nv = 0\n[parameters]\ne = 0.9, 0.8, 0.75, 0.85, 0.95\n"
	"[events]\nbounce = h\nbounce.direction = down\nbounce.action = v := -e * v\n"
	"bounce.count = 6\nbounce.summaries = first, last\n"
	"[solve]\nintegrator = rk45\nduration = 2.5\natol = 1e-10\nrtol = 1e-10\n"
	"[output]\nsave_every = 0.5\n";

/* a->data[i] as double, whatever the precision */
static double el(const cubie_array *a, size_t i)
{
	return a->dtype == CUBIE_DTYPE_FLOAT32 ? ((const float *)a->data)[i]
	                                       : ((const double *)a->data)[i];
}

static int status_of(const cubie_result *r, size_t run)
{
	return ((const int32_t *)cubie_result_find(r, "status")->data)[run];
}

/* The k-th bounce (0-based) of a ball dropped from 1 m at rest. */
static double bounce_time(double e, int k)
{
	double t1 = sqrt(2 / G), t = t1, f = 1;
	for (int j = 1; j <= k; j++)
		f *= e, t += 2 * t1 * f;
	return t;
}

/* Worst |time - analytic| over runs and bounces within the duration; the
 * counts and NaN past the last one checked too. */
static double check_ball(const cubie_result *r, const double *es, size_t runs, double dur,
                         int *bad_count)
{
	const cubie_array *t = cubie_result_find(r, "events.bounce");
	const cubie_array *n = cubie_result_find(r, "events.bounce.count");
	const cubie_array *last = cubie_result_find(r, "events.bounce.last");
	const cubie_array *first = cubie_result_find(r, "events.bounce.first");
	double worst = 0;
	*bad_count = 0;
	if (!t || !n || !last || !first || t->ndim != 2 || t->shape[0] != 6 || t->shape[1] != runs)
		return INFINITY;
	for (size_t i = 0; i < runs; i++) {
		int want = 0;
		while (bounce_time(es[i], want) < dur)
			want++;
		*bad_count += (int)el(n, i) != want;
		for (int k = 0; k < 6; k++) {
			double got = el(t, (size_t)k * runs + i);
			if (k < want)
				worst = fmax(worst, fabs(got - bounce_time(es[i], k)));
			else if (!isnan(got))
				worst = INFINITY;
		}
		worst = fmax(worst, fabs(el(last, i) - bounce_time(es[i], want - 1)));
		worst = fmax(worst, fabs(el(first, i) - bounce_time(es[i], 0)));
	}
	return worst;
}

static void test_ball(void)
{
	const double es[] = {0.9, 0.8, 0.75, 0.85, 0.95};
	cubie_error e = {0};
	int bad;
	cubie_result *r = solve_text(ball, NULL, &e);
	(void)(ok(r != NULL, "bouncing ball solves (adaptive)") || diag("%s", e.msg));
	if (r) {
		double w = check_ball(r, es, 5, 2.5, &bad);
		ok(w < 1e-7, "bounce times (rk45, reset v := -e v) within 1e-7 of analytic: %.2e", w);
		is_int(bad, 0, "bounce counts, beyond the 6 kept");
		is_int(cubie_result_failed(r), 0, "no run failed");
		/* the state at the end: the height of the flight after the last bounce */
		double worst = 0;
		for (size_t i = 0; i < 5; i++) {
			int k = (int)el(cubie_result_find(r, "events.bounce.count"), i) - 1;
			double tb = bounce_time(es[i], k), v0 = sqrt(2 * G) * pow(es[i], k + 1);
			double dt = 2.5 - tb, h = v0 * dt - 0.5 * G * dt * dt;
			worst = fmax(worst, fabs(value_at(r, 5, 0, i) - h));
		}
		ok(worst < 1e-6, "final height after the bounces: %.2e", worst);
	}
	cubie_result_free(r);
	/* fixed steps: located on the step's Hermite cubic, the rest of the step
	 * integrated from the event */
	const char *fixed[] = {"solve.integrator=rk4", "solve.controller=fixed", "solve.dt=0.01", NULL};
	r = solve_text(ball, fixed, &e);
	(void)(ok(r != NULL, "bouncing ball solves (fixed steps)") || diag("%s", e.msg));
	if (r) {
		double w = check_ball(r, es, 5, 2.5, &bad);
		ok(w < 1e-7, "bounce times (rk4, dt 0.01) within 1e-7 of analytic: %.2e", w);
		is_int(bad, 0, "bounce counts (fixed)");
	}
	cubie_result_free(r);
	/* float32: times within float's reach */
	const char *f32[] = {"solve.precision=float32", "solve.atol=1e-6", "solve.rtol=1e-6", NULL};
	r = solve_text(ball, f32, &e);
	if (ok(r != NULL, "float32 solves") || diag("%s", e.msg)) {
		double w = check_ball(r, es, 5, 2.5, &bad);
		ok(w < 1e-4, "float32 bounce times within 1e-4: %.2e", w);
	}
	cubie_result_free(r);
}

/* x'' = -w^2 x from x = 1: the first zero at pi / (2 w), down; the
 * same function with the other directions as two more events. */
static const char *osc =
	"[model]\nstates = x, v\nparameters = w\n[equations]\ndx = v\ndv = -w^2 * x\n"
	"[initial]\nx = 1\nv = 0\n[parameters]\nw = linspace(0.5, 3, 37)\n"
	"[events]\nzero = x\nzero.direction = down\nzero.count = 2\n"
	"any = x\nany.count = 3\nrise = x\nrise.direction = up\n"
	"[solve]\nintegrator = rk45\nduration = 4\natol = 1e-10\nrtol = 1e-10\n"
	"[output]\nsave_every = 0.5\n";

static void test_oscillator(void)
{
	cubie_error e = {0};
	cubie_result *r = solve_text(osc, NULL, &e);
	if (!ok(r != NULL, "oscillator solves")) {
		diag("%s", e.msg);
		return;
	}
	const cubie_array *t = cubie_result_find(r, "events.zero");
	const cubie_array *n = cubie_result_find(r, "events.zero.count");
	double worst = 0;
	int counts = 1;
	for (size_t i = 0; i < 37; i++) {
		double w = 0.5 + 2.5 * (double)i / 36, t0 = M_PI / (2 * w);
		int want = 4 > t0 ? (4 > t0 + 2 * M_PI / w ? 2 : 1) : 0;
		want += 4 > t0 + 4 * M_PI / w;
		counts &= (int)el(n, i) == want;
		if (want)
			worst = fmax(worst, fabs(el(t, i) - t0));
		if (want > 1)
			worst = fmax(worst, fabs(el(t, 37 + i) - t0 - 2 * M_PI / w));
		else if (!isnan(el(t, 37 + i)))
			worst = INFINITY;
	}
	ok(worst < 1e-8, "first zeros of x'' = -w^2 x at pi/2w: %.2e", worst);
	ok(counts, "down crossings counted over the sweep");
	is_int(status_of(r, 0), 0, "record leaves the run going");
	/* both directions: zeros at pi/2w, 3 pi/2w, ... in turn */
	const cubie_array *any = cubie_result_find(r, "events.any");
	double w = 3;
	worst = 0; /* the last run */
	for (int k = 0; k < 3; k++)
		worst = fmax(worst, fabs(el(any, (size_t)k * 37 + 36) - (2 * k + 1) * M_PI / (2 * w)));
	ok(worst < 1e-8, "both: every zero in turn (%.2e)", worst);
	/* up only: the first upward zero at 3 pi / 2w */
	is_near(el(cubie_result_find(r, "events.rise"), 36), 3 * M_PI / 6, 1e-8,
	        "up: the first upward zero");
	cubie_result_free(r);
}

static void test_stop(void)
{
	cubie_error e = {0};
	const char *stop[] = {"events.zero.action=stop", NULL};
	for (int fixed = 0; fixed < 2; fixed++) {
		const char *fx[] = {"events.zero.action=stop", "solve.integrator=rk4",
		                    "solve.controller=fixed", "solve.dt=0.01", NULL};
		cubie_result *r = solve_text(osc, fixed ? fx : stop, &e);
		if (!ok(r != NULL, "stop event solves (%s)", fixed ? "fixed" : "adaptive")) {
			diag("%s", e.msg);
			continue;
		}
		const double *reached = cubie_result_find(r, "reached")->data;
		double wt = 0, wx = 0;
		int st = 1, nan_after = 1;
		for (size_t i = 0; i < 37; i++) {
			double w = 0.5 + 2.5 * (double)i / 36, t0 = M_PI / (2 * w);
			if (t0 >= 4) {
				st &= status_of(r, i) == 0;
				continue;
			}
			st &= status_of(r, i) == CUBIE_STATUS_STOPPED;
			wt = fmax(wt, fabs(reached[i] - t0));
			/* the last save holds the state at the stop: x = 0, v = -w */
			wx = fmax(wx, fmax(fabs(value_at(r, 8, 0, i)), fabs(value_at(r, 8, 1, i) + w)));
			for (size_t k = 0; k < 8; k++)
				if (0.5 * (double)k > t0)
					nan_after &= isnan(value_at(r, k, 0, i));
				else
					nan_after &= !isnan(value_at(r, k, 0, i));
		}
		ok(st, "status \"stopped by event\" (%d) where the zero comes before the end",
		   CUBIE_STATUS_STOPPED);
		ok(wt < 1e-8, "stopped at pi/2w: %.2e", wt);
		ok(wx < (fixed ? 1e-7 : 1e-8), "final state at the event: %.2e", wx);
		ok(nan_after, "saves after the stop NaN, before it values");
		is_int(cubie_result_failed(r), 0, "a stopped run is no failure");
		cubie_result_free(r);
	}
}

/* FitzHugh-Nagumo over a sweep of the current: spikes (v up through 1)
 * counted, against the crossings of a densely saved series. */
static void test_spikes(void)
{
	const char *fhn =
		"[model]\nstates = v, w\nparameters = I\n[equations]\n"
		"dv = v - v^3 / 3 - w + I\ndw = 0.08 * (v + 0.7 - 0.8 * w)\n"
		"[initial]\nv = -1.2\nw = -0.6\n[parameters]\nI = linspace(0, 1.2, 25)\n"
		"[events]\nspike = v - 1\nspike.direction = up\nspike.count = 3\n"
		"[solve]\nintegrator = rk45\nduration = 200\natol = 1e-8\nrtol = 1e-8\n"
		"[output]\nsave_every = 0.01\nsave = v\n";
	cubie_error e = {0};
	cubie_result *r = solve_text(fhn, NULL, &e);
	if (!ok(r != NULL, "FitzHugh-Nagumo sweep solves")) {
		diag("%s", e.msg);
		return;
	}
	const cubie_array *n = cubie_result_find(r, "events.spike.count");
	const cubie_array *t = cubie_result_find(r, "events.spike");
	size_t saves = cubie_result_find(r, "values")->shape[0];
	int same = 1, spiking = 0, silent = 0;
	double wt = 0;
	for (size_t i = 0; i < 25; i++) {
		int want = 0;
		for (size_t k = 1; k < saves; k++) {
			double a = value_at(r, k - 1, 0, i) - 1, b = value_at(r, k, 0, i) - 1;
			if (a < 0 && b >= 0) {
				if (want < 3) /* the crossing within the save interval */
					wt = fmax(wt, fabs(el(t, (size_t)want * 25 + i) -
					                   (0.01 * (double)(k - 1) + 0.01 * a / (a - b))));
				want++;
			}
		}
		same &= (int)el(n, i) == want;
		spiking += want > 5;
		silent += want == 0;
	}
	ok(same, "spike counts match the dense series' crossings over the sweep");
	ok(spiking > 5 && silent > 2, "the sweep spans silent and spiking runs (%d, %d)", silent,
	   spiking);
	ok(wt < 1e-4, "spike times within the save interval's linear estimate: %.2e", wt);
	cubie_result_free(r);
}

/* x' = 1 from 0 in one fixed step of 1: events in one step in time order. */
static void test_order(void)
{
	const char *line =
		"[model]\nstates = x\n[equations]\ndx = 1\n[initial]\nx = 0\n"
		"[events]\nlate = x - 0.7\nlate.direction = up\nearly = x - 0.4\n"
		"early.direction = up\nearly.action = x := 0\nearly.count = 3\n"
		"mid = x - 0.1\nmid.count = 4\n"
		"[solve]\nintegrator = rk4\ncontroller = fixed\ndt = 1\nduration = 1\n";
	cubie_error e = {0};
	cubie_result *r = solve_text(line, NULL, &e);
	if (!ok(r != NULL, "events in one step solve")) {
		diag("%s", e.msg);
		return;
	}
	const cubie_array *early = cubie_result_find(r, "events.early");
	const cubie_array *mid = cubie_result_find(r, "events.mid");
	is_int(el(cubie_result_find(r, "events.late.count"), 0), 0,
	       "a crossing after a reset in the same step is found again from the reset: none");
	is_int(el(cubie_result_find(r, "events.early.count"), 0), 2, "the reset, twice");
	ok(fabs(el(early, 0) - 0.4) < 1e-9 && fabs(el(early, 1) - 0.8) < 1e-9 && isnan(el(early, 2)),
	   "resets at 0.4 and 0.8 (%.10g, %.10g)", el(early, 0), el(early, 1));
	is_int(el(cubie_result_find(r, "events.mid.count"), 0), 3, "the record before each reset");
	ok(fabs(el(mid, 0) - 0.1) < 1e-9 && fabs(el(mid, 1) - 0.5) < 1e-9 &&
	   fabs(el(mid, 2) - 0.9) < 1e-9, "records at 0.1, 0.5, 0.9 (%.10g %.10g %.10g)", el(mid, 0),
	   el(mid, 1), el(mid, 2));
	is_near(value_at(r, 1, 0, 0), 0.2, 1e-9, "x at the end: 0.2");
	cubie_result_free(r);
	/* a stop before a record in the same step: the record never happens */
	const char *stop[] = {"events.early.action=stop", NULL};
	r = solve_text(line, stop, &e);
	if (ok(r != NULL, "stop in one step") || diag("%s", e.msg)) {
		is_int(el(cubie_result_find(r, "events.late.count"), 0), 0, "no record after the stop");
		is_int(el(cubie_result_find(r, "events.mid.count"), 0), 1, "the record before it");
		is_int(status_of(r, 0), CUBIE_STATUS_STOPPED, "stopped");
		is_near(((const double *)cubie_result_find(r, "reached")->data)[0], 0.4, 1e-9,
		        "at 0.4");
	}
	cubie_result_free(r);
}

static void test_zeno(void)
{
	/* e = 0.5: the bounces accumulate at 3 sqrt(2 / g) */
	const char *half[] = {"parameters.e=0.5", "solve.duration=3", NULL};
	cubie_error e = {0};
	for (int fixed = 0; fixed < 2; fixed++) {
		const char *fx[] = {"parameters.e=0.5", "solve.duration=3", "solve.integrator=rk4",
		                    "solve.controller=fixed", "solve.dt=0.01", NULL};
		cubie_result *r = solve_text(ball, fixed ? fx : half, &e);
		if (!ok(r != NULL, "Zeno ball solves (%s)", fixed ? "fixed" : "adaptive")) {
			diag("%s", e.msg);
			continue;
		}
		is_int(status_of(r, 0), CUBIE_STATUS_ZENO, "chattering ends as ZENO, not a hang");
		is_near(((const double *)cubie_result_find(r, "reached")->data)[0], 3 * sqrt(2 / G),
		        1e-6, "at the accumulation point");
		is_int(cubie_result_failed(r), 1, "a Zeno run is a failure");
		cubie_result_free(r);
	}
}

static void test_chunking(void)
{
	const char *one[] = {"memory.chunk_runs=2", "parameters.e=linspace(0.5, 0.95, 23)", NULL};
	const char *all[] = {"parameters.e=linspace(0.5, 0.95, 23)", NULL};
	cubie_error e = {0};
	cubie_result *a = solve_text(ball, one, &e), *b = a ? solve_text(ball, all, &e) : NULL;
	int same = a && b;
	const char *names[] = {"events.bounce", "events.bounce.count", "events.bounce.last",
	                       "events.bounce.first", "status", "reached", "values"};
	for (size_t k = 0; same && k < 7; k++) {
		const cubie_array *x = cubie_result_find(a, names[k]), *y = cubie_result_find(b, names[k]);
		size_t n = x->shape[0] * (x->ndim > 1 ? x->shape[1] : 1) * (x->ndim > 2 ? x->shape[2] : 1);
		size_t sz = x->dtype == CUBIE_DTYPE_INT32 ? 4 : x->dtype == CUBIE_DTYPE_FLOAT32 ? 4 : 8;
		same &= !memcmp(x->data, y->data, n * sz);
	}
	(void)(ok(same, "chunks of 2 runs give the same events, bit for bit") || diag("%s", e.msg));
	cubie_result_free(a);
	cubie_result_free(b);
}

static int file_has(const char *path, const char *what)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = strlen(what), got = 0, cap = 1 << 20;
	char *buf = malloc(cap);
	size_t len = buf ? fread(buf, 1, cap, f) : 0;
	fclose(f);
	for (size_t i = 0; i + n <= len && !got; i++)
		got = !memcmp(buf + i, what, n);
	free(buf);
	return (int)got;
}

/* The csv's events.bounce.count column against the analytic counts. */
static int csv_counts(const char *path, const double *es)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int col = -1, good = f != NULL, rows = 0;
	if (f && fgets(line, sizeof line, f)) {
		int c = 0;
		for (char *tok = strtok(line, ",\n"); tok; tok = strtok(NULL, ",\n"), c++)
			if (!strcmp(tok, "events.bounce.count"))
				col = c;
	}
	while (good && col >= 0 && fgets(line, sizeof line, f)) {
		int c = 0, run = atoi(line), want = 0;
		double got = NAN;
		for (char *tok = strtok(line, ",\n"); tok; tok = strtok(NULL, ",\n"), c++)
			if (c == col)
				got = atof(tok);
		while (bounce_time(es[run], want) < 2.5)
			want++;
		good &= got == want;
		rows++;
	}
	if (f)
		fclose(f);
	return good && col >= 0 && rows == 5 * 6;
}

static void test_writers(void)
{
	static const char *const ext[] = {"npz", "csv", "npy", "h5"};
	for (int w = 0; w < 4; w++) {
		char dir[] = "/tmp/cubie-events-XXXXXX";
		if (!mkdtemp(dir)) {
			ok(0, "temporary directory");
			continue;
		}
		char *path = cb_printf("%s/out.%s", dir, ext[w]), *o = cb_printf("output.file=%s", path);
		/* streamed in chunks of 2 runs */
		const char *ov[] = {o, "memory.chunk_runs=2", NULL};
		char *ini = write_tmp("events", ball);
		cubie_config *c = NULL;
		cubie_solver *s = NULL;
		cubie_error e = {0};
		int rc = cubie_config_load(ini, &c, &e);
		for (int k = 0; !rc && ov[k]; k++)
			rc = cubie_config_set(c, ov[k], &e);
		if (!rc)
			rc = cubie_solver_create(c, &s, &e);
		if (rc && w == 3 && strstr(e.msg, "h5")) {
			skip("no hdf5 writer in this build");
		} else if (ok(!rc && !cubie_solve_write(s, NULL, NULL, &e), "writer %s", ext[w]) ||
		           diag("%s", e.msg)) {
			int has;
			if (w == 2) {
				char *f1 = cb_printf("%s/events.bounce.npy", path);
				char *f2 = cb_printf("%s/events.bounce.count.npy", path);
				struct stat st;
				has = !stat(f1, &st) && !stat(f2, &st);
				free(f1), free(f2);
			} else if (w == 1) {
				has = file_has(path, "events.bounce[5],events.bounce.count") &&
				      file_has(path, "events.bounce.first,events.bounce.last");
			} else {
				has = file_has(path, "events.bounce") && file_has(path, "events.bounce.count");
			}
			ok(has, "%s carries events.bounce and events.bounce.count", ext[w]);
			if (w == 1) {
				const double es[] = {0.9, 0.8, 0.75, 0.85, 0.95};
				ok(csv_counts(path, es), "csv streamed in chunks of 2 runs: every run's count");
			}
		}
		cubie_solver_free(s);
		cubie_config_free(c);
		unlink(ini);
		free(ini);
		char *rm = cb_printf("rm -rf '%s'", dir);
		if (system(rm)) {
		}
		free(rm), free(o), free(path);
	}
}

/* ball with one override, or (set NULL) with extra text appended */
static void refused(const char *set, const char *extra, const char *want, const char *what)
{
	char *ini = cb_printf("%s%s", ball, extra ? extra : "");
	const char *ov[] = {set, NULL};
	cubie_error e = {0};
	cubie_result *r = solve_text(ini, set ? ov : NULL, &e);
	ok(!r && e.code == CUBIE_ERR_CONFIG, "refused: %s", what);
	like(e.msg, want, "... with: %s", want);
	cubie_result_free(r);
	free(ini);
}

static void test_refusals(void)
{
	refused(NULL, "[events]\nhit = hh\n", ":26: unknown name 'hh' in event hit (did you mean 'h'?)",
	        "an unknown name, at its line");
	refused("events.bounce.direction=sideways", NULL, "expected up, down or both",
	        "a bad direction");
	refused("events.bounce.action=e := 1", NULL, "'e' is not a state", "a reset of a parameter");
	refused("events.bounce.action=bounce", NULL, "expected record, stop, or a reset",
	        "an unknown action");
	refused("events.bonce.count=3", NULL, "no event 'bonce'", "a key of no event");
	refused("events.bounce.cont=3", NULL, "did you mean 'count'", "an unknown key, with a hint");
	refused("events.bounce.count=0", NULL, "from 1 to 1000000", "count 0");
	refused("events.tolerance=-1", NULL, "tolerance must be positive", "a negative tolerance");
	refused("events.bounce.action=v := (1", NULL, "syntax error", "a syntax error in a reset");
}

/* The kernel with events through NVRTC, where NVRTC is (no GPU needed). */
static void test_nvrtc(void)
{
	const char *inis[] = {ball, osc};
	for (int k = 0; k < 2; k++) {
		char *p = write_tmp("events", inis[k]);
		cubie_config *c = NULL;
		cubie_error e = {0};
		char *report = NULL;
		if (!cubie_config_load(p, &c, &e))
			report = cubie_compile_check(c, "sm_80", &e);
		if (!report && (strstr(e.msg, "NVRTC") || strstr(e.msg, "nvrtc")))
			skip("no NVRTC here");
		else
			(void)(ok(report != NULL, "NVRTC compiles the %s kernel with events",
			          k ? "oscillator" : "bouncing ball") || diag("%s", e.msg));
		free(report);
		cubie_config_free(c);
		unlink(p);
		free(p);
	}
}

/* GPU against CPU (in the style of t/cuda.c; skipped without a GPU):
 * the same crossings, counts and statuses. Times agree to the tolerances:
 * fused multiply-adds on the GPU move the steps by rounding. At most
 * `edge` runs may end otherwise (a run on the edge of Zeno's limit: one
 * reset's rounding decides it); the rest are compared. */
static void gpu_vs_cpu(const char *ini, const char *const *set, const char *what, double tol,
                       size_t edge)
{
	const char *ov[8];
	size_t n = 0;
	for (; set && set[n] && n < 6; n++)
		ov[n] = set[n];
	ov[n] = "device.backend=cpu", ov[n + 1] = NULL;
	cubie_error e = {0};
	cubie_result *a = solve_text(ini, ov, &e);
	ov[n] = "device.backend=cuda";
	cubie_result *b = a ? solve_text(ini, ov, &e) : NULL;
	if (!ok(a && b, "%s: solves on both backends", what)) {
		diag("%s", e.msg);
		cubie_result_free(a);
		cubie_result_free(b);
		return;
	}
	double worst = 0;
	int same = 1;
	/* the runs that ended otherwise: status or a count differs */
	const cubie_array *sa = cubie_result_find(a, "status"), *sb = cubie_result_find(b, "status");
	const size_t runs = sa->shape[0];
	char *off = calloc(runs, 1);
	size_t n_off = 0;
	for (size_t i = 0; i < cubie_result_count(a); i++) {
		const cubie_array *x = cubie_result_array(a, i), *y = cubie_result_find(b, x->name);
		int is_count = strlen(x->name) > 6 && !strcmp(x->name + strlen(x->name) - 6, ".count");
		if (!y || (!is_count && x != sa))
			continue;
		for (size_t r = 0; r < runs; r++)
			off[r] |= x == sa ? ((const int32_t *)sa->data)[r] != ((const int32_t *)sb->data)[r]
			                  : el(x, r) != el(y, r);
	}
	for (size_t r = 0; r < runs; r++)
		n_off += off[r];
	if (n_off)
		diag("%s: %zu of %zu runs end otherwise on the two backends", what, n_off, runs);
	same &= n_off <= edge;
	for (size_t i = 0; i < cubie_result_count(a); i++) {
		const cubie_array *x = cubie_result_array(a, i);
		const cubie_array *y = cubie_result_find(b, x->name);
		if (strncmp(x->name, "events.", 7) && strcmp(x->name, "status"))
			continue;
		size_t m = x->shape[0] * (x->ndim > 1 ? x->shape[1] : 1);
		same &= y && y->shape[0] == x->shape[0];
		for (size_t j = 0; same && j < m; j++) {
			if (off[j % runs])
				continue;
			if (x->dtype == CUBIE_DTYPE_INT32) {
				same &= ((const int32_t *)x->data)[j] == ((const int32_t *)y->data)[j];
				continue;
			}
			double u = el(x, j), v = el(y, j);
			same &= isnan(u) == isnan(v);
			if (!isnan(u))
				worst = fmax(worst, fabs(u - v));
		}
	}
	ok(same && worst <= tol, "%s: cuda = cpu (statuses, counts; times to %.2e)", what, worst);
	free(off);
	cubie_result_free(a);
	cubie_result_free(b);
}

static void test_gpu(void)
{
	backend *b;
	cubie_error e = {0};
	if (backend_cuda_open(0, 0, &b, &e)) {
		skip("no CUDA device: events on the GPU not compared");
		return;
	}
	b->ops->close(b);
	const char *fixed[] = {"solve.integrator=rk4", "solve.controller=fixed", "solve.dt=0.01", NULL};
	const char *f32[] = {"solve.precision=float32", "solve.atol=1e-6", "solve.rtol=1e-6", NULL};
	const char *zeno[] = {"parameters.e=linspace(0.3, 0.95, 1000)", "solve.duration=3", NULL};
	const char *stop[] = {"events.zero.action=stop", NULL};
	gpu_vs_cpu(ball, NULL, "bouncing ball, rk45", 1e-8, 0);
	gpu_vs_cpu(ball, fixed, "bouncing ball, rk4 fixed", 1e-9, 0);
	gpu_vs_cpu(ball, f32, "bouncing ball, float32", 1e-4, 0);
	gpu_vs_cpu(ball, zeno, "1000 balls, Zeno and not", 1e-6, 10);
	gpu_vs_cpu(osc, NULL, "oscillator zeros, three directions", 1e-8, 0);
	gpu_vs_cpu(osc, stop, "oscillator stop", 1e-8, 0);
}

int main(void)
{
	test_ball();
	test_oscillator();
	test_stop();
	test_spikes();
	test_order();
	test_zeno();
	test_chunking();
	test_writers();
	test_refusals();
	test_nvrtc();
	test_gpu();
	done_testing();
	return tap_exit();
}
