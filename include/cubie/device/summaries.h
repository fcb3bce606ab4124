/* Summaries: statistics of the summarised variables over windows of the
 * run, accumulated in registers as the samples come, written once per
 * window. Only the metrics asked for exist (compiled in by the core):
 *   CUBIE_NSUMVARS   variables, from the model's cubie_summarised
 *   CUBIE_NSLOTS     output values per variable and window
 *   CUBIE_S_<METRIC> the metric's first slot (undefined: not asked);
 *   CUBIE_NPEAKS, CUBIE_NNEGPEAKS   how many peak times to keep.
 * Every sample weighs the same. mean is a compensated (Kahan) sum over the
 * count (in float32, t/summaries.c measured Welford's running mean off by
 * up to 3.4e-5 relative, the Kahan sum within 1.3e-5); std (population) and rms come from Welford's
 * running mean and sum of squared deviations; peaks are the times of the first local maxima
 * (x[k-1] > x[k-2] and x[k-1] >= x[k]). dxdt of a state, with a method
 * whose steps end with f(t, y) (FSAL), is that derivative, and d2xdt2 the
 * divided difference of consecutive ones; otherwise dxdt and d2xdt2 are
 * first and second divided differences of consecutive samples
 * (CUBIE_SUM_STATE: each variable's state index, or -1). Unfilled peak
 * times and metrics of windows without samples are NaN. */
#ifndef CUBIE_DEVICE_SUMMARIES_H
#define CUBIE_DEVICE_SUMMARIES_H

#define CUBIE_NV_ CUBIE_NSUMVARS
#if defined(CUBIE_S_MEAN)
#define CUBIE_S_KAHAN 1
#endif
#if defined(CUBIE_S_STD) || defined(CUBIE_S_RMS)
#define CUBIE_S_WELFORD 1
#endif
#if defined(CUBIE_S_DXDT_MAX) || defined(CUBIE_S_DXDT_MIN) || defined(CUBIE_S_DXDT_EXTREMA) || \
	defined(CUBIE_S_D2XDT2_MAX) || defined(CUBIE_S_D2XDT2_MIN) || defined(CUBIE_S_D2XDT2_EXTREMA)
#define CUBIE_S_D1 1
#endif
#if defined(CUBIE_S_D2XDT2_MAX) || defined(CUBIE_S_D2XDT2_MIN) || defined(CUBIE_S_D2XDT2_EXTREMA)
#define CUBIE_S_D2 1
#endif
#if defined(CUBIE_S_PEAKS) || defined(CUBIE_S_NEGATIVE_PEAKS) || defined(CUBIE_S_D1)
#define CUBIE_S_HISTORY 1
#endif
#if defined(CUBIE_S_D1) && CUBIE_FSAL
#define CUBIE_S_EXACT 1 /* f0 holds f(t, y) at every sample */
#endif

struct cubie_sums {
	int n; /* samples in this window */
#ifdef CUBIE_S_HISTORY
	int seen;             /* samples ever (for differences and peaks) */
	double t1, t2;        /* times of the last two samples */
	cubie_real x1[CUBIE_NV_], x2[CUBIE_NV_];
#endif
#ifdef CUBIE_S_KAHAN
	cubie_real sum[CUBIE_NV_], comp[CUBIE_NV_];
#endif
#ifdef CUBIE_S_WELFORD
	cubie_real wm[CUBIE_NV_], m2[CUBIE_NV_];
#endif
#if defined(CUBIE_S_MAX) || defined(CUBIE_S_EXTREMA)
	cubie_real mx[CUBIE_NV_];
#endif
#if defined(CUBIE_S_MIN) || defined(CUBIE_S_EXTREMA)
	cubie_real mn[CUBIE_NV_];
#endif
#ifdef CUBIE_S_MAX_MAGNITUDE
	cubie_real mag[CUBIE_NV_];
#endif
#ifdef CUBIE_S_D1
	cubie_real d1[CUBIE_NV_], d1mx[CUBIE_NV_], d1mn[CUBIE_NV_];
	int nd[CUBIE_NV_]; /* derivatives had so far */
#endif
#ifdef CUBIE_S_D2
	cubie_real d2mx[CUBIE_NV_], d2mn[CUBIE_NV_];
#endif
#ifdef CUBIE_S_PEAKS
	int np[CUBIE_NV_];
	double pk[CUBIE_NV_][CUBIE_NPEAKS];
#endif
#ifdef CUBIE_S_NEGATIVE_PEAKS
	int nn[CUBIE_NV_];
	double npk[CUBIE_NV_][CUBIE_NNEGPEAKS];
#endif
};

/* A new window (seen and the history carry over from the last one). */
CUBIE_DEV void cubie_sums_reset(struct cubie_sums *s)
{
	const cubie_real inf = CUBIE_R(CUBIE_INF);
	s->n = 0;
	CUBIE_UNROLL
	for (int v = 0; v < CUBIE_NV_; v++) {
#ifdef CUBIE_S_KAHAN
		s->sum[v] = s->comp[v] = 0;
#endif
#ifdef CUBIE_S_WELFORD
		s->wm[v] = s->m2[v] = 0;
#endif
#if defined(CUBIE_S_MAX) || defined(CUBIE_S_EXTREMA)
		s->mx[v] = -inf;
#endif
#if defined(CUBIE_S_MIN) || defined(CUBIE_S_EXTREMA)
		s->mn[v] = inf;
#endif
#ifdef CUBIE_S_MAX_MAGNITUDE
		s->mag[v] = 0;
#endif
#ifdef CUBIE_S_D1
		s->d1mx[v] = -inf;
		s->d1mn[v] = inf;
#endif
#ifdef CUBIE_S_D2
		s->d2mx[v] = -inf;
		s->d2mn[v] = inf;
#endif
#ifdef CUBIE_S_PEAKS
		s->np[v] = 0;
		CUBIE_UNROLL
		for (int k = 0; k < CUBIE_NPEAKS; k++)
			s->pk[v][k] = CUBIE_NAN;
#endif
#ifdef CUBIE_S_NEGATIVE_PEAKS
		s->nn[v] = 0;
		CUBIE_UNROLL
		for (int k = 0; k < CUBIE_NNEGPEAKS; k++)
			s->npk[v][k] = CUBIE_NAN;
#endif
	}
}

CUBIE_DEV void cubie_sums_init(struct cubie_sums *s)
{
#ifdef CUBIE_S_HISTORY
	s->seen = 0;
	s->t1 = s->t2 = 0;
#endif
#ifdef CUBIE_S_D1
	CUBIE_UNROLL
	for (int v = 0; v < CUBIE_NV_; v++)
		s->nd[v] = 0;
#endif
	cubie_sums_reset(s);
}

/* One sample at time t of the summarised variables' values x; f is
 * f(t, y) where the method keeps it (CUBIE_S_EXACT). */
CUBIE_DEV void cubie_sums_add(struct cubie_sums *s, double t, const cubie_real *x,
                              const cubie_real *f)
{
#ifdef CUBIE_S_D1
	const int state[CUBIE_NV_] = CUBIE_SUM_STATE;
#endif
	(void)f;
	s->n++;
#ifdef CUBIE_S_WELFORD
	const cubie_real inv_n = CUBIE_R(1) / CUBIE_R(s->n); /* one division for all variables */
#endif
	CUBIE_UNROLL
	for (int v = 0; v < CUBIE_NV_; v++) {
#ifdef CUBIE_S_KAHAN
		const cubie_real yk = x[v] - s->comp[v], tk = s->sum[v] + yk;
		s->comp[v] = (tk - s->sum[v]) - yk;
		s->sum[v] = tk;
#endif
#ifdef CUBIE_S_WELFORD
		const cubie_real dev = x[v] - s->wm[v];
		s->wm[v] += dev * inv_n;
		s->m2[v] += dev * (x[v] - s->wm[v]);
#endif
#if defined(CUBIE_S_MAX) || defined(CUBIE_S_EXTREMA)
		s->mx[v] = CUBIE_FMAX(x[v], s->mx[v]); /* one instruction on the GPU */
#endif
#if defined(CUBIE_S_MIN) || defined(CUBIE_S_EXTREMA)
		s->mn[v] = CUBIE_FMIN(x[v], s->mn[v]);
#endif
#ifdef CUBIE_S_MAX_MAGNITUDE
		s->mag[v] = CUBIE_FMAX(CUBIE_M(fabs)(x[v]), s->mag[v]);
#endif
#ifdef CUBIE_S_HISTORY
		if (s->seen >= 2) {
#ifdef CUBIE_S_PEAKS
			if (s->x1[v] > s->x2[v] && s->x1[v] >= x[v] && s->np[v] < CUBIE_NPEAKS) {
				CUBIE_UNROLL
				for (int k = 0; k < CUBIE_NPEAKS; k++)
					s->pk[v][k] = k == s->np[v] ? s->t1 : s->pk[v][k];
				s->np[v]++;
			}
#endif
#ifdef CUBIE_S_NEGATIVE_PEAKS
			if (s->x1[v] < s->x2[v] && s->x1[v] <= x[v] && s->nn[v] < CUBIE_NNEGPEAKS) {
				CUBIE_UNROLL
				for (int k = 0; k < CUBIE_NNEGPEAKS; k++)
					s->npk[v][k] = k == s->nn[v] ? s->t1 : s->npk[v][k];
				s->nn[v]++;
			}
#endif
		}
#ifdef CUBIE_S_D1
#ifdef CUBIE_S_EXACT
		const int exact = state[v] >= 0;
#else
		const int exact = 0;
#endif
		if (exact || s->seen >= 1) {
			const cubie_real d = exact ? f[state[v] < 0 ? 0 : state[v]]
			                           : (x[v] - s->x1[v]) / CUBIE_R(t - s->t1);
			s->d1mx[v] = CUBIE_FMAX(d, s->d1mx[v]);
			s->d1mn[v] = CUBIE_FMIN(d, s->d1mn[v]);
#ifdef CUBIE_S_D2
			if (s->nd[v] >= 1) {
				const cubie_real dd = (d - s->d1[v]) / CUBIE_R(exact ? t - s->t1
				                                                     : 0.5 * (t - s->t2));
				s->d2mx[v] = CUBIE_FMAX(dd, s->d2mx[v]);
				s->d2mn[v] = CUBIE_FMIN(dd, s->d2mn[v]);
			}
#endif
			s->d1[v] = d;
			s->nd[v]++;
		}
#endif
		s->x2[v] = s->x1[v];
		s->x1[v] = x[v];
#endif
	}
#ifdef CUBIE_S_HISTORY
	s->t2 = s->t1;
	s->t1 = t;
	s->seen++;
#endif
}

/* One sample of the summarised variables at time t (f as above). */
CUBIE_DEV void cubie_sums_sample(struct cubie_sums *s, double t, const cubie_real *y,
                                 const cubie_real *p, const cubie_real *f)
{
	cubie_real x[CUBIE_NV_];
	cubie_summarised(t, y, p, x);
	cubie_sums_add(s, t, x, f);
}

/* The window's metrics into out ([window][variable][slot][stride]). */
CUBIE_DEV void cubie_sums_write(const struct cubie_sums *s, cubie_real *out, long long stride,
                                long long i, int window, int failed)
{
	const cubie_real nan = CUBIE_R(CUBIE_NAN);
	const int none = failed || s->n == 0;
	CUBIE_UNROLL
	for (int v = 0; v < CUBIE_NV_; v++) {
		cubie_real *o = out + ((long long)(window * CUBIE_NV_ + v) * CUBIE_NSLOTS) * stride + i;
#define CUBIE_PUT_(slot, val) o[(long long)(slot) * stride] = none ? nan : (val)
#ifdef CUBIE_S_MEAN
		CUBIE_PUT_(CUBIE_S_MEAN, s->sum[v] / CUBIE_R(s->n));
#endif
#ifdef CUBIE_S_MAX
		CUBIE_PUT_(CUBIE_S_MAX, s->mx[v]);
#endif
#ifdef CUBIE_S_MIN
		CUBIE_PUT_(CUBIE_S_MIN, s->mn[v]);
#endif
#ifdef CUBIE_S_RMS
		CUBIE_PUT_(CUBIE_S_RMS, CUBIE_M(sqrt)(s->m2[v] / CUBIE_R(s->n) + s->wm[v] * s->wm[v]));
#endif
#ifdef CUBIE_S_STD
		CUBIE_PUT_(CUBIE_S_STD, CUBIE_M(sqrt)(s->m2[v] / CUBIE_R(s->n)));
#endif
#ifdef CUBIE_S_EXTREMA
		CUBIE_PUT_(CUBIE_S_EXTREMA, s->mx[v]);
		CUBIE_PUT_(CUBIE_S_EXTREMA + 1, s->mn[v]);
#endif
#ifdef CUBIE_S_MAX_MAGNITUDE
		CUBIE_PUT_(CUBIE_S_MAX_MAGNITUDE, s->mag[v]);
#endif
#ifdef CUBIE_S_PEAKS
		CUBIE_UNROLL
		for (int k = 0; k < CUBIE_NPEAKS; k++)
			CUBIE_PUT_(CUBIE_S_PEAKS + k, CUBIE_R(s->pk[v][k]));
#endif
#ifdef CUBIE_S_NEGATIVE_PEAKS
		CUBIE_UNROLL
		for (int k = 0; k < CUBIE_NNEGPEAKS; k++)
			CUBIE_PUT_(CUBIE_S_NEGATIVE_PEAKS + k, CUBIE_R(s->npk[v][k]));
#endif
		/* a difference needs two samples; one without any stays NaN */
#define CUBIE_PUT_D_(slot, val, inf) CUBIE_PUT_(slot, (val) == (inf) ? nan : (val))
#ifdef CUBIE_S_DXDT_MAX
		CUBIE_PUT_D_(CUBIE_S_DXDT_MAX, s->d1mx[v], -CUBIE_R(CUBIE_INF));
#endif
#ifdef CUBIE_S_DXDT_MIN
		CUBIE_PUT_D_(CUBIE_S_DXDT_MIN, s->d1mn[v], CUBIE_R(CUBIE_INF));
#endif
#ifdef CUBIE_S_DXDT_EXTREMA
		CUBIE_PUT_D_(CUBIE_S_DXDT_EXTREMA, s->d1mx[v], -CUBIE_R(CUBIE_INF));
		CUBIE_PUT_D_(CUBIE_S_DXDT_EXTREMA + 1, s->d1mn[v], CUBIE_R(CUBIE_INF));
#endif
#ifdef CUBIE_S_D2XDT2_MAX
		CUBIE_PUT_D_(CUBIE_S_D2XDT2_MAX, s->d2mx[v], -CUBIE_R(CUBIE_INF));
#endif
#ifdef CUBIE_S_D2XDT2_MIN
		CUBIE_PUT_D_(CUBIE_S_D2XDT2_MIN, s->d2mn[v], CUBIE_R(CUBIE_INF));
#endif
#ifdef CUBIE_S_D2XDT2_EXTREMA
		CUBIE_PUT_D_(CUBIE_S_D2XDT2_EXTREMA, s->d2mx[v], -CUBIE_R(CUBIE_INF));
		CUBIE_PUT_D_(CUBIE_S_D2XDT2_EXTREMA + 1, s->d2mn[v], CUBIE_R(CUBIE_INF));
#endif
#undef CUBIE_PUT_D_
#undef CUBIE_PUT_
	}
}
#endif
