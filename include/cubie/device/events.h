/* Events: the zero crossings of the model's event functions g_k(t, y, p)
 * ([events] in cubie.ini(5)), checked after every accepted step of a lane.
 * The core defines, only when the model has events (a model without them
 * never includes this header):
 *   CUBIE_EVENTS 1, CUBIE_NEVENTS n
 *   CUBIE_EV_DIR    {1 up, -1 down, 0 both} per event
 *   CUBIE_EV_ACT    {CUBIE_EV_RECORD | CUBIE_EV_STOP | CUBIE_EV_RESET}
 *   CUBIE_EV_COUNT  {times kept per run}
 *   CUBIE_EV_ROW    {first output row}: COUNT rows of times, then the count
 *   CUBIE_EV_LAST   {row of the last crossing's time, or -1}
 *   CUBIE_EV_ROWS   rows in all; CUBIE_EV_TOL, CUBIE_EV_SPACING (time),
 *   CUBIE_EV_CHATTER
 * and the model source cubie_events(t, y, p, g) and
 * cubie_event_reset(k, t, y, p).
 *
 * Detection is per lane, inside the lane loop: one evaluation of the event
 * functions at the step's end, and a step flagged where some function's
 * product with its value at the start is not positive, a test of two
 * instructions an event that lets through more than crossings (a zero at
 * either end, the wrong direction); the scalar pass tells them apart. A
 * crossing is rare: it is located outside the lane loop, by a scalar pass
 * over the flagged lanes, on the cubic Hermite interpolant of the
 * step (y and f at both ends, for every method) with the Illinois variant
 * of regula falsi, to CUBIE_EV_TOL in time. Crossings in one step are
 * handled in time order: records up to the earliest stop or reset, which
 * then ends the run or resets the state at the left end of its bracket
 * (the last time the function is still on its old side), the step
 * restarting from there with f(t, y) recomputed; crossings after it are
 * found again from the new state. */
#ifndef CUBIE_DEVICE_EVENTS_H
#define CUBIE_DEVICE_EVENTS_H

/* The rare path out of line on the cpu, so that the step loop around it
 * stays small; inlined on the GPU, where the lanes live in registers that
 * a call would send to local memory (and a call on a copy of them, tried,
 * took 118 registers and 320 bytes of stack against 86 and none). */
#if defined(__CUDACC__)
#define CUBIE_EV_COLD CUBIE_DEV
#elif defined(__GNUC__)
#define CUBIE_EV_COLD static __attribute__((noinline, cold))
#else
#define CUBIE_EV_COLD static
#endif

#define CUBIE_EV_RECORD 0
#define CUBIE_EV_STOP 1
#define CUBIE_EV_RESET 2

/* A crossing from g0 to g1 in direction dir. Strict on the old side: a
 * function exactly 0 where a reset left it has not crossed. */
CUBIE_DEV int cubie_ev_cross(int dir, cubie_real g0, cubie_real g1)
{
	const int up = (g0 < 0) & (g1 >= 0), down = (g0 > 0) & (g1 <= 0);
	return dir > 0 ? up : dir < 0 ? down : up | down;
}

/* Before lane l's step: its start, in case the step crosses. */
CUBIE_DEV void cubie_ev_keep_lane(struct cubie_lanes *b, int l)
{
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		b->ev_y0[j][l] = b->y[j][l];
}

/* After lane l's step to t1 from b->ev_y0 (b->y already moved; take: the
 * step counts): flag a possible crossing for the scalar pass, which learns
 * the step's times from the caller (double stores here, GCC's "complicated
 * access pattern", would keep the lane loop from vectorizing). The step's
 * end becomes the new reference, its start's values kept in ev_gp. */
CUBIE_DEV void cubie_ev_detect_lane(struct cubie_lanes *b, int l, int take, double t1)
{
	cubie_real y[CUBIE_NSTATES], p[CUBIE_NP_], g[CUBIE_NEVENTS];
	cubie_lane_load(b, l, y, p);
	cubie_events(t1, y, p, g);
	int hit = 0;
	CUBIE_UNROLL
	for (int k = 0; k < CUBIE_NEVENTS; k++) {
		hit |= b->ev_g[k][l] * g[k] <= 0;
		b->ev_gp[k][l] = b->ev_g[k][l];
		b->ev_g[k][l] = take ? g[k] : b->ev_g[k][l];
	}
	b->ev_hit[l] = hit & take;
}

/* The cubic Hermite interpolant at theta of a step of length h. */
CUBIE_DEV void cubie_ev_hermite(cubie_real th, cubie_real h, const cubie_real *y0,
                                const cubie_real *y1, const cubie_real *f0, const cubie_real *f1,
                                cubie_real *y)
{
	const cubie_real t2 = th * th, t3 = t2 * th;
	const cubie_real h00 = 2 * t3 - 3 * t2 + 1, h01 = 3 * t2 - 2 * t3;
	const cubie_real h10 = (t3 - 2 * t2 + th) * h, h11 = (t3 - t2) * h;
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		y[j] = h00 * y0[j] + h01 * y1[j] + h10 * f0[j] + h11 * f1[j];
}

/* Event k's crossing in the step [t0, t0 + h], from ga (old side) to gb:
 * Illinois on theta in [0, 1] until the bracket is narrower than
 * CUBIE_EV_TOL (or no point lies between its ends). *ta: the bracket's
 * left end, as theta; returns the time of the crossing (the secant of
 * the final bracket). */
CUBIE_DEV double cubie_ev_locate(int k, double t0, double h, const cubie_real *y0,
                                 const cubie_real *y1, const cubie_real *f0, const cubie_real *f1,
                                 const cubie_real *p, cubie_real ga, cubie_real gb, double *ta)
{
	double a = 0, b = 1, fa = (double)ga, fb = (double)gb;
	const int neg = ga < 0; /* the old side */
	int stale = 0;          /* -1: a kept twice, 1: b kept twice (Illinois halves it) */
	for (int it = 0; it < 200 && (b - a) * h > CUBIE_EV_TOL; it++) {
		double c = b - fb * (b - a) / (fb - fa);
		if (!(c > a && c < b) || it % 8 == 7) /* regula falsi stalls: bisect */
			c = 0.5 * (a + b);
		if (!(c > a && c < b))
			break;
		cubie_real y[CUBIE_NSTATES], g[CUBIE_NEVENTS];
		cubie_ev_hermite(CUBIE_R(c), CUBIE_R(h), y0, y1, f0, f1, y);
		cubie_events(t0 + c * h, y, p, g);
		const double fc = (double)g[k];
		if (neg ? fc >= 0 : fc <= 0) { /* new side: c is the right end */
			b = c, fb = fc;
			fa = stale == -1 ? 0.5 * fa : fa;
			stale = -1;
		} else {
			a = c, fa = fc;
			fb = stale == 1 ? 0.5 * fb : fb;
			stale = 1;
		}
	}
	*ta = a;
	const double s = fa != fb ? fa / (fa - fb) : 0.5;
	return t0 + h * (a + (b - a) * (s >= 0 && s <= 1 ? s : 0.5));
}

/* A crossing of event k at t: its time kept (the first COUNT), counted. */
CUBIE_DEV void cubie_ev_record(const struct cubie_args *a, struct cubie_lanes *b, int l, int k,
                               double t)
{
	const int count[CUBIE_NEVENTS] = CUBIE_EV_COUNT, row[CUBIE_NEVENTS] = CUBIE_EV_ROW;
	const int n = b->ev_n[k][l];
	if (n < count[k] && (CUBIE_W == 1 || b->i0 + l < a->n))
		((cubie_real *)a->events)[(long long)(row[k] + n) * a->stride + b->i0 + l] = CUBIE_R(t);
	b->ev_n[k][l] = n + 1;
	b->ev_last[k][l] = t;
}

/* Lane l's flagged step (see cubie_ev_detect_lane): every crossing located
 * and handled in time order. Returns 1 when the earliest stop or reset
 * took place: the lane's state is then the one at b->ev_t0[l] (reset, or
 * stopped with its status set), and the step goes on from there. */
CUBIE_EV_COLD int cubie_ev_handle(const struct cubie_args *a, struct cubie_lanes *b, int l)
{
	/* Every loop over the events is unrolled and every event array indexed
	 * by a constant: an array indexed by a variable lives in local memory on
	 * the GPU, and the lanes' event arrays would take every step's loads
	 * there with them. The earliest stop or reset is kept as scalars. */
	const int dir[CUBIE_NEVENTS] = CUBIE_EV_DIR, act[CUBIE_NEVENTS] = CUBIE_EV_ACT;
	const double t0 = b->ev_t0[l], t1 = b->ev_t1[l], h = t1 - t0;
	cubie_real y0[CUBIE_NSTATES], y1[CUBIE_NSTATES], f0[CUBIE_NSTATES], f1[CUBIE_NSTATES];
	cubie_real p[CUBIE_NP_], g1[CUBIE_NEVENTS], y[CUBIE_NSTATES], g[CUBIE_NEVENTS];
	double te[CUBIE_NEVENTS], ta_first = 2, te_first = 0;
	int crossed[CUBIE_NEVENTS], first = -1;
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		y0[j] = b->ev_y0[j][l];
	cubie_lane_load(b, l, y1, p);
	b->ev_hit[l] = 0;
	cubie_rhs(t0, y0, p, f0);
	cubie_rhs(t1, y1, p, f1);
	cubie_events(t1, y1, p, g1);
	CUBIE_UNROLL
	for (int k = 0; k < CUBIE_NEVENTS; k++) {
		crossed[k] = cubie_ev_cross(dir[k], b->ev_gp[k][l], g1[k]);
		te[k] = 0;
		if (!crossed[k])
			continue;
		double ta;
		te[k] = cubie_ev_locate(k, t0, h, y0, y1, f0, f1, p, b->ev_gp[k][l], g1[k], &ta);
		if (act[k] != CUBIE_EV_RECORD && ta < ta_first)
			first = k, ta_first = ta, te_first = te[k];
	}
	/* records in time order do not depend on each other: each has its rows */
	CUBIE_UNROLL
	for (int k = 0; k < CUBIE_NEVENTS; k++)
		if (crossed[k] && (act[k] == CUBIE_EV_RECORD ? first < 0 || te[k] <= te_first
		                                             : k == first))
			cubie_ev_record(a, b, l, k, te[k]);
	if (first < 0) {
		CUBIE_UNROLL
		for (int k = 0; k < CUBIE_NEVENTS; k++)
			b->ev_g[k][l] = g1[k];
		return 0;
	}
	const double tk = t0 + ta_first * h;
	cubie_ev_hermite(CUBIE_R(ta_first), CUBIE_R(h), y0, y1, f0, f1, y);
	int reset = 0;
	CUBIE_UNROLL
	for (int k = 0; k < CUBIE_NEVENTS; k++)
		reset |= k == first && act[k] == CUBIE_EV_RESET;
	if (reset) {
		cubie_event_reset(first, tk, y, p);
		/* resets in a row closer than the spacing are chattering */
		b->ev_chatter[l] = tk - b->ev_prev[l] < CUBIE_EV_SPACING ? b->ev_chatter[l] + 1 : 0;
		b->ev_prev[l] = tk;
		if (b->ev_chatter[l] >= CUBIE_EV_CHATTER)
			b->status[l] = CUBIE_STATUS_ZENO;
	} else {
		b->status[l] = CUBIE_STATUS_STOPPED;
	}
	cubie_events(tk, y, p, g);
	CUBIE_UNROLL
	for (int k = 0; k < CUBIE_NEVENTS; k++)
		b->ev_g[k][l] = g[k];
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		b->y[j][l] = b->ev_ys[j][l] = y[j];
	b->ev_t0[l] = tk;
	b->reached[l] = tk;
	return 1;
}

/* Any lane flagged? (an OR reduction, vectorized: the pass below is a
 * scalar loop, worth skipping on the many steps without a crossing) */
CUBIE_DEV int cubie_ev_any(struct cubie_lanes *b)
{
	int any = 0;
	for (int l = 0; l < CUBIE_W; l++)
		any |= b->ev_hit[l];
	if (any && !b->ev_on) /* settling: no events, the lanes flag without looking */
		for (int l = 0; l < CUBIE_W; l++)
			b->ev_hit[l] = any = 0;
	return any;
}

/* Adaptive steps: a lane whose state changed at an event goes on from
 * there with a new step (its f0 recomputed), unless it stopped. */
CUBIE_DEV void cubie_ev_adaptive(const struct cubie_args *a, struct cubie_lanes *b,
                                 const double *t_prev, double *t, int *act, int *f0_ok,
                                 double t_end)
{
	if (!cubie_ev_any(b))
		return;
	for (int l = 0; l < CUBIE_W; l++) {
		if (!b->ev_hit[l])
			continue;
		b->ev_t0[l] = t_prev[l];
		b->ev_t1[l] = t[l];
		if (cubie_ev_handle(a, b, l)) {
			t[l] = b->ev_t0[l];
			act[l] = !b->status[l] && t[l] < t_end;
			f0_ok[l] = 0;
		}
	}
}

/* Fixed steps, lane l's flagged step [t0, t1]: a lane whose state changed
 * at an event integrates the rest of the step from there (its lanes stay
 * in lockstep), crossings in that rest handled alike. steps: the lane's
 * steps so far, for one that ends. */
CUBIE_EV_COLD void cubie_ev_fixed_lane(const struct cubie_args *a, struct cubie_lanes *b, int l,
                                       double t0, double t1, int steps)
{
	b->ev_t0[l] = t0;
	b->ev_t1[l] = t1;
	while (b->ev_hit[l] && cubie_ev_handle(a, b, l)) {
		const double from = b->ev_t0[l];
		if (b->status[l]) {
			b->accepted[l] = steps;
			break;
		}
		if (!(from < t1))
			break;
		cubie_real y_new[CUBIE_NSTATES], err[CUBIE_NSTATES], f1[CUBIE_NSTATES];
		cubie_ev_keep_lane(b, l);
		const int fail = cubie_lane_step(b, l, from, CUBIE_R(t1 - from), 0, y_new, err, f1);
		if (fail) {
			b->status[l] = fail;
			b->accepted[l] = steps;
			break;
		}
		cubie_lane_accept(b, l, 1, y_new, f1);
		cubie_ev_detect_lane(b, l, 1, t1);
	}
}

/* ... every flagged lane still running, after step s of length hd from
 * t_start (times computed here: on the rare path only). */
CUBIE_DEV void cubie_ev_fixed(const struct cubie_args *a, struct cubie_lanes *b, double t_start,
                              double hd, cubie_real h, int s, int steps)
{
	if (!cubie_ev_any(b))
		return;
	const double t0 = t_start + (double)s * hd, t1 = t0 + (double)h;
	for (int l = 0; l < CUBIE_W; l++)
		if (b->ev_hit[l] && !b->status[l])
			cubie_ev_fixed_lane(a, b, l, t0, t1, steps);
}

/* Fixed steps on the GPU: a lane alone steps on after it stopped (a test
 * at every step would cost more than the steps left in the tick); its
 * state at the stop comes back after the tick's steps. */
CUBIE_DEV void cubie_ev_restore(struct cubie_lanes *b)
{
	CUBIE_LANES(l) {
		const int stopped = b->status[l] == CUBIE_STATUS_STOPPED;
		CUBIE_UNROLL
		for (int j = 0; j < CUBIE_NSTATES; j++)
			b->y[j][l] = stopped ? b->ev_ys[j][l] : b->y[j][l];
	}
}

/* Before the run: events off (the settling time has none). */
CUBIE_DEV void cubie_ev_init(struct cubie_lanes *b, long long i0)
{
	b->i0 = i0;
	b->ev_on = 0;
	for (int l = 0; l < CUBIE_W; l++) {
		CUBIE_UNROLL
		for (int k = 0; k < CUBIE_NEVENTS; k++)
			b->ev_g[k][l] = 0;
		b->ev_hit[l] = 0;
	}
}

/* From t (after any settling time) on: the functions' reference values,
 * no crossings yet, and every output row NaN until written. */
CUBIE_DEV void cubie_ev_start_lane(const struct cubie_args *a, struct cubie_lanes *b, int l,
                                   double t)
{
	cubie_real y[CUBIE_NSTATES], p[CUBIE_NP_], g[CUBIE_NEVENTS];
	cubie_lane_load(b, l, y, p);
	cubie_events(t, y, p, g);
	CUBIE_UNROLL
	for (int k = 0; k < CUBIE_NEVENTS; k++) {
		b->ev_g[k][l] = g[k];
		b->ev_n[k][l] = 0;
		b->ev_last[k][l] = CUBIE_NAN;
	}
	b->ev_hit[l] = b->ev_chatter[l] = 0;
	b->ev_prev[l] = -CUBIE_INF;
	if (CUBIE_W == 1 || b->i0 + l < a->n)
		for (int r = 0; r < CUBIE_EV_ROWS; r++)
			((cubie_real *)a->events)[(long long)r * a->stride + b->i0 + l] = CUBIE_R(CUBIE_NAN);
}

CUBIE_DEV void cubie_ev_start(const struct cubie_args *a, struct cubie_lanes *b, double t)
{
	for (int l = 0; l < CUBIE_W; l++)
		cubie_ev_start_lane(a, b, l, t);
	b->ev_on = 1;
}

/* The counts and last times, at the run's end. */
CUBIE_DEV void cubie_ev_finish(const struct cubie_args *a, const struct cubie_lanes *b)
{
	const int count[CUBIE_NEVENTS] = CUBIE_EV_COUNT, row[CUBIE_NEVENTS] = CUBIE_EV_ROW;
	const int last[CUBIE_NEVENTS] = CUBIE_EV_LAST;
	cubie_real *out = (cubie_real *)a->events;
	for (int l = 0; l < CUBIE_W; l++)
		if (CUBIE_W == 1 || b->i0 + l < a->n)
			CUBIE_UNROLL
			for (int k = 0; k < CUBIE_NEVENTS; k++) {
				const long long i = b->i0 + l;
				out[(long long)(row[k] + count[k]) * a->stride + i] = CUBIE_R(b->ev_n[k][l]);
				if (last[k] >= 0)
					out[(long long)last[k] * a->stride + i] = CUBIE_R(b->ev_last[k][l]);
			}
}
#endif
