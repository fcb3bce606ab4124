/* The per-run loop and the entry points of both backends. Each run is
 * integrated with the integrator's cubie_step: from t0 - settle to t0
 * unsaved, then to t0 + duration over the ticks of the time grid, saving
 * the model's saved variables and the summaries' windows on their ticks.
 * Steps are cut to land exactly on each tick; time is kept in double
 * whatever the precision, everything else in the working precision.
 *
 * The loop is written per lane (lanes.h): a GPU thread is one run (W = 1),
 * an OpenMP iteration on the cpu backend a block of W runs in SIMD lanes.
 * cubie_step stays a per-run scalar function: each lane calls it on its
 * own column of the block.
 *
 * Composed of one-job headers: store.h (saving), fixed.h or adaptive.h
 * (cubie_advance: the steps between two ticks of the time grid; control.h
 * is the adaptive one's controller), summaries.h. The core defines
 * beforehand:
 *   CUBIE_CONTROLLER  0 fixed, 1 i, 2 pi, 3 pid, 4 gustafsson
 *   CUBIE_MAX_STEPS and, when adaptive, what adaptive.h lists.
 * An integrator whose step can fail defines CUBIE_STEP_STATUS 1; its
 * cubie_step then returns 0 or a CUBIE_STATUS_* bit. */
#ifndef CUBIE_DEVICE_LOOP_H
#define CUBIE_DEVICE_LOOP_H

#define CUBIE_NP_ (CUBIE_NPARAMS > 0 ? CUBIE_NPARAMS : 1)
#ifndef CUBIE_FSAL
#define CUBIE_FSAL 0
#endif
#ifndef CUBIE_STEP_STATUS
#define CUBIE_STEP_STATUS 0
#endif
#ifndef CUBIE_AUTO_DT
#define CUBIE_AUTO_DT 0
#endif

#ifndef CUBIE_NSUMVARS
#define CUBIE_NSUMVARS 0
#endif
#if CUBIE_NSUMVARS
#include <cubie/device/summaries.h>
#endif
/* Summary samples at every accepted step, unless taken on the grid. */
#if CUBIE_NSUMVARS && !CUBIE_SAMPLE_TICKS
#define CUBIE_SAMPLE_STEPS 1
#else
#define CUBIE_SAMPLE_STEPS 0
#endif
/* f0 outlives a step: reused after a rejection, or the FSAL stage */
#define CUBIE_KEEP_F0 (CUBIE_FSAL || CUBIE_CONTROLLER != 0)

/* Everything a block of runs carries from one interval to the next,
 * [.][lane]. f0_ok is the block's: every lane's f0 holds f(t, y). */
struct cubie_lanes {
	cubie_real y[CUBIE_NSTATES][CUBIE_W], p[CUBIE_NP_][CUBIE_W];
#if CUBIE_KEEP_F0
	cubie_real f0[CUBIE_NSTATES][CUBIE_W];
#endif
	int f0_ok;
	int status[CUBIE_W], accepted[CUBIE_W], rejections[CUBIE_W];
	double reached[CUBIE_W]; /* where a failed run stopped (its end otherwise) */
#if CUBIE_NSUMVARS
	struct cubie_sums sums[CUBIE_W];
#endif
#if CUBIE_CONTROLLER != 0
	cubie_real h[CUBIE_W];                /* next step */
	cubie_real le1[CUBIE_W], le2[CUBIE_W]; /* log2 error norms of the last two accepted steps */
	cubie_real h_prev[CUBIE_W];           /* the last accepted step */
	cubie_real gain_cap[CUBIE_W];         /* the largest gain: 1 after a rejection */
#endif
#if CUBIE_EVENTS /* events.h */
	cubie_real ev_g[CUBIE_NEVENTS][CUBIE_W];  /* event functions at the reference point */
	cubie_real ev_gp[CUBIE_NEVENTS][CUBIE_W]; /* ... at the last step's start */
	cubie_real ev_y0[CUBIE_NSTATES][CUBIE_W]; /* a flagged step: its start */
	cubie_real ev_ys[CUBIE_NSTATES][CUBIE_W]; /* a stopped run's state at the stop */
	double ev_t0[CUBIE_W], ev_t1[CUBIE_W];
	double ev_last[CUBIE_NEVENTS][CUBIE_W], ev_prev[CUBIE_W];
	int ev_n[CUBIE_NEVENTS][CUBIE_W], ev_hit[CUBIE_W], ev_chatter[CUBIE_W];
	int ev_on;
	long long i0;
#endif
};

/* Lane l's states and parameters, as one run's arrays. */
CUBIE_DEV void cubie_lane_load(const struct cubie_lanes *b, int l, cubie_real *y, cubie_real *p)
{
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		y[j] = b->y[j][l];
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NPARAMS; j++)
		p[j] = b->p[j][l];
}

/* One attempt of lane l from (t, its y) with step h: the integrator's
 * per-run step on the lane's column. f0_ok: the block's (a constant where
 * the caller took the branch outside the lane loop, see CUBIE_SHARED). f0
 * is written back (it holds f(t, y) afterwards unless the step failed);
 * f1, the FSAL stage, is returned for the caller to keep if the step is
 * accepted. */
CUBIE_DEV int cubie_lane_step(struct cubie_lanes *b, int l, double t, cubie_real h, int f0_ok,
                              cubie_real *y_new, cubie_real *err, cubie_real *f1)
{
	cubie_real y[CUBIE_NSTATES], p[CUBIE_NP_], f0[CUBIE_NSTATES];
	cubie_lane_load(b, l, y, p);
#if CUBIE_KEEP_F0
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		f0[j] = b->f0[j][l];
#endif
#if CUBIE_STEP_STATUS
	const int fail = cubie_step(t, h, y, p, y_new, err, f0, f1, f0_ok);
#else
	const int fail = 0;
	cubie_step(t, h, y, p, y_new, err, f0, f1, f0_ok);
#endif
#if CUBIE_KEEP_F0
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		b->f0[j][l] = f0[j];
#endif
	return fail;
}

/* A lane loop over a condition the lanes share, such as f0_ok, as two
 * loops behind one branch, the condition a constant v in each: tested
 * inside the lane loop, it is computed both ways in every lane (here a
 * second evaluation of f(t, y) per step). The GPU, one lane, branches
 * anyway: one loop, no second copy of the step. */
#if CUBIE_W > 1
#define CUBIE_SHARED(cond, v, l, call)              \
	do {                                        \
		if (cond) {                         \
			const int v = 1;            \
			CUBIE_LANES(l) call;        \
		} else {                            \
			const int v = 0;            \
			CUBIE_LANES(l) call;        \
		}                                   \
	} while (0)
#else
#define CUBIE_SHARED(cond, v, l, call)              \
	do {                                        \
		const int v = (cond);               \
		CUBIE_LANES(l) call;                \
	} while (0)
#endif

/* Accept (or, where take is 0, leave) lane l's new state. */
CUBIE_DEV void cubie_lane_accept(struct cubie_lanes *b, int l, int take, const cubie_real *y_new,
                                 const cubie_real *f1)
{
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		b->y[j][l] = take ? y_new[j] : b->y[j][l];
#if CUBIE_FSAL
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		b->f0[j][l] = take ? f1[j] : b->f0[j][l];
#else
	(void)f1;
#endif
}

#if CUBIE_NSUMVARS
/* The summarised variables of lane l at its time t[l] into x[.][l] (a
 * function per lane, see cubie_fixed_lane). */
CUBIE_DEV void cubie_summarised_lane(const struct cubie_lanes *b, int l, const double *t,
                                     cubie_real (*x)[CUBIE_W])
{
	cubie_real y[CUBIE_NSTATES], p[CUBIE_NP_], v[CUBIE_NV_];
	cubie_lane_load(b, l, y, p);
	cubie_summarised(t[l], y, p, v);
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NV_; j++)
		x[j][l] = v[j];
}

/* A summary sample of the lanes that take it, each at its t[l]. The
 * values come from a lane loop like the store's, so that they are the
 * saved values' arithmetic to the bit (contracted into fused multiply-adds
 * alike); the accumulation, into a struct per lane, apart, in a loop that
 * need not vectorize. */
CUBIE_DEV void cubie_sample(struct cubie_lanes *b, const double *t, const int *take)
{
	cubie_real x[CUBIE_NV_][CUBIE_W];
	CUBIE_LANES(l)
		cubie_summarised_lane(b, l, t, x);
	for (int l = 0; l < CUBIE_W; l++) {
		cubie_real v[CUBIE_NV_], f[CUBIE_NSTATES];
		CUBIE_UNROLL
		for (int j = 0; j < CUBIE_NV_; j++)
			v[j] = x[j][l];
		CUBIE_UNROLL
		for (int j = 0; j < CUBIE_NSTATES; j++)
#ifdef CUBIE_S_EXACT /* FSAL: f0 holds f(t, y) */
			f[j] = b->f0[j][l];
#else
			f[j] = 0;
#endif
		if (take[l])
			cubie_sums_add(&b->sums[l], t[l], v, f);
	}
}

/* ... at the same time t for every lane, those still running (or all) */
CUBIE_DEV void cubie_sample_at(struct cubie_lanes *b, double t, int all)
{
	double ts[CUBIE_W];
	int take[CUBIE_W];
	for (int l = 0; l < CUBIE_W; l++) {
		ts[l] = t;
		take[l] = all || !b->status[l];
	}
	cubie_sample(b, ts, take);
}

/* Lane l's window of summaries out, and a new one begun. */
CUBIE_DEV void cubie_window_lane(const struct cubie_args *a, struct cubie_lanes *b, long long i0,
                                 int l, int window)
{
	if (CUBIE_W == 1 || i0 + l < a->n)
#if CUBIE_EVENTS /* a stopped run's windows after the stop are empty, so NaN */
		cubie_sums_write(&b->sums[l], (cubie_real *)a->sums, a->stride, i0 + l, window,
		                 CUBIE_STATUS_FAILED(b->status[l]) != 0);
#else
		cubie_sums_write(&b->sums[l], (cubie_real *)a->sums, a->stride, i0 + l, window,
		                 b->status[l] != CUBIE_STATUS_SUCCESS);
#endif
	cubie_sums_reset(&b->sums[l]);
}
#endif

#if CUBIE_KEEP_F0
/* f(t, y) of lane l into its f0. */
CUBIE_DEV void cubie_f0_lane(struct cubie_lanes *b, int l, double t)
{
	cubie_real y[CUBIE_NSTATES], p[CUBIE_NP_], f0[CUBIE_NSTATES];
	cubie_lane_load(b, l, y, p);
	cubie_rhs(t, y, p, f0);
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		b->f0[j][l] = f0[j];
}

/* Every lane's f0 made f(t, y), unless it holds that already. */
CUBIE_DEV void cubie_f0_valid(struct cubie_lanes *b, double t)
{
	if (!b->f0_ok) {
		CUBIE_LANES(l)
			cubie_f0_lane(b, l, t);
		b->f0_ok = 1;
	}
}
#endif

#if CUBIE_EVENTS
#include <cubie/device/events.h>
#endif
#include <cubie/device/store.h>
#ifndef CUBIE_SPANS
#define CUBIE_SPANS 0
#endif
#if CUBIE_SPANS
#include <cubie/device/span.h>
#endif
#if CUBIE_CONTROLLER == 0
#include <cubie/device/fixed.h>
#else
#include <cubie/device/adaptive.h>
#endif

/* Lane l's run from the inputs: run i0 + l (the last one past n). */
CUBIE_DEV void cubie_init_lane(const struct cubie_args *a, struct cubie_lanes *b, long long i0,
                               int l, double t_first)
{
	const cubie_real *y0 = (const cubie_real *)a->y0;
	const cubie_real *pp = (const cubie_real *)a->params;
	const long long i = CUBIE_LANE_RUN(a, i0, l);
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		b->y[j][l] = y0[j * a->stride + i];
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NPARAMS; j++)
		b->p[j][l] = pp[j * a->stride + i];
	b->status[l] = CUBIE_STATUS_SUCCESS;
	b->accepted[l] = b->rejections[l] = 0;
	b->reached[l] = t_first;
#if CUBIE_CONTROLLER != 0
	b->h[l] = CUBIE_R(a->dt);
	b->le1[l] = b->le2[l] = 0;
	b->h_prev[l] = 0;
	b->gain_cap[l] = CUBIE_R(CUBIE_MAX_GAIN);
#if CUBIE_AUTO_DT
	{
		cubie_real y[CUBIE_NSTATES], p[CUBIE_NP_], f0[CUBIE_NSTATES];
		cubie_lane_load(b, l, y, p);
		b->h[l] = cubie_first_step(t_first, y, p, f0);
		CUBIE_UNROLL
		for (int j = 0; j < CUBIE_NSTATES; j++)
			b->f0[j][l] = f0[j];
	}
#endif
#endif
}

/* The runs at t0, once settled: checked, the first save, events armed,
 * summaries begun. */
CUBIE_DEV void cubie_begin(const struct cubie_args *a, struct cubie_lanes *b, long long i0,
                           double t0)
{
	cubie_check(b);
#if CUBIE_EVENTS
	cubie_ev_start(a, b, t0);
#endif
	cubie_store(a, b, i0, 0, t0);
#if CUBIE_NSUMVARS
	for (int l = 0; l < CUBIE_W; l++)
		cubie_sums_init(&b->sums[l]);
#ifdef CUBIE_S_EXACT
	cubie_f0_valid(b, t0); /* for the exact derivatives; the first step reuses it */
#endif
	cubie_sample_at(b, t0, 1);
#endif
}

/* Runs i0 .. i0 + W - 1 (those below n). */
CUBIE_DEV void cubie_run(const struct cubie_args *a, long long i0)
{
	struct cubie_lanes b;
#if CUBIE_SPANS /* the run's own span (span.h) */
	const double t0 = a->spans[i0], duration = a->spans[a->stride + i0],
		     settle = a->spans[2 * a->stride + i0];
	const int n_ticks = cubie_span_ticks(a, duration);
#else
	const double t0 = a->t0, duration = a->duration, settle = a->settle;
	const int n_ticks = a->n_ticks;
#endif
	const double t_first = settle > 0 ? t0 - settle : t0;
	CUBIE_LANES(l)
		cubie_init_lane(a, &b, i0, l, t_first);
	b.f0_ok = CUBIE_CONTROLLER != 0 && CUBIE_AUTO_DT; /* the first step's f(t, y) */
#if CUBIE_EVENTS
	cubie_ev_init(&b, i0);
#endif

	/* States are checked for NaN and infinity at the save times only: a
	 * run that went bad in between carries NaN to the next one. A failed
	 * lane is not advanced (adaptive) or advances unseen (fixed: its
	 * values are never saved, its counts and time no longer move). */
	if (!(settle > 0))
		cubie_begin(a, &b, i0, t0);
	/* ticks to the next save, sample and window: countdowns, not a modulo
	 * per tick (an integer division is dear on a GPU) */
	int save = 1, to_save = a->save_ticks;
#if CUBIE_NSUMVARS
	int to_sample = a->sample_ticks, to_window = a->window_ticks, window = 0;
#endif
	/* Tick k is [t0 + (k - 1) tick, t0 + k tick]; k = 0 is the settling
	 * interval [t0 - settle, t0]. One loop, so that the steps' code (most
	 * of the kernel) is there once: NVRTC takes twice as long over two. */
	for (int k = settle > 0 ? 0 : 1; k <= n_ticks; k++) {
		const double t_start = k == 0 ? t0 - settle : t0 + (double)(k - 1) * a->tick;
		const double t_end = k == 0 ? t0 : k == n_ticks ? t0 + duration : t0 + (double)k * a->tick;
		cubie_advance(a, &b, t_start, t_end);
		if (k == 0) {
			cubie_begin(a, &b, i0, t0);
			continue;
		}
		const int last = k == n_ticks, saves = --to_save == 0 || last;
#if CUBIE_NSUMVARS
		const int ends_window = --to_window == 0 || last;
#else
		const int ends_window = 0;
#endif
		if (saves || ends_window) /* what is written is checked, nothing else */
			cubie_check(&b);
#if CUBIE_NSUMVARS && CUBIE_SAMPLE_TICKS
		if (--to_sample == 0 || last) {
			cubie_sample_at(&b, t_end, 0);
			to_sample = a->sample_ticks;
		}
#endif
		if (saves) {
			cubie_store(a, &b, i0, save++, t_end);
			to_save = a->save_ticks;
		}
#if CUBIE_NSUMVARS
		if (ends_window) {
			for (int l = 0; l < CUBIE_W; l++)
				cubie_window_lane(a, &b, i0, l, window);
			window++;
			to_window = a->window_ticks;
		}
#endif
	}
#if CUBIE_SPANS && CUBIE_NSUMVARS
	cubie_span_pad(a, &b, i0, save, window);
#elif CUBIE_SPANS
	cubie_span_pad(a, &b, i0, save, 0);
#endif
#if CUBIE_EVENTS
	cubie_ev_finish(a, &b);
#endif
	CUBIE_LANES(l) {
		if (CUBIE_W == 1 || i0 + l < a->n) {
			a->status[i0 + l] = b.status[l];
			if (CUBIE_STATUS_FAILED(b.status[l]) && a->failed)
				CUBIE_COUNT(a->failed);
			a->reached[i0 + l] = b.reached[l];
			if (a->steps) {
				a->steps[i0 + l] = b.accepted[l];
				a->steps[a->stride + i0 + l] = b.rejections[l];
			}
		}
	}
}

#ifndef CUBIE_DRIVERS_BIND
#define CUBIE_DRIVERS_BIND(a) ((void)0)
#endif
#if defined(__CUDACC__)
extern "C" __global__ void cubie_kernel(const struct cubie_args a)
{
	CUBIE_DRIVERS_BIND(a);
	const long long i = a.begin + (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < a.n)
		cubie_run(&a, i);
}
#else
void cubie_cpu_solve(const struct cubie_args *a);
void cubie_cpu_solve(const struct cubie_args *a)
{
	/* this launch: runs [begin, n) */
	const long long blocks = (a->n - a->begin + CUBIE_W - 1) / CUBIE_W;
#ifdef CUBIE_THREADS
#pragma omp parallel for schedule(dynamic, 1) num_threads(CUBIE_THREADS)
#else
#pragma omp parallel for schedule(dynamic, 1)
#endif
	for (long long k = 0; k < blocks; k++) {
		CUBIE_DRIVERS_BIND(*a);
		cubie_run(a, a->begin + k * CUBIE_W);
	}
}
#endif
#include <cubie/device/sweep.h>
#endif
