/* The per-run loop and the entry points of both backends. One thread (one
 * OpenMP iteration on the cpu backend) integrates one run with the
 * integrator's cubie_step, from t0 to t0 + duration, saving the model's
 * saved variables at n_saves equally spaced times. Each save interval is
 * cut into equal fixed steps no longer than dt, so saves land exactly and
 * time is never accumulated by repeated addition. */
#ifndef CUBIE_DEVICE_LOOP_H
#define CUBIE_DEVICE_LOOP_H

#define CUBIE_NP_ (CUBIE_NPARAMS > 0 ? CUBIE_NPARAMS : 1)

CUBIE_DEV void cubie_store(const struct cubie_args *a, long long i, long long k,
                           double t, const cubie_real *y, const cubie_real *p, int failed)
{
	cubie_real v[CUBIE_NSAVED > 0 ? CUBIE_NSAVED : 1];
	cubie_real *out = (cubie_real *)a->out;
	cubie_saved(t, y, p, v);
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSAVED; j++)
		out[(k * CUBIE_NSAVED + j) * a->stride + i] = failed ? CUBIE_R(CUBIE_NAN) : v[j];
}

CUBIE_DEV int cubie_finite(const cubie_real *y)
{
	int ok = 1;
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		ok &= isfinite(y[j]) ? 1 : 0;
	return ok;
}

CUBIE_DEV void cubie_run(const struct cubie_args *a, long long i)
{
	const cubie_real *y0 = (const cubie_real *)a->y0;
	const cubie_real *pp = (const cubie_real *)a->params;
	cubie_real y[CUBIE_NSTATES], y_new[CUBIE_NSTATES], err[CUBIE_NSTATES];
	cubie_real p[CUBIE_NP_];
	int status = CUBIE_STATUS_SUCCESS;

	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		y[j] = y0[j * a->stride + i];
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NPARAMS; j++)
		p[j] = pp[j * a->stride + i];

	cubie_store(a, i, 0, a->t0, y, p, 0);
	const double span = a->n_saves > 2 ? a->save_every : a->duration;
	for (long long k = 1; k < a->n_saves; k++) {
		const double t_start = a->t0 + (double)(k - 1) * span;
		const double t_end = k == a->n_saves - 1 ? a->t0 + a->duration
		                                          : a->t0 + (double)k * span;
		if (status == CUBIE_STATUS_SUCCESS) {
			/* the 1e-9 keeps dt = interval / n from taking an extra step */
			long long n = (long long)ceil((t_end - t_start) / a->dt - 1e-9);
			if (n < 1)
				n = 1;
			const double h = (t_end - t_start) / (double)n;
			for (long long s = 0; s < n; s++) {
				cubie_step(t_start + (double)s * h, CUBIE_R(h), y, p, y_new, err);
				CUBIE_UNROLL
				for (int j = 0; j < CUBIE_NSTATES; j++)
					y[j] = y_new[j];
				if (!cubie_finite(y)) {
					status |= CUBIE_STATUS_NONFINITE;
					break;
				}
			}
		}
		cubie_store(a, i, k, t_end, y, p, status != CUBIE_STATUS_SUCCESS);
	}
	a->status[i] = status;
}

#if defined(__CUDACC__)
extern "C" __global__ void cubie_kernel(const struct cubie_args a)
{
	const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (i < a.n)
		cubie_run(&a, i);
}
#else
void cubie_cpu_solve(const struct cubie_args *a);
void cubie_cpu_solve(const struct cubie_args *a)
{
#ifdef CUBIE_THREADS
#pragma omp parallel for schedule(static) num_threads(CUBIE_THREADS)
#else
#pragma omp parallel for schedule(static)
#endif
	for (long long i = 0; i < a->n; i++)
		cubie_run(a, i);
}
#endif
#endif
