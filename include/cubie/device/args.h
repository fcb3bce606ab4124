/* The kernel's one argument, passed by value. The host fills the same
 * struct, so its layout must not depend on the precision: pointers are
 * device addresses, arrays are column-major over runs ([row][stride]). */
#ifndef CUBIE_DEVICE_ARGS_H
#define CUBIE_DEVICE_ARGS_H
/* One input of a sweep: run r takes value k = r / inner % len of its axis,
 * a linspace(a, b, len) worked out (lin) or the pool's value off + k. The
 * axes, one per state then parameter, are followed by the pool (sweep.h). */
struct cubie_axis {
	double a, b;
	long long len, inner, off, lin;
};

struct cubie_args {
	const void *y0;     /* [states][stride] initial values */
	const void *params; /* [parameters][stride] */
	/* Not NULL: the runs are a sweep, and the sweep kernel (sweep.h) writes
	 * the inputs of the chunk's run i, the sweep's run first + i, to y0
	 * and params. */
	const struct cubie_axis *sweep;
	long long first;
	void *out;          /* [saves][saved variables][stride] */
	int *status;        /* [stride] CUBIE_STATUS_* bits */
	int *steps;         /* [2][stride]: accepted, rejected steps; NULL: not kept */
	double *reached;    /* [stride] the time each run reached (its end, unless it failed) */
	long long begin, n; /* this launch runs [begin, n) of the chunk */
	long long stride;   /* column length of every array above */
	long long n_saves;  /* >= 2: t0 and the end time at least */
	double t0, duration, dt, save_every;
	double settle;      /* integrated before t0, not saved */
	/* The run's time grid: n_ticks intervals of tick (the last may be
	 * shorter, ending at t0 + duration); a save every save_ticks ticks, a
	 * summary sample every sample_ticks (when sampled on the grid), a
	 * summary window every window_ticks, and always at the end. */
	double tick;
	double tick_steps;  /* fixed steps in a whole tick, ceil(tick / dt - 1e-9) */
	double tick_h;      /* and their length, tick / tick_steps */
	int n_ticks, save_ticks, sample_ticks, window_ticks;
	void *sums;         /* [windows][summarised][slots][stride] */
	void *events;       /* [event rows][stride]: times, counts (events.h) */
	const void *drivers; /* the drivers' coefficients (driver.h); NULL: none */
	const double *spans; /* [3][stride] each run's t0, duration, settling time
	                      * (CUBIE_SPANS, span.h); NULL: t0, duration, settle above */
	int *failed;        /* counts the chunk's failed runs, so that the host
	                     * need not read every status to know; NULL: not counted */
};
#endif
