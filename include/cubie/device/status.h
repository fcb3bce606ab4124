/* Per-run status bits, shared by device code and the host API. */
#ifndef CUBIE_DEVICE_STATUS_H
#define CUBIE_DEVICE_STATUS_H
#define CUBIE_STATUS_SUCCESS   0
#define CUBIE_STATUS_NONFINITE 1  /* a state became NaN or infinite */
#define CUBIE_STATUS_MAX_STEPS 2  /* max_steps reached before the end time */
#define CUBIE_STATUS_DT_MIN    4  /* the step fell below dt_min */
#define CUBIE_STATUS_SINGULAR  8  /* implicit methods: a singular iteration matrix */
#define CUBIE_STATUS_NEWTON    16 /* implicit methods: Newton did not converge */
#endif
