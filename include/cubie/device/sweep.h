/* The inputs of a run worked out from its index (args.h): a sweep of
 * [initial] and [parameters] values needs no table copied to the device.
 * linspace is computed as the host computes it (cb_linspace, internal.h),
 * one fma, so both give the same double. */
#ifndef CUBIE_DEVICE_SWEEP_H
#define CUBIE_DEVICE_SWEEP_H

/* Input j of run r. */
CUBIE_DEV double cubie_sweep_value(const struct cubie_axis *ax, int j, long long r)
{
	const struct cubie_axis *x = &ax[j];
	const long long k = r / x->inner % x->len;
	if (!x->lin)
		return ((const double *)(ax + CUBIE_NSTATES + CUBIE_NPARAMS))[x->off + k];
	return k == x->len - 1 ? x->b : fma(x->b - x->a, (double)k / (double)(x->len - 1), x->a);
}
#endif
