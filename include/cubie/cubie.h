/* cubie — batches of independent ODE initial-value problems on GPUs and CPUs.
 * Public C API. Every fallible call returns 0 or a CUBIE_ERR_* code and fills
 * *err (which may be NULL) with a one-line message. The library never prints
 * and never exits; log lines go through cubie_set_log. */
#ifndef CUBIE_CUBIE_H
#define CUBIE_CUBIE_H

#include <stddef.h>
#include <stdint.h>
#include <cubie/device/status.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CUBIE_VERSION_STRING "0.1.0"

/* Error codes double as the CLI's exit statuses. */
enum {
	CUBIE_OK = 0,
	CUBIE_ERR_CONFIG = 2,  /* bad input: configuration, model, plugin, usage */
	CUBIE_ERR_RUNTIME = 3  /* device, memory, I/O */
};

typedef struct cubie_error {
	int code;
	char msg[1024];
} cubie_error;

typedef struct cubie_config cubie_config;
typedef struct cubie_solver cubie_solver;
typedef struct cubie_result cubie_result;

enum { CUBIE_LOG_ERROR, CUBIE_LOG_WARN, CUBIE_LOG_INFO, CUBIE_LOG_DEBUG };
typedef void (*cubie_log_fn)(int level, const char *msg, void *user);
void cubie_set_log(cubie_log_fn fn, void *user);

const char *cubie_version(void);

/* Configuration: an INI file plus overrides, validated against the schema. */
int cubie_config_load(const char *path, cubie_config **out, cubie_error *err);
/* "section.key=value", as given to `cubie run -s`. */
int cubie_config_set(cubie_config *cfg, const char *assignment, cubie_error *err);
void cubie_config_free(cubie_config *cfg);
/* Every schema key with its value and where that value came from, one per
 * line, as `cubie check` shows it. Caller frees. */
char *cubie_config_describe(const cubie_config *cfg);

/* A solver: model parsed, plugins loaded, kernel compiled, runs tabulated.
 * cfg must outlive the solver. */
int cubie_solver_create(const cubie_config *cfg, cubie_solver **out, cubie_error *err);
/* The backend, device, kernel, run count and memory plan. Caller frees. */
char *cubie_solver_describe(const cubie_solver *s);
int cubie_solve(cubie_solver *s, cubie_result **out, cubie_error *err);
void cubie_solver_free(cubie_solver *s);
/* Compile the kernel of cfg for the cuda backend with NVRTC, for arch
 * ("sm_90"), without a GPU or driver; nothing is run. A line that says what
 * it compiled (registers, local memory), or NULL with err filled (a plugin
 * whose device source does not compile is CUBIE_ERR_CONFIG). Caller frees. */
char *cubie_compile_check(const cubie_config *cfg, const char *arch, cubie_error *err);

/* What the last compile and solve cost, for benchmarks and progress. */
typedef struct cubie_stats {
	double compile_s;  /* kernel compilation in cubie_solver_create; 0 when cached */
	int cache_hit;     /* the kernel came from the on-disk cache */
	double kernel_s;   /* device time of the kernels of the last solve (several
	                    * devices: the busiest one's) */
	double solve_s;    /* wall time of the last cubie_solve, host arrays in and out */
	size_t chunks;     /* chunks the last solve ran in */
} cubie_stats;
void cubie_solver_stats(const cubie_solver *s, cubie_stats *st);

/* Solve again with new inputs and no recompilation: values[n_inputs][n_runs],
 * the inputs in the order of the result's "inputs" names (initial states,
 * then parameters, then, with per-run spans, t0, duration and
 * settling_time: no duration longer than the solver's longest). */
int cubie_solver_set_inputs(cubie_solver *s, const double *values, size_t n_runs,
                            cubie_error *err);
/* Called after each finished chunk, from the solving thread. */
typedef void (*cubie_progress_fn)(size_t runs_done, size_t runs, void *user);
void cubie_solver_set_progress(cubie_solver *s, cubie_progress_fn fn, void *user);

/* Results. Arrays (C order):
 *   "time"    float64 [saves], or [saves][runs] when the runs' time spans
 *             differ ([solve] t0, duration, settling_time swept): NaN past
 *             a run's end, where its "values" are NaN too
 *   "values"  float32|float64 [saves][variables][runs]
 *   "values"  is absent from the summary of a streamed solve (cubie_solve_write)
 *   "status"  int32 [runs]       (CUBIE_STATUS_* bits, 0 = success; STOPPED, a
 *                                 stop event, is no failure)
 *   "reached" float64 [runs]     (the time each run reached: where a failed one stopped)
 *   "inputs"  float64 [inputs][runs]  (initial states then parameters, then
 *                                   t0, duration, settling_time when the spans
 *                                   differ)
 *   "steps"   int32 [2][runs]      (accepted, rejected steps; only when
 *                                   [output] save names "steps")
 *   "events.NAME"        float [count][runs] ([events]: its first count crossing
 *                        times, NaN where none), "events.NAME.count" [runs] (all
 *                        crossings), "events.NAME.first", ".last" [runs] (asked)  */
enum { CUBIE_DTYPE_INT32 = 1, CUBIE_DTYPE_FLOAT32, CUBIE_DTYPE_FLOAT64 };
typedef struct cubie_array {
	const char *name;
	int dtype;
	int ndim;
	size_t shape[3];
	const void *data;
} cubie_array;

size_t cubie_result_runs(const cubie_result *r);
size_t cubie_result_count(const cubie_result *r);          /* arrays */
const cubie_array *cubie_result_array(const cubie_result *r, size_t i);
const cubie_array *cubie_result_find(const cubie_result *r, const char *name);
/* Names along an array's axis of variables: saved variables or inputs. */
const char *const *cubie_result_names(const cubie_result *r, const char *array, size_t *n);
size_t cubie_result_failed(const cubie_result *r);        /* runs failed (see status) */
/* Through the writer the configuration names; path NULL means [output] file. */
int cubie_result_write(const cubie_result *r, const cubie_solver *s, const char *path,
                       cubie_error *err);
/* Removes the temporary files of a cubie_result_write in progress in this
 * process; async-signal-safe, for a SIGINT or SIGTERM handler. (Those of
 * processes that died are removed by the next write to the same path.) */
void cubie_remove_temporaries(void);
void cubie_result_free(cubie_result *r);
/* Solve and write to path (NULL: [output] file) in one: chunk by chunk
 * where the writer streams, so that host memory stays at a few chunks
 * however large the output; otherwise the whole result, refused before
 * solving when it cannot fit in host memory. *summary (may be NULL)
 * receives the result, without "values" when it streamed.
 * In a process of an MPI job of several ranks (a build with MPI, started
 * by mpirun or srun), every rank calls it: the runs are split across the
 * ranks and rank 0 writes the one output and gets the summary; the other
 * ranks get *summary NULL and, on failure, the code with an empty message
 * (rank 0's says what failed). */
int cubie_solve_write(cubie_solver *s, const char *path, cubie_result **summary,
                      cubie_error *err);

/* Every plugin found on the search path of cfg (NULL: defaults files, environment and
 * installed directories only), one line each. Caller frees. */
char *cubie_plugins_describe(const cubie_config *cfg, cubie_error *err);
/* The usable GPUs (name, compute capability, memory) and the CPU, one line
 * each. Caller frees. */
char *cubie_devices_describe(cubie_error *err);

#ifdef __cplusplus
}
#endif
#endif
