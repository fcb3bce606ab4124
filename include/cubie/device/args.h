/* The kernel's one argument, passed by value. The host fills the same
 * struct, so its layout must not depend on the precision: pointers are
 * device addresses, arrays are column-major over runs ([row][stride]). */
#ifndef CUBIE_DEVICE_ARGS_H
#define CUBIE_DEVICE_ARGS_H
struct cubie_args {
	const void *y0;     /* [states][stride] initial values */
	const void *params; /* [parameters][stride] */
	void *out;          /* [saves][saved variables][stride] */
	int *status;        /* [stride] CUBIE_STATUS_* bits */
	int *steps;         /* [2][stride]: accepted, rejected steps; NULL: not kept */
	double *reached;    /* [stride] the time each run reached (its end, unless it failed) */
	long long begin, n; /* this launch runs [begin, n) of the chunk */
	long long stride;   /* column length of every array above */
	long long n_saves;  /* >= 2: t0 and the end time at least */
	double t0, duration, dt, save_every;
	double settle;      /* integrated before t0, not saved */
};
#endif
