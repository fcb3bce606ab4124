/* The per-run loop and the entry points of both backends. One thread (one
 * OpenMP iteration on the cpu backend) integrates one run with the
 * integrator's cubie_step: from t0 - settle to t0 unsaved, then to
 * t0 + duration, saving the model's saved variables at n_saves times.
 * Steps are cut to land exactly on each save time; time is kept in double
 * whatever the precision, everything else in the working precision.
 *
 * Composed of one-job headers: store.h (saving), fixed.h or adaptive.h
 * (cubie_advance: the steps between two save times; control.h is the
 * adaptive one's controller). The core defines beforehand:
 *   CUBIE_CONTROLLER  0 fixed, 1 i, 2 pi, 3 pid, 4 gustafsson
 *   CUBIE_MAX_STEPS and, when adaptive, what adaptive.h lists.
 * An integrator whose step can fail defines CUBIE_STEP_STATUS 1; its
 * cubie_step then returns 0 or a CUBIE_STATUS_* bit. */
#ifndef CUBIE_DEVICE_LOOP_H
#define CUBIE_DEVICE_LOOP_H

#define CUBIE_NP_ (CUBIE_NPARAMS > 0 ? CUBIE_NPARAMS : 1)
#ifndef CUBIE_FSAL
#define CUBIE_FSAL 0
#endif
#ifndef CUBIE_STEP_STATUS
#define CUBIE_STEP_STATUS 0
#endif
#ifndef CUBIE_AUTO_DT
#define CUBIE_AUTO_DT 0
#endif

#ifndef CUBIE_NSUMVARS
#define CUBIE_NSUMVARS 0
#endif
#if CUBIE_NSUMVARS
#include <cubie/device/summaries.h>
#endif
/* Summary samples at every accepted step, unless taken on the grid. */
#if CUBIE_NSUMVARS && !CUBIE_SAMPLE_TICKS
#define CUBIE_SAMPLE_STEP(st, t, p) cubie_sums_sample(&(st)->sums, t, (st)->y, p, (st)->f0)
#else
#define CUBIE_SAMPLE_STEP(st, t, p) (void)0
#endif

/* Everything a run carries from one interval to the next. */
struct cubie_state {
	cubie_real y[CUBIE_NSTATES], f0[CUBIE_NSTATES], f1[CUBIE_NSTATES];
	int f0_ok;
	int accepted, rejections;
	double t; /* reached: where a failed run stopped */
#if CUBIE_NSUMVARS
	struct cubie_sums sums;
#endif
#if CUBIE_CONTROLLER != 0
	cubie_real h;        /* next step */
	cubie_real le1, le2; /* log2 error norms of the last two accepted steps */
	cubie_real h_prev;   /* the last accepted step */
	int rejected;        /* the last attempt was rejected */
#endif
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
}

#include <cubie/device/store.h>
#if CUBIE_CONTROLLER == 0
#include <cubie/device/fixed.h>
#else
#include <cubie/device/adaptive.h>
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
	st.accepted = st.rejections = 0;
	st.t = a->settle > 0 ? a->t0 - a->settle : a->t0;
#if CUBIE_CONTROLLER != 0
	st.h = CUBIE_R(a->dt);
	st.le1 = st.le2 = 0;
	st.h_prev = 0;
	st.rejected = 0;
#if CUBIE_AUTO_DT
	st.h = cubie_first_step(a->settle > 0 ? a->t0 - a->settle : a->t0, st.y, p, st.f0);
	st.f0_ok = 1;
#endif
#endif

	/* States are checked for NaN and infinity at the save times only: a
	 * run that went bad in between carries NaN to the next one. */
	if (a->settle > 0)
		status = cubie_advance(a, &st, p, a->t0 - a->settle, a->t0);
	if (!status && !cubie_finite(st.y))
		status = CUBIE_STATUS_NONFINITE;
	cubie_store(a, i, 0, a->t0, st.y, p, status != CUBIE_STATUS_SUCCESS);
#if CUBIE_NSUMVARS
	cubie_sums_init(&st.sums);
#ifdef CUBIE_S_EXACT
	if (!st.f0_ok) { /* the first step reuses it */
		cubie_rhs(a->t0, st.y, p, st.f0);
		st.f0_ok = 1;
	}
#endif
	cubie_sums_sample(&st.sums, a->t0, st.y, p, st.f0);
	int window = 0;
#endif
	const int n_ticks = a->n_ticks;
	int save = 1;
	for (int k = 1; k <= n_ticks; k++) {
		const double t_start = a->t0 + (double)(k - 1) * a->tick;
		const double t_end = k == n_ticks ? a->t0 + a->duration : a->t0 + (double)k * a->tick;
		if (status == CUBIE_STATUS_SUCCESS) {
			status = cubie_advance(a, &st, p, t_start, t_end);
			if (!status && !cubie_finite(st.y))
				status = CUBIE_STATUS_NONFINITE;
		}
#if CUBIE_NSUMVARS && CUBIE_SAMPLE_TICKS
		if (!status && (k % a->sample_ticks == 0 || k == n_ticks))
			cubie_sums_sample(&st.sums, t_end, st.y, p, st.f0);
#endif
		if (k % a->save_ticks == 0 || k == n_ticks)
			cubie_store(a, i, save++, t_end, st.y, p, status != CUBIE_STATUS_SUCCESS);
#if CUBIE_NSUMVARS
		if (k % a->window_ticks == 0 || k == n_ticks) {
			cubie_sums_write(&st.sums, (cubie_real *)a->sums, a->stride, i, window++,
			                 status != CUBIE_STATUS_SUCCESS);
			cubie_sums_reset(&st.sums);
		}
#endif
	}
	a->status[i] = status;
	a->reached[i] = st.t;
	if (a->steps) {
		a->steps[i] = st.accepted;
		a->steps[a->stride + i] = st.rejections;
	}
}

#if defined(__CUDACC__)
extern "C" __global__ void cubie_kernel(const struct cubie_args a)
{
	const long long i = a.begin + (long long)blockIdx.x * blockDim.x + threadIdx.x;
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
	for (long long i = a->begin; i < a->n; i++)
		cubie_run(a, i);
}
#endif
#endif
