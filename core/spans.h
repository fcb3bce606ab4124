/* Per-run time spans: [solve] t0, duration and settling_time swept like
 * parameters (lists, linspace, logspace, grid or zip, [runs] file
 * columns). The run table carries them as its last inputs (runs.c); the
 * kernel reads them per run (CUBIE_SPANS, include/cubie/device/span.h).
 *
 * The time grid: ticks of the same length for every run (the finest of
 * save_every, sample_every and summarise_every, or the longest duration),
 * counted from each run's own t0; saves on each run's grid
 * t0 + k * save_every and at its end. The result keeps one save axis, as
 * long as the longest run needs: "time" becomes [saves][runs], and a
 * shorter run's saves (and summary windows) past its end are NaN in
 * "time" and "values" alike. */
#ifndef CUBIE_SPANS_H
#define CUBIE_SPANS_H
#include "solver.h"

/* Byte offset of the span rows ([3][stride] double) in a chunk's inputs. */
static inline size_t spans_offset(const cubie_solver *s, size_t stride)
{
	size_t nm = s->model->n_states + s->model->n_params;
	return (nm * stride * real_size(s) + 7) / 8 * 8;
}
/* s->t0, duration, settle: the one span, or with per-run spans the longest
 * duration and settling time (the grid's), each run's checked. */
int spans_settings(cubie_solver *s, cubie_error *e);
/* The earliest and latest time any run reaches. */
void spans_range(const cubie_solver *s, double *lo, double *hi);
/* "time" [n_saves][runs]: each run's save times, NaN past its end. */
void spans_times(const cubie_solver *s, double *time);
/* New inputs (cubie_solver_set_inputs) within the grid the solver has. */
int spans_check_inputs(const cubie_solver *s, cubie_error *e);
#endif
