/* Drivers: sampled inputs of time that the equations use by name
 * ([drivers], drivers.c). Read and checked on the host, turned into
 * piecewise-polynomial coefficients once, and evaluated on the device by
 * include/cubie/device/driver.h. */
#ifndef CUBIE_DRIVERS_H
#define CUBIE_DRIVERS_H
#include "internal.h"

enum { DRV_CLAMP, DRV_PERIODIC, DRV_ERROR };

struct driver {
	char *name;
	char *loc;          /* "FILE:LINE" of its [drivers] entry */
	int cubic, wrap;    /* wrap: DRV_* */
	size_t n_samples;   /* per series */
	size_t n_int;       /* intervals: n_samples - 1, or n_samples when periodic */
	size_t n_series;    /* > 1: chosen per run by the parameter select */
	int select;         /* index among the model's parameters, or -1 */
	char *select_loc;   /* where select was set */
	double start, step; /* time of the first sample, sample spacing */
	size_t offset;      /* of its coefficients in the buffer, in reals */
	double *coef;       /* [series][n_int][2 or 4], in double */
};

struct drivers {
	size_t n;
	struct driver *d;
	size_t n_coef;   /* reals in the buffer */
};

/* Read [drivers] for a model with these parameters: NULL *out when the
 * section names none. Errors are "FILE:LINE: ...", CUBIE_ERR_CONFIG. */
int drivers_read(const cubie_config *c, char *const *params, size_t n_params,
                 struct drivers **out, cubie_error *e);
void drivers_free(struct drivers *dv);
/* Index of name among the drivers, or -1. */
int drivers_find(const struct drivers *dv, const char *name);
/* Device source: CUBIE_NDRIVERS, driver.h and one function per driver,
 *   CUBIE_DEV cubie_real cubie_drv_<k>(double t, const cubie_real *p, cubie_real *dvdt) */
void drivers_source(const struct drivers *dv, sbuf *b);
/* The coefficients in the working precision (4 or 8 bytes), malloc'd. */
void *drivers_buffer(const struct drivers *dv, int precision, size_t *bytes);
/* The smallest sample spacing: adaptive steps are capped at it. */
double drivers_min_step(const struct drivers *dv);
/* Every run's selector is a whole number naming a series, and every
 * driver with wrap = error covers [t_lo, t_hi], the span of the runs. */
int drivers_check_runs(const struct drivers *dv, const struct run_table *rt, size_t n_states,
                       double t_lo, double t_hi, cubie_error *e);
/* One line per driver, for `cubie check`. */
void drivers_describe(const struct drivers *dv, char *const *params, sbuf *b);
#endif
