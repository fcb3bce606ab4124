/* A sweep of [initial] and [parameters] values (args.h) needs no table
 * copied to the device: a kernel of its own writes each run's inputs from
 * its index where the integration kernel reads them, which then stays as
 * it is (working them out there cost rk4 8% on an H200). linspace is
 * computed as the host computes it (cb_linspace, internal.h), one fma,
 * so both give the same double. */
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

/* The inputs of the chunk's run i (the sweep's run first + i). */
CUBIE_DEV void cubie_sweep_run(const struct cubie_args *a, long long i)
{
	cubie_real *y0 = (cubie_real *)a->y0, *p = (cubie_real *)a->params;
	for (int j = 0; j < CUBIE_NSTATES; j++)
		y0[j * a->stride + i] = (cubie_real)cubie_sweep_value(a->sweep, j, a->first + i);
	for (int j = 0; j < CUBIE_NPARAMS; j++)
		p[j * a->stride + i] = (cubie_real)cubie_sweep_value(a->sweep, CUBIE_NSTATES + j,
		                                                     a->first + i);
}

#if defined(__CUDACC__)
extern "C" __global__ void cubie_sweep_kernel(const struct cubie_args a)
{
	const long long i = a.begin + (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < a.n)
		cubie_sweep_run(&a, i);
}
#else
void cubie_cpu_sweep(const struct cubie_args *a);
void cubie_cpu_sweep(const struct cubie_args *a)
{
#if defined(CUBIE_THREADS) && defined(_OPENMP)
#pragma omp parallel for num_threads(CUBIE_THREADS)
#elif defined(_OPENMP)
#pragma omp parallel for
#endif
	for (long long i = a->begin; i < a->n; i++)
		cubie_sweep_run(a, i);
}
#endif
#endif
