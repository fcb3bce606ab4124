/* Saving: one row of the saved variables at one save time, for the runs
 * of a block. Failed runs save NaN, so a reader cannot mistake them for
 * values. */
#ifndef CUBIE_DEVICE_STORE_H
#define CUBIE_DEVICE_STORE_H

/* (a function per lane: see cubie_fixed_lane) */
CUBIE_DEV void cubie_store_lane(const struct cubie_args *a, const struct cubie_lanes *b,
                                long long i0, int l, int k, double t)
{
	cubie_real *out = (cubie_real *)a->out;
	cubie_real y[CUBIE_NSTATES], p[CUBIE_NP_], v[CUBIE_NSAVED > 0 ? CUBIE_NSAVED : 1];
	cubie_lane_load(b, l, y, p);
#if CUBIE_EVENTS
	/* a run stopped by an event: NaN after the stop but in the last save,
	 * which holds its state at the stop (at its time reached) */
	const int stopped = b->status[l] == CUBIE_STATUS_STOPPED;
	const int gone = stopped ? k != a->n_saves - 1 : b->status[l] != 0;
	cubie_saved(stopped ? b->reached[l] : t, y, p, v);
#else
	const int gone = b->status[l];
	cubie_saved(t, y, p, v);
#endif
	if (CUBIE_W == 1 || i0 + l < a->n) {
		CUBIE_UNROLL
		for (int j = 0; j < CUBIE_NSAVED; j++)
			out[((long long)k * CUBIE_NSAVED + j) * a->stride + i0 + l] =
				gone ? CUBIE_R(CUBIE_NAN) : v[j];
	}
}

CUBIE_DEV void cubie_store(const struct cubie_args *a, const struct cubie_lanes *b, long long i0,
                           int k, double t)
{
	CUBIE_LANES(l)
		cubie_store_lane(a, b, i0, l, k, t);
}

/* A run whose states are no longer all finite fails, as NONFINITE. */
CUBIE_DEV void cubie_check(struct cubie_lanes *b)
{
	CUBIE_LANES(l) {
		int ok = 1;
		CUBIE_UNROLL
		for (int j = 0; j < CUBIE_NSTATES; j++)
			ok &= isfinite(b->y[j][l]) ? 1 : 0;
		b->status[l] = b->status[l] || ok ? b->status[l] : CUBIE_STATUS_NONFINITE;
	}
}
#endif
