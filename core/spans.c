/* Per-run time spans (spans.h): the run table's span rows, checked, and
 * the save times they give. */
#include "config.h"
#include "spans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void spans_fold(struct run_table *rt, size_t nm)
{
	int same = 1;
	for (size_t k = 0; k < RUNS_SPANS; k++) {
		const double *row = rt->v + (nm + k) * rt->n_runs;
		rt->span[k] = rt->n_runs ? row[0] : 0;
		for (size_t r = 1; r < rt->n_runs && same; r++)
			same = row[r] == row[0];
	}
	rt->spans = !same;
	if (same) /* the rows are the last ones: the table just ends earlier */
		rt->n_inputs = nm;
}

static const double *row(const cubie_solver *s, int k)
{
	const size_t nm = s->model->n_states + s->model->n_params;
	return s->runs.v + (nm + (size_t)k) * s->runs.n_runs;
}

/* Where a span's values came from, for messages. */
static const char *where(const cubie_solver *s, int k, char *buf, size_t len)
{
	const struct cfg_entry *en = s->set.solve.span_at[k], *file = s->set.runs.at.file;
	if (file && (!en || !strchr(en->value, ',')))
		en = file;
	return settings_loc(&s->set, en, buf, len);
}

/* Each run's span: finite t0, positive duration, settling time >= 0. */
static int check_rows(const cubie_solver *s, double max_duration, cubie_error *e)
{
	const double *t0 = row(s, 0), *d = row(s, 1), *st = row(s, 2);
	char loc[600];
	for (size_t r = 0; r < s->runs.n_runs; r++) {
		int k = !isfinite(t0[r]) ? 0 : !(d[r] > 0 && isfinite(d[r])) ? 1
		      : !(st[r] >= 0 && isfinite(st[r])) ? 2 : d[r] > max_duration ? 3 : -1;
		if (k == 3)
			return cb_fail(e, CUBIE_ERR_CONFIG, "run %zu: duration %.17g is longer than the "
			               "%.17g the solver was made for", r, d[r], max_duration);
		if (k >= 0)
			return cb_fail(e, CUBIE_ERR_CONFIG, "%s: run %zu: %s = %.17g: %s",
			               where(s, k, loc, sizeof loc), r, runs_span_keys[k],
			               k == 0 ? t0[r] : k == 1 ? d[r] : st[r],
			               k == 0 ? "not finite" : k == 1 ? "must be positive" : "must be 0 or more");
	}
	return 0;
}

int spans_settings(cubie_solver *s, cubie_error *e)
{
	const struct run_table *rt = &s->runs;
	if (!rt->spans) {
		s->t0 = rt->span[0];
		s->duration = rt->span[1];
		s->settle = rt->span[2];
		return 0;
	}
	const double *t0 = row(s, 0), *d = row(s, 1), *st = row(s, 2);
	s->t0 = INFINITY;
	s->duration = s->settle = 0;
	for (size_t r = 0; r < rt->n_runs; r++) {
		s->t0 = fmin(s->t0, t0[r]);
		s->duration = fmax(s->duration, d[r]);
		s->settle = fmax(s->settle, st[r]);
	}
	return check_rows(s, INFINITY, e);
}

void spans_range(const cubie_solver *s, double *lo, double *hi)
{
	*lo = s->t0 - s->settle;
	*hi = s->t0 + s->duration;
	if (!s->runs.spans)
		return;
	const double *t0 = row(s, 0), *d = row(s, 1), *st = row(s, 2);
	*lo = INFINITY;
	*hi = -INFINITY;
	for (size_t r = 0; r < s->runs.n_runs; r++) {
		*lo = fmin(*lo, t0[r] - st[r]);
		*hi = fmax(*hi, t0[r] + d[r]);
	}
}

/* The kernel's own count (span.h), the same arithmetic. */
static int ticks(double duration, double tick)
{
	double n = ceil(duration / tick - 1e-9);
	return n < 1 ? 1 : (int)n;
}

void spans_times(const cubie_solver *s, double *time)
{
	const size_t N = s->runs.n_runs;
	const double *t0 = row(s, 0), *d = row(s, 1), tick = s->grid.tick;
	const int every = s->grid.save_ticks;
	for (size_t r = 0; r < N; r++) {
		const int n = ticks(d[r], tick);
		size_t k = 0;
		time[k++ * N + r] = t0[r];
		for (int j = every; j < n; j += every)
			time[k++ * N + r] = t0[r] + (double)j * tick;
		time[k++ * N + r] = t0[r] + d[r];
		for (; k < s->n_saves; k++)
			time[k * N + r] = NAN;
	}
}

int spans_check_inputs(const cubie_solver *s, cubie_error *e)
{
	return check_rows(s, s->duration, e);
}
