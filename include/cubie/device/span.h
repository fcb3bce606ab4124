/* Per-run time spans (CUBIE_SPANS): each run's t0, duration and settling
 * time from a->spans ([3][stride], double), the run's tick count on the
 * common tick length, and NaN in the saves and summary windows past the
 * run's end, so that the output keeps one save axis (the longest run's).
 * One run per block (W = 1), as each run has its own times. The host's
 * save times (core/spans.c) follow the same arithmetic. */
#ifndef CUBIE_DEVICE_SPAN_H
#define CUBIE_DEVICE_SPAN_H

CUBIE_DEV int cubie_span_ticks(const struct cubie_args *a, double duration)
{
	const double n = ceil(duration / a->tick - 1e-9);
	return n < 1 ? 1 : (int)n;
}

/* Run i0's saves from save on, and its windows from window on: NaN. */
CUBIE_DEV void cubie_span_pad(const struct cubie_args *a, struct cubie_lanes *b, long long i0,
                              int save, int window)
{
	cubie_real *out = (cubie_real *)a->out;
	for (int k = save; k < a->n_saves; k++) {
		CUBIE_UNROLL
		for (int j = 0; j < CUBIE_NSAVED; j++)
			out[((long long)k * CUBIE_NSAVED + j) * a->stride + i0] = CUBIE_R(CUBIE_NAN);
	}
#if CUBIE_NSUMVARS
	const int n_windows = (a->n_ticks + a->window_ticks - 1) / a->window_ticks;
	for (int w = window; w < n_windows; w++)
		cubie_sums_write(&b->sums[0], (cubie_real *)a->sums, a->stride, i0, w, 1);
#else
	(void)b, (void)window;
#endif
}
#endif
