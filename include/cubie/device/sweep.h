/* A sweep of [initial] and [parameters] values (args.h) needs no table
 * copied to the device: a kernel of its own writes each run's inputs from
 * its index where the integration kernel reads them, which then stays as
 * it is (working them out there cost rk4 8% on an H200). linspace is
 * computed as the host computes it (cb_linspace, internal.h), one fma,
 * so both give the same double. */
#ifndef CUBIE_DEVICE_SWEEP_H
#define CUBIE_DEVICE_SWEEP_H

/* Value k of axis j. */
CUBIE_DEV double cubie_axis_value(const struct cubie_axis *ax, int j, long long k)
{
	const struct cubie_axis *x = &ax[j];
	if (!x->lin)
		return ((const double *)(ax + CUBIE_NSTATES + CUBIE_NPARAMS))[x->off + k];
	return k == x->len - 1 ? x->b : fma(x->b - x->a, (double)k / (double)(x->len - 1), x->a);
}

/* Input j of run r. */
CUBIE_DEV double cubie_sweep_value(const struct cubie_axis *ax, int j, long long r)
{
	return cubie_axis_value(ax, j, r / ax[j].inner % ax[j].len);
}

#if defined(__CUDACC__)
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

extern "C" __global__ void cubie_sweep_kernel(const struct cubie_args a)
{
	const long long i = a.begin + (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < a.n)
		cubie_sweep_run(&a, i);
}
#else
/* The chunk's runs [i0, i1), input by input, each input's index moving on
 * run by run: no divisions (two 64-bit ones a value took a 2^20-run solve
 * 16 ms on two cores). */
static void cubie_sweep_runs(const struct cubie_args *a, long long i0, long long i1)
{
	for (int j = 0; j < CUBIE_NSTATES + CUBIE_NPARAMS; j++) {
		const struct cubie_axis *x = &a->sweep[j];
		cubie_real *col = j < CUBIE_NSTATES
		                      ? (cubie_real *)a->y0 + j * a->stride
		                      : (cubie_real *)a->params + (j - CUBIE_NSTATES) * a->stride;
		const long long r = a->first + i0;
		long long k = r / x->inner % x->len, c = r % x->inner;
		cubie_real v = (cubie_real)cubie_axis_value(a->sweep, j, k);
		for (long long i = i0; i < i1; i++) {
			col[i] = v;
			if (++c == x->inner) {
				c = 0;
				k = k + 1 == x->len ? 0 : k + 1;
				v = (cubie_real)cubie_axis_value(a->sweep, j, k);
			}
		}
	}
}

#define CUBIE_SWEEP_BLOCK 4096 /* runs */
void cubie_cpu_sweep(const struct cubie_args *a);
void cubie_cpu_sweep(const struct cubie_args *a)
{
	const long long blocks = (a->n - a->begin + CUBIE_SWEEP_BLOCK - 1) / CUBIE_SWEEP_BLOCK;
#if defined(CUBIE_THREADS) && defined(_OPENMP)
#pragma omp parallel for num_threads(CUBIE_THREADS)
#elif defined(_OPENMP)
#pragma omp parallel for
#endif
	for (long long b = 0; b < blocks; b++) {
		const long long i0 = a->begin + b * CUBIE_SWEEP_BLOCK;
		cubie_sweep_runs(a, i0, i0 + CUBIE_SWEEP_BLOCK < a->n ? i0 + CUBIE_SWEEP_BLOCK : a->n);
	}
}
#endif
#endif
