/* The per-run loop and the entry points of both backends. One thread (one
 * OpenMP iteration on the cpu backend) integrates one run with the
 * integrator's cubie_step: from t0 - settle to t0 unsaved, then to
 * t0 + duration, saving the model's saved variables at n_saves times.
 * Steps are cut to land exactly on each save time; time is kept in double
 * whatever the precision.
 *
 * Compiled-in settings (defined by the core before this file):
 *   CUBIE_CONTROLLER  0 fixed, 1 i, 2 pi, 3 pid, 4 gustafsson
 *   CUBIE_ERR_ORDER   order of the error estimate (controllers' exponent)
 *   CUBIE_ATOL, CUBIE_RTOL  {one per state}
 *   CUBIE_SAFETY, CUBIE_MIN_GAIN, CUBIE_MAX_GAIN, CUBIE_DT_MIN,
 *   CUBIE_DT_MAX (0: none), CUBIE_MAX_STEPS
 * An integrator that defines CUBIE_STEP_STATUS 1 returns a status from
 * cubie_step (see cubie/plugin.h); CUBIE_STEP_ is the call either way. */
#ifndef CUBIE_DEVICE_LOOP_H
#define CUBIE_DEVICE_LOOP_H

#define CUBIE_NP_ (CUBIE_NPARAMS > 0 ? CUBIE_NPARAMS : 1)
#ifndef CUBIE_FSAL
#define CUBIE_FSAL 0
#endif
#if defined(CUBIE_STEP_STATUS) && CUBIE_STEP_STATUS
#define CUBIE_STEP_(...) cubie_step(__VA_ARGS__)
#else
#define CUBIE_STEP_(...) (cubie_step(__VA_ARGS__), 0)
#endif

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

/* Everything a run carries from one interval to the next. */
struct cubie_state {
	cubie_real y[CUBIE_NSTATES], f0[CUBIE_NSTATES], f1[CUBIE_NSTATES];
	int f0_ok;
	double h;          /* next step (adaptive) */
	double e1, e2;     /* error norms of the last two accepted steps */
	double h_prev;     /* the last accepted step */
	int rejected;      /* the last attempt was rejected */
	long long accepted, rejections;
};

CUBIE_DEV void cubie_accept(struct cubie_state *st, const cubie_real *y_new)
{
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		st->y[j] = y_new[j];
#if CUBIE_FSAL
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		st->f0[j] = st->f1[j];
	st->f0_ok = 1;
#else
	st->f0_ok = 0;
#endif
	st->accepted++;
}

#if CUBIE_CONTROLLER == 0
/* Fixed steps: the interval cut into equal steps no longer than dt (the
 * 1e-9 keeps dt = interval / n from taking an extra step). */
CUBIE_DEV int cubie_advance(const struct cubie_args *a, struct cubie_state *st,
                            const cubie_real *p, double t_start, double t_end)
{
	long long n = (long long)ceil((t_end - t_start) / a->dt - 1e-9);
	if (n < 1)
		n = 1;
	const double h = (t_end - t_start) / (double)n;
	cubie_real y_new[CUBIE_NSTATES], err[CUBIE_NSTATES];
	for (long long s = 0; s < n; s++) {
		if (st->accepted >= CUBIE_MAX_STEPS)
			return CUBIE_STATUS_MAX_STEPS;
		const int fs = CUBIE_STEP_(t_start + (double)s * h, CUBIE_R(h), st->y, p, y_new, err,
		                           st->f0, st->f1, st->f0_ok);
		if (fs)
			return fs;
		cubie_accept(st, y_new);
		if (!cubie_finite(st->y))
			return CUBIE_STATUS_NONFINITE;
	}
	return CUBIE_STATUS_SUCCESS;
}
#else
/* The step-size factor after an attempt with error norm e (>= 0). */
CUBIE_DEV double cubie_gain(const struct cubie_state *st, double e, double h, int accepted)
{
	const double k = CUBIE_ERR_ORDER + 1.0;
	const double ee = e > 1e-10 ? e : 1e-10;
	double fac = CUBIE_SAFETY * pow(ee, -1.0 / k); /* i: elementary */
	if (accepted) {
#if CUBIE_CONTROLLER == 2 /* pi: Gustafsson's PI.3.4, kI = 0.3, kP = 0.4 */
		fac = CUBIE_SAFETY * pow(ee, -0.7 / k) * pow(st->e1, 0.4 / k);
#elif CUBIE_CONTROLLER == 3 /* pid: kI = 0.3, kP = 0.4, kD = 0.1 (velocity form) */
		fac = CUBIE_SAFETY * pow(ee, -0.8 / k) * pow(st->e1, 0.6 / k) * pow(st->e2, -0.1 / k);
#elif CUBIE_CONTROLLER == 4 /* gustafsson: predictive (Hairer-Wanner IV.8, RADAU5) */
		if (st->h_prev > 0) {
			double pred = fac * (h / st->h_prev) * pow(st->e1 / ee, 1.0 / k);
			fac = pred < fac ? pred : fac;
		}
#endif
	}
	double hi = st->rejected ? 1.0 : CUBIE_MAX_GAIN;
	return fac < CUBIE_MIN_GAIN ? CUBIE_MIN_GAIN : fac > hi ? hi : fac;
}

/* Adaptive steps from t_start to exactly t_end. */
CUBIE_DEV int cubie_advance(const struct cubie_args *a, struct cubie_state *st,
                            const cubie_real *p, double t_start, double t_end)
{
	const double atol[CUBIE_NSTATES] = CUBIE_ATOL, rtol[CUBIE_NSTATES] = CUBIE_RTOL;
	cubie_real y_new[CUBIE_NSTATES], err[CUBIE_NSTATES];
	double t = t_start;
	while (t < t_end) {
		if (st->accepted + st->rejections >= CUBIE_MAX_STEPS)
			return CUBIE_STATUS_MAX_STEPS;
		double h = st->h;
		if (CUBIE_DT_MAX > 0 && h > CUBIE_DT_MAX)
			h = CUBIE_DT_MAX;
		/* land on t_end exactly; stretch a step that would leave a sliver */
		const int last = t + h * 1.0001 >= t_end;
		if (last)
			h = t_end - t;
		else if (h < CUBIE_DT_MIN)
			return CUBIE_STATUS_DT_MIN;
		const int fs = CUBIE_STEP_(t, CUBIE_R(h), st->y, p, y_new, err, st->f0, st->f1, st->f0_ok);
		st->f0_ok = 1; /* the step stored f(t, y) */
		if (fs) { /* a failed step: retry smaller */
			st->rejections++;
			st->rejected = 1;
			st->h = h * CUBIE_MIN_GAIN;
			if (st->h < CUBIE_DT_MIN || t + st->h == t)
				return CUBIE_STATUS_DT_MIN | fs;
			continue;
		}
		double sum = 0;
		CUBIE_UNROLL
		for (int j = 0; j < CUBIE_NSTATES; j++) {
			const double sc = atol[j] + rtol[j] * fmax(fabs((double)st->y[j]), fabs((double)y_new[j]));
			const double r = (double)err[j] / sc;
			sum += r * r;
		}
		double e = sqrt(sum / CUBIE_NSTATES);
		if (!(e <= 1.0)) { /* rejected, or not finite */
			st->rejections++;
			double fac = e == e && e < 1e300 ? cubie_gain(st, e, h, 0) : CUBIE_MIN_GAIN;
			st->rejected = 1;
			st->h = h * fac;
			if (st->h < CUBIE_DT_MIN || t + st->h == t)
				return CUBIE_STATUS_DT_MIN;
			continue;
		}
		const double fac = cubie_gain(st, e, h, 1);
		const double h_next = h * fac;
		st->h = last && h_next < st->h ? st->h : h_next; /* a cut step says little */
		st->e2 = st->e1;
		st->e1 = e > 1e-10 ? e : 1e-10;
		st->h_prev = h;
		st->rejected = 0;
		cubie_accept(st, y_new);
		t = last ? t_end : t + h;
		if (!cubie_finite(st->y))
			return CUBIE_STATUS_NONFINITE;
	}
	return CUBIE_STATUS_SUCCESS;
}
#endif

CUBIE_DEV void cubie_run(const struct cubie_args *a, long long i)
{
	const cubie_real *y0 = (const cubie_real *)a->y0;
	const cubie_real *pp = (const cubie_real *)a->params;
	cubie_real p[CUBIE_NP_];
	struct cubie_state st;
	int status = CUBIE_STATUS_SUCCESS;

	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NSTATES; j++)
		st.y[j] = y0[j * a->stride + i];
	CUBIE_UNROLL
	for (int j = 0; j < CUBIE_NPARAMS; j++)
		p[j] = pp[j * a->stride + i];
	st.f0_ok = 0;
	st.h = a->dt;
	st.e1 = st.e2 = 1.0;
	st.h_prev = 0;
	st.rejected = 0;
	st.accepted = st.rejections = 0;

	if (a->settle > 0)
		status = cubie_advance(a, &st, p, a->t0 - a->settle, a->t0);
	cubie_store(a, i, 0, a->t0, st.y, p, status != CUBIE_STATUS_SUCCESS);
	const double span = a->n_saves > 2 ? a->save_every : a->duration;
	for (long long k = 1; k < a->n_saves; k++) {
		const double t_start = a->t0 + (double)(k - 1) * span;
		const double t_end = k == a->n_saves - 1 ? a->t0 + a->duration
		                                          : a->t0 + (double)k * span;
		if (status == CUBIE_STATUS_SUCCESS)
			status = cubie_advance(a, &st, p, t_start, t_end);
		cubie_store(a, i, k, t_end, st.y, p, status != CUBIE_STATUS_SUCCESS);
	}
	a->status[i] = status;
	a->steps[i] = (int)st.accepted;
	a->steps[a->stride + i] = (int)st.rejections;
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
#pragma omp parallel for schedule(dynamic, 64) num_threads(CUBIE_THREADS)
#else
#pragma omp parallel for schedule(dynamic, 64)
#endif
	for (long long i = 0; i < a->n; i++)
		cubie_run(a, i);
}
#endif
#endif
