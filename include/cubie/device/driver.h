/* Drivers: sampled inputs of time, one polynomial per sample interval
 * (coefficients from the host, core/drivers.c), read from a read-only
 * device buffer: __ldg on the GPU, plain loads on the CPU. The model
 * source includes this header when it uses drivers and defines, per
 * driver, cubie_drv_<k>(t, p, &dvdt) on top of cubie_driver.
 *
 * The buffer reaches the model's functions, whose signature the
 * integrators fix, through one pointer bound at the kernel's entry
 * (CUBIE_DRIVERS_BIND): a block's shared variable on the GPU, a thread's
 * own variable on the CPU, so that solvers sharing a compiled module
 * never see each other's data.
 *
 * Cost of one evaluation: the interval index (a subtraction, a
 * multiplication, a floor, two compares; periodic: a second floor and a
 * multiply-add), then 2 loads and 1 multiply-add (linear) or 4 loads and
 * 3 multiply-adds (cubic); the derivative (read by d f / d t only, dropped
 * elsewhere) 2 multiply-adds and 3 multiplications more (cubic) or 1
 * multiplication (linear). */
#ifndef CUBIE_DEVICE_DRIVER_H
#define CUBIE_DEVICE_DRIVER_H

#if defined(__CUDACC__)
static __shared__ const cubie_real *cubie_drv_ptr_;
#define CUBIE_DRV_LD(p) __ldg(p)
#define CUBIE_DRIVERS_BIND(a)                                       \
	do {                                                        \
		if (threadIdx.x == 0)                               \
			cubie_drv_ptr_ = (const cubie_real *)(a).drivers; \
		__syncthreads();                                    \
	} while (0)
#else
static __thread const cubie_real *cubie_drv_ptr_;
#define CUBIE_DRV_LD(p) (*(p))
#define CUBIE_DRIVERS_BIND(a) (cubie_drv_ptr_ = (const cubie_real *)(a).drivers)
#endif

CUBIE_DEV const cubie_real *cubie_driver_data(void)
{
	return cubie_drv_ptr_;
}

/* The series a run's selector parameter names (the host checked it). */
CUBIE_DEV int cubie_driver_series(cubie_real sel, int n)
{
	const int k = (int)sel;
	return k < 0 ? 0 : k >= n ? n - 1 : k;
}

/* The value at t of the series whose n intervals of K coefficients start
 * at c (first sample at t_s, spacing 1 / inv_h), and its derivative in
 * *dvdt. Outside the samples: periodic repeats them with period n / inv_h;
 * otherwise the end values hold (derivative 0; wrap = error was refused on
 * the host when a run could leave the samples). */
CUBIE_DEV cubie_real cubie_driver(const cubie_real *c, int K, int n, int periodic, double t_s,
                                  double inv_h, double t, cubie_real *dvdt)
{
	double u = (t - t_s) * inv_h;
	int out = 0;
	if (periodic) {
		u -= (double)n * floor(u / (double)n);
	} else {
		out = u < 0.0 || u > (double)n;
		u = u < 0.0 ? 0.0 : u > (double)n ? (double)n : u;
	}
	int i = (int)u;
	i = i > n - 1 ? n - 1 : i < 0 ? 0 : i;
	const cubie_real s = CUBIE_R(u - (double)i);
	const cubie_real *q = c + (long long)i * K;
	const cubie_real a0 = CUBIE_DRV_LD(q), a1 = CUBIE_DRV_LD(q + 1);
	cubie_real v, d;
	if (K == 4) {
		const cubie_real a2 = CUBIE_DRV_LD(q + 2), a3 = CUBIE_DRV_LD(q + 3);
		v = a0 + s * (a1 + s * (a2 + s * a3));
		d = a1 + s * (CUBIE_R(2) * a2 + s * (CUBIE_R(3) * a3));
	} else {
		v = a0 + s * a1;
		d = a1;
	}
	*dvdt = out ? CUBIE_R(0) : d * CUBIE_R(inv_h);
	return v;
}
#endif
