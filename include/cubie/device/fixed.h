/* Fixed steps: the interval cut into equal steps no longer than dt. The
 * step count is known before the loop, so max_steps costs nothing per
 * step, and h and the tableau's h * a products stay loop-invariant. */
#ifndef CUBIE_DEVICE_FIXED_H
#define CUBIE_DEVICE_FIXED_H

CUBIE_DEV int cubie_advance(const struct cubie_args *a, struct cubie_state *st,
                            const cubie_real *p, double t_start, double t_end)
{
	/* the 1e-9 keeps dt = interval / n from taking an extra step */
	double nd = ceil((t_end - t_start) / a->dt - 1e-9);
	if (nd < 1)
		nd = 1;
	const double hd = (t_end - t_start) / nd;
	const cubie_real h = CUBIE_R(hd);
	const int left = CUBIE_MAX_STEPS - st->accepted;
	const int n = nd < (double)left ? (int)nd : left;
	cubie_real y_new[CUBIE_NSTATES], err[CUBIE_NSTATES];
	CUBIE_UNROLL4 /* the loop's own count, compare and branch, once per 4 steps */
	for (int s = 0; s < n; s++) {
#if CUBIE_STEP_STATUS
		const int fail = cubie_step(t_start + (double)s * hd, h, st->y, p, y_new, err, st->f0,
		                            st->f1, st->f0_ok);
		if (fail) {
			st->accepted += s;
			st->t = t_start + (double)s * hd;
			return fail;
		}
#else
		cubie_step(t_start + (double)s * hd, h, st->y, p, y_new, err, st->f0, st->f1, st->f0_ok);
#endif
		cubie_accept(st, y_new);
		CUBIE_SAMPLE_STEP(st, t_start + (double)(s + 1) * hd, p);
	}
	st->accepted += n;
	st->t = n < nd ? t_start + (double)n * hd : t_end;
	return nd > (double)n ? CUBIE_STATUS_MAX_STEPS : CUBIE_STATUS_SUCCESS;
}
#endif
