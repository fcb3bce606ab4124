/* Adaptive steps from t_start to exactly t_end, under the controller of
 * control.h. A non-finite error rejects the step like a large one; only
 * when that drives h below dt_min does the run end, as NONFINITE.
 * Compiled-in: CUBIE_DT_MIN, CUBIE_DT_MAX (0: none), CUBIE_MAX_STEPS.
 *
 * Lanes diverge: each has its own t, h and controller memory, and the
 * block attempts a step while any lane is still short of t_end. Every lane
 * computes every attempt (in SIMD that costs nothing extra), and a lane
 * that is done or failed simply keeps its values: every update below is a
 * select on `go`, this attempt counts for the lane. The per-run outcome is
 * the one of a loop over that run alone. */
#ifndef CUBIE_DEVICE_ADAPTIVE_H
#define CUBIE_DEVICE_ADAPTIVE_H
#include <cubie/device/control.h>

/* An FSAL step that cannot fail leaves f(t, y) in f0 after every attempt
 * (events may move y, so not with events). */
#if CUBIE_FSAL && !CUBIE_STEP_STATUS && !CUBIE_EVENTS
#define CUBIE_F0_KEPT 1
#else
#define CUBIE_F0_KEPT 0
#endif

/* The time after a run's last step is exactly t_end where anything reads
 * it inside the loop (events, samples, the cpu's finished lanes, which go
 * on computing); one GPU lane leaves the loop then, and cubie_advance
 * sets the time reached after it: no select per step. */
#if CUBIE_W > 1 || CUBIE_EVENTS || CUBIE_SAMPLE_STEPS
#define CUBIE_T_EXACT 1
#else
#define CUBIE_T_EXACT 0
#endif

/* What an attempt of lane l leaves behind, once its error sum is known:
 * the controller's next step, the counts, the state and the flags (see
 * cubie_adaptive_lane). go: the attempt counts; ok: it is accepted; stop:
 * why it cannot count (MAX_STEPS, DT_MIN) or 0. */
CUBIE_DEV void cubie_adaptive_commit(struct cubie_lanes *b, int l, double t_end, double *t,
                                     int *act, int *f0_ok, int *took, const cubie_real *y,
                                     const cubie_real *y_new, const cubie_real *f1, cubie_real h,
                                     double hd, int last, cubie_real sum, int go, int ok, int fail,
                                     int stop)
{
	const int take = go & ok;
	const cubie_real le = cubie_log2_norm(sum);
	/* rejected, failed or not finite: a smaller step, or the end */
	const int finite = !fail & (sum < CUBIE_R(1e30));
	const cubie_real gain = cubie_gain(le, h, ok, b->le1[l], b->le2[l], b->h_prev[l],
	                                   b->gain_cap[l]);
	const cubie_real h_next = h * ((ok | finite) ? gain : CUBIE_R(CUBIE_MIN_GAIN));
	/* the end of a run whose step cannot shrink further: computed on
	 * rejections only (a branch on the GPU, a select on the CPU) */
	int ends = 0;
	if (!ok) {
		const int stuck = (h_next < CUBIE_R(CUBIE_DT_MIN)) | (t[l] + (double)h_next == t[l]);
		ends = !stuck ? 0 : fail ? fail : finite ? CUBIE_STATUS_DT_MIN : CUBIE_STATUS_NONFINITE;
	}
	const int status = stop ? stop : ends;
	/* accepted: a cut last step says little about the next */
	b->h[l] = !go ? b->h[l] : (ok & last) && h_next < b->h[l] ? b->h[l] : h_next;
	b->rejections[l] += go & !ok;
	b->accepted[l] += take;
#if CUBIE_CONTROLLER == 3
	b->le2[l] = take ? b->le1[l] : b->le2[l];
#endif
	b->le1[l] = take ? le : b->le1[l];
#if CUBIE_CONTROLLER == 4
	b->h_prev[l] = take ? h : b->h_prev[l];
#endif
	/* no growth right after a rejection */
	b->gain_cap[l] = !go ? b->gain_cap[l] : ok ? CUBIE_R(CUBIE_MAX_GAIN) : CUBIE_R(1);
	cubie_lane_accept(b, l, take, y_new, f1);
	const double t_next = last && CUBIE_T_EXACT ? t_end : t[l] + hd;
#if CUBIE_EVENTS
	CUBIE_UNROLL /* the step's start (b->y has moved) */
	for (int j = 0; j < CUBIE_NSTATES; j++)
		b->ev_y0[j][l] = y[j];
	cubie_ev_detect_lane(b, l, take, t_next);
#else
	(void)y;
#endif
	t[l] = take ? t_next : t[l];
	/* An active lane's status is 0 (act is cleared wherever a status is
	 * set), so these are no-ops on the GPU's fast path (status = 0). go
	 * implies act: spelt out for that path too. A failure stops at the
	 * attempt's start; a lane that ends well gets its time reached from
	 * cubie_advance. */
	const int was_act = go | act[l];
	/* &, not &&: a branch leaves GCC's lane loop scalar (t/vectorize.sh) */
	b->reached[l] = was_act & (status != 0) ? t[l] : b->reached[l];
	took[l] = take;
	b->status[l] |= was_act ? status : 0;
	act[l] = go & !(ok & last) & !ends;
	/* the step stored f(t, y) in f0 unless it failed; an accepted step
	 * moved y, and only FSAL knows f there */
	f0_ok[l] = !fail & (!take | CUBIE_FSAL);
}

/* One attempt of lane l (a function per lane: see cubie_fixed_lane). t,
 * act: the lanes' times and whether they are still short of t_end;
 * f0_ok: whether the lane's f0 holds f(t, y) after the attempt. */
CUBIE_DEV void cubie_adaptive_lane(struct cubie_lanes *b, int l, double t_end, double *t, int *act,
                                   int f0_was_ok, int *f0_ok, int *took)
{
	/* flags are 0/1 ints combined with & and |: branch-free, so that the
	 * lane loop vectorizes (the GPU, one lane, branches once, below) */
	cubie_real y_new[CUBIE_NSTATES], err[CUBIE_NSTATES], f1[CUBIE_NSTATES], y[CUBIE_NSTATES];
	cubie_real h = b->h[l];
	if (CUBIE_DT_MAX > 0)
		h = h > CUBIE_R(CUBIE_DT_MAX) ? CUBIE_R(CUBIE_DT_MAX) : h;
	/* land on t_end; stretch a step that would leave a sliver (tested in
	 * the working precision: double compares cost the GPU more) */
	const cubie_real h_end = CUBIE_R(t_end - t[l]);
	const int last = CUBIE_R(1.0001) * h >= h_end;
	const int over = b->accepted[l] + b->rejections[l] >= CUBIE_MAX_STEPS;
	const int tiny = !last & (h < CUBIE_R(CUBIE_DT_MIN));
	h = last ? h_end : h;
	const double hd = (double)h;
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		y[j] = b->y[j][l];
	const int fail = cubie_lane_step(b, l, t[l], h, f0_was_ok, y_new, err, f1);
	const cubie_real sum = fail ? CUBIE_R(0) : cubie_norm2(y, y_new, err);
	const int ok = !fail & (sum <= CUBIE_R(1)); /* 0 when not finite */
#if CUBIE_W == 1
	/* The GPU's common case, an accepted attempt that counts, as a branch
	 * of its own: the same commit with go and ok known, which leaves most
	 * of its selects out (an SIMD lane loop takes one path for all). One
	 * lane is attempted only while active (cubie_advance's loop). */
	if (ok && !over && !tiny) {
		cubie_adaptive_commit(b, l, t_end, t, act, f0_ok, took, y, y_new, f1, h, hd, last, sum,
		                      1, 1, 0, 0);
		return;
	}
#endif
	const int stop = over ? CUBIE_STATUS_MAX_STEPS : tiny ? CUBIE_STATUS_DT_MIN : 0;
	const int go = act[l] & !stop; /* this attempt counts */
	cubie_adaptive_commit(b, l, t_end, t, act, f0_ok, took, y, y_new, f1, h, hd, last, sum, go,
	                      ok, fail, stop);
}

CUBIE_DEV void cubie_advance(const struct cubie_args *a, struct cubie_lanes *b, double t_start,
                             double t_end)
{
	double t[CUBIE_W];
	int act[CUBIE_W], any = 0;
	for (int l = 0; l < CUBIE_W; l++) {
		t[l] = t_start;
		act[l] = !b->status[l] && t_start < t_end;
		any |= act[l];
	}
	/* f0 made valid once here is known in the loop, with no test per
	 * attempt (CUBIE_F0_KEPT) */
#if CUBIE_F0_KEPT
	if (any)
		cubie_f0_valid(b, t_start);
#endif
	/* unrolled on the GPU by precision (prelude.h) */
	CUBIE_UNROLL_ATTEMPTS
	while (any) {
		int f0_ok[CUBIE_W], took[CUBIE_W];
#if CUBIE_EVENTS
		double t_prev[CUBIE_W]; /* the attempt's start, for events.h */
		for (int l = 0; l < CUBIE_W; l++)
			t_prev[l] = t[l];
#endif
		CUBIE_SHARED(CUBIE_F0_KEPT || b->f0_ok, ok, l,
		             cubie_adaptive_lane(b, l, t_end, t, act, ok, f0_ok, took));
#if CUBIE_EVENTS
		cubie_ev_adaptive(a, b, t_prev, t, act, f0_ok, t_end);
#endif
#if CUBIE_SAMPLE_STEPS
		cubie_sample(b, t, took);
#endif
		/* Every lane's f0 valid, or all recompute it: a lane whose f0 was
		 * valid gets the same values again (same (t, y), same code). */
		int all = 1;
		any = 0;
		for (int l = 0; l < CUBIE_W; l++) {
			all &= f0_ok[l];
			any |= act[l];
		}
		b->f0_ok = all;
	}
	for (int l = 0; l < CUBIE_W; l++)
		b->reached[l] = b->status[l] ? b->reached[l] : t_end;
}
#endif
