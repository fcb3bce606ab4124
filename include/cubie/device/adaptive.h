/* Adaptive steps from t_start to exactly t_end, under the controller of
 * control.h. A non-finite error rejects the step like a large one; only
 * when that drives h below dt_min does the run end, as NONFINITE.
 * Compiled-in: CUBIE_DT_MIN, CUBIE_DT_MAX (0: none), CUBIE_MAX_STEPS. */
#ifndef CUBIE_DEVICE_ADAPTIVE_H
#define CUBIE_DEVICE_ADAPTIVE_H
#include <cubie/device/control.h>

CUBIE_DEV int cubie_advance(const struct cubie_args *a, struct cubie_state *st,
                            const cubie_real *p, double t_start, double t_end)
{
	cubie_real y_new[CUBIE_NSTATES], err[CUBIE_NSTATES];
	double t = t_start;
	while (t < t_end) {
		st->t = t; /* where a failure below stops (kept in a register) */
		if (st->accepted + st->rejections >= CUBIE_MAX_STEPS)
			return CUBIE_STATUS_MAX_STEPS;
		cubie_real h = st->h;
		if (CUBIE_DT_MAX > 0 && h > CUBIE_R(CUBIE_DT_MAX))
			h = CUBIE_R(CUBIE_DT_MAX);
		/* land on t_end exactly; stretch a step that would leave a sliver */
		const int last = t + 1.0001 * (double)h >= t_end;
		if (last)
			h = CUBIE_R(t_end - t);
		else if (h < CUBIE_R(CUBIE_DT_MIN))
			return CUBIE_STATUS_DT_MIN;
#if CUBIE_STEP_STATUS
		const int fail = cubie_step(t, h, st->y, p, y_new, err, st->f0, st->f1, st->f0_ok);
		st->f0_ok = !fail;
#else
		const int fail = 0;
		cubie_step(t, h, st->y, p, y_new, err, st->f0, st->f1, st->f0_ok);
		st->f0_ok = 1; /* the step stored f(t, y) */
#endif
		const cubie_real sum = fail ? CUBIE_R(0) : cubie_norm2(st->y, y_new, err);
		if (fail || !(sum <= CUBIE_R(CUBIE_NSTATES))) { /* rejected, failed or not finite */
			st->rejections++;
			const int finite = !fail && sum < CUBIE_R(1e30);
			const cubie_real fac = finite ? cubie_gain(st, cubie_log2_norm(sum), h, 0)
			                              : CUBIE_R(CUBIE_MIN_GAIN);
			st->rejected = 1;
			st->h = h * fac;
			if (st->h < CUBIE_R(CUBIE_DT_MIN) || t + (double)st->h == t)
				return fail ? fail : finite ? CUBIE_STATUS_DT_MIN : CUBIE_STATUS_NONFINITE;
			continue;
		}
		const cubie_real le = cubie_log2_norm(sum);
		const cubie_real h_next = h * cubie_gain(st, le, h, 1);
		st->h = last && h_next < st->h ? st->h : h_next; /* a cut step says little */
#if CUBIE_CONTROLLER == 3
		st->le2 = st->le1;
#endif
		st->le1 = le;
		st->h_prev = h;
		st->rejected = 0;
		cubie_accept(st, y_new);
		st->accepted++;
		t = last ? t_end : t + (double)h;
		CUBIE_SAMPLE_STEP(st, t, p);
	}
	st->t = t;
	return CUBIE_STATUS_SUCCESS;
}
#endif
