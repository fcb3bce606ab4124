/* Fixed steps: the interval cut into equal steps no longer than dt. Every
 * lane takes the same steps, so the step loop is outside and the lane
 * loop inside, and no lane needs a mask. The step count is known before
 * the loop, so max_steps costs nothing per step, and h and the tableau's
 * h * a products stay loop-invariant. */
#ifndef CUBIE_DEVICE_FIXED_H
#define CUBIE_DEVICE_FIXED_H

/* One step of lane l. (Each lane loop's body is one call: arrays declared
 * in an `omp simd` body whose address is taken become per-lane arrays in
 * memory before anything is inlined; in a callee they become registers.) */
CUBIE_DEV void cubie_fixed_lane(struct cubie_lanes *b, int l, double ts, cubie_real h, int f0_ok,
                                int done, int s)
{
	cubie_real y_new[CUBIE_NSTATES], err[CUBIE_NSTATES], f1[CUBIE_NSTATES];
	const int fail = cubie_lane_step(b, l, ts, h, f0_ok, y_new, err, f1);
#if CUBIE_EVENTS
	cubie_ev_keep_lane(b, l);
#endif
#if CUBIE_STEP_STATUS
	/* a failing run keeps its state and the steps it had taken */
	const int first = fail && !b->status[l];
	b->accepted[l] = first ? done + s : b->accepted[l];
	b->reached[l] = first ? ts : b->reached[l];
	b->status[l] = first ? fail : b->status[l];
	cubie_lane_accept(b, l, !b->status[l], y_new, f1);
#elif CUBIE_EVENTS
	/* a stopped run keeps its state, but one lane alone (GPU) steps on,
	 * its state at the stop restored after the loop (cubie_ev_restore) */
	(void)fail, (void)done, (void)s;
	cubie_lane_accept(b, l, CUBIE_W == 1 || !b->status[l], y_new, f1);
#else
	(void)fail, (void)done, (void)s;
	cubie_lane_accept(b, l, 1, y_new, f1);
#endif
#if CUBIE_EVENTS
	cubie_ev_detect_lane(b, l, CUBIE_W == 1 && !CUBIE_STEP_STATUS ? 1 : !b->status[l],
	                     ts + (double)h);
#endif
}

CUBIE_DEV void cubie_advance(const struct cubie_args *a, struct cubie_lanes *b, double t_start,
                             double t_end)
{
	/* the 1e-9 keeps dt = interval / n from taking an extra step; a whole
	 * tick's steps come from the host (no double division per tick) */
	const double span = t_end - t_start;
	double nd, hd;
	if (a->tick_steps > 0 && fabs(span - a->tick) <= 1e-12 * a->tick) {
		nd = a->tick_steps;
		hd = a->tick_h;
	} else {
		nd = ceil(span / a->dt - 1e-9);
		nd = nd < 1 ? 1 : nd;
		hd = span / nd;
	}
	const cubie_real h = CUBIE_R(hd);
	/* the lanes still running have all taken the same steps */
	int done = 0, live = 0;
	for (int l = 0; l < CUBIE_W; l++) { /* a reduction: no omp simd */
		done = b->status[l] ? done : b->accepted[l] > done ? b->accepted[l] : done;
		live |= !b->status[l];
	}
	if (!live)
		return;
	const int left = CUBIE_MAX_STEPS - done;
	const int n = nd < (double)left ? (int)nd : left;
	CUBIE_UNROLL_STEPS /* prelude.h */
	for (int s = 0; s < n; s++) {
		const double ts = t_start + (double)s * hd;
		/* f0 holds f(t, y) after the first step, with FSAL only */
		CUBIE_SHARED(CUBIE_FSAL && b->f0_ok, ok, l, cubie_fixed_lane(b, l, ts, h, ok, done, s));
#if CUBIE_EVENTS
		cubie_ev_fixed(a, b, t_start, hd, h, s, done + s + 1);
#endif
		b->f0_ok = CUBIE_FSAL;
#if CUBIE_SAMPLE_STEPS /* the last step's sample at the tick's own time, as it is saved */
		cubie_sample_at(b, s + 1 == n && n == nd ? t_end : t_start + (double)(s + 1) * hd, 0);
#endif
	}
#if CUBIE_EVENTS && !CUBIE_STEP_STATUS
	cubie_ev_restore(b);
#endif
	const double t_n = n < nd ? t_start + (double)n * hd : t_end;
	CUBIE_LANES(l) {
		const int ran = !b->status[l];
		b->accepted[l] = ran ? done + n : b->accepted[l];
		b->reached[l] = ran ? t_n : b->reached[l];
		b->status[l] = ran && nd > (double)n ? CUBIE_STATUS_MAX_STEPS : b->status[l];
	}
}
#endif
