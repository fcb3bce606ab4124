/* Per-run status bits, shared by device code and the host API. */
#ifndef CUBIE_DEVICE_STATUS_H
#define CUBIE_DEVICE_STATUS_H
#define CUBIE_STATUS_SUCCESS   0
#define CUBIE_STATUS_NONFINITE 1  /* a state became NaN or infinite */
#define CUBIE_STATUS_MAX_STEPS 2  /* max_steps reached before the end time */
#define CUBIE_STATUS_DT_MIN    4  /* the step fell below dt_min */
#define CUBIE_STATUS_SINGULAR  8  /* implicit methods: a singular iteration matrix */
#define CUBIE_STATUS_NEWTON    16 /* implicit methods: Newton did not converge */
#define CUBIE_STATUS_STOPPED   32 /* stopped by an event ([events] action = stop): not a failure */
#define CUBIE_STATUS_ZENO      64 /* events chattered: more than [events] max_chatter resets in a row */
/* The bits that make a run a failure (all but STOPPED). */
#define CUBIE_STATUS_FAILED(s) ((s) & ~CUBIE_STATUS_STOPPED)
#endif
