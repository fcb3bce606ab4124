/* Saving: one row of the saved variables at one save time. Failed runs
 * save NaN, so a reader cannot mistake them for values. */
#ifndef CUBIE_DEVICE_STORE_H
#define CUBIE_DEVICE_STORE_H

CUBIE_DEV void cubie_store(const struct cubie_args *a, long long i, int k, double t,
                           const cubie_real *y, const cubie_real *p, int failed)
{
	cubie_real v[CUBIE_NSAVED > 0 ? CUBIE_NSAVED : 1];
	cubie_real *out = (cubie_real *)a->out;
	cubie_saved(t, y, p, v);
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSAVED; j++)
		out[((long long)k * CUBIE_NSAVED + j) * a->stride + i] = failed ? CUBIE_R(CUBIE_NAN) : v[j];
}

CUBIE_DEV int cubie_finite(const cubie_real *y)
{
	int ok = 1;
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		ok &= isfinite(y[j]) ? 1 : 0;
	return ok;
}
#endif
