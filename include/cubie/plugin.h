/* cubie plugin ABI. A plugin is a shared object that exports exactly one
 * symbol, cubie_plugin_describe, returning a const descriptor. Plugins link
 * nothing of the core: what they need from it comes in as cubie_host, a const
 * table of function pointers. The core refuses a plugin whose ABI major
 * differs from its own or whose minor is newer. */
#ifndef CUBIE_PLUGIN_H
#define CUBIE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <cubie/cubie.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CUBIE_ABI_MAJOR 1
/* minor 1: streaming writer ops; 2: cubie_integrator_ops.jacobian;
 * 3: cubie_writer_ops.join */
#define CUBIE_ABI_MINOR 3

enum cubie_plugin_kind {
	CUBIE_PLUGIN_INTEGRATOR = 1,
	CUBIE_PLUGIN_ALLOCATOR = 2,
	CUBIE_PLUGIN_WRITER = 3
};

/* Services of the core, handed to allocator and writer plugins. Memory
 * primitives act on the solve's backend: device memory on cuda, host memory
 * on cpu. A stream is opaque (NULL: the default stream). All return 0 on
 * success. */
typedef struct cubie_host {
	void *ctx; /* pass back as the first argument */
	const char *backend; /* "cuda" or "cpu" */
	int (*mem_alloc)(void *ctx, size_t bytes, uint64_t *ptr);
	int (*mem_free)(void *ctx, uint64_t ptr);
	/* Stream-ordered; NULL where the backend has no such primitive. */
	int (*mem_alloc_async)(void *ctx, size_t bytes, void *stream, uint64_t *ptr);
	int (*mem_free_async)(void *ctx, uint64_t ptr, void *stream);
	/* Keep up to this many bytes of freed stream-ordered memory cached. */
	int (*mem_pool_keep)(void *ctx, size_t bytes);
	int (*pinned_alloc)(void *ctx, size_t bytes, void **ptr);
	int (*pinned_free)(void *ctx, void *ptr);
	void (*log)(void *ctx, int level, const char *msg);
} cubie_host;

/* Integrator: device source for one method. The source is C that compiles
 * both as C99 and as CUDA C++; it sees cubie_real, CUBIE_NSTATES, CUBIE_DEV
 * and the model's cubie_rhs (see cubie/device/prelude.h), may #include
 * <cubie/device/...>, and defines
 *   CUBIE_DEV void cubie_step(double t, cubie_real h, const cubie_real *y,
 *                             const cubie_real *p, cubie_real *y_new,
 *                             cubie_real *err, cubie_real *f0, cubie_real *f1,
 *                             int f0_ok);
 * y_new is the solution at t + h; err receives the local error estimate
 * when error_order > 0; f0 holds f(t, y) when f0_ok, else the step stores
 * it there; a method whose last stage is f(t + h, y_new) defines CUBIE_FSAL
 * to 1 and stores that stage in f1. A method given by a Butcher tableau
 * defines ERK_* and includes <cubie/device/erk.h>, which does all this.
 *
 * A method that can fail a step (an implicit one: a singular matrix, a
 * Newton iteration that does not converge) defines CUBIE_STEP_STATUS to 1;
 * its cubie_step then returns int: 0 on success, else a CUBIE_STATUS_* bit
 * (cubie/device/status.h), and it has stored f(t, y) in f0 either way. The
 * adaptive loop takes a failed step as a rejection and retries with
 * h * min_gain; the run ends with the bit only when h would fall below
 * dt_min. Under the fixed controller the run ends
 * with the bit at once.
 *
 * With jacobian set (ABI minor >= 2), the model source also defines
 *   CUBIE_DEV void cubie_jac(double t, const cubie_real *y,
 *                            const cubie_real *p, cubie_real *J);
 *     J[i * CUBIE_NSTATES + j] = d f_i / d y_j, dense, row-major
 *   CUBIE_DEV void cubie_dfdt(double t, const cubie_real *y,
 *                             const cubie_real *p, cubie_real *dfdt);
 *   CUBIE_AUTONOMOUS  1 when f does not depend on t
 * derived symbolically from the equations, and the settings
 *   CUBIE_ATOL, CUBIE_RTOL (also under the fixed controller),
 *   CUBIE_NEWTON_TOL, CUBIE_NEWTON_MAX_ITER, CUBIE_JAC_UPDATE (0 once per
 *   step, 1 every Newton iteration): the [solve] keys newton_tol,
 *   newton_max_iter, jacobian_update. */
typedef struct cubie_integrator_ops {
	const char *source;
	int order;        /* convergence order of y_new */
	int error_order;  /* order of the embedded estimate; 0: none */
	int stages;
	int fsal;         /* last stage equals the next step's first */
	/* Controller when [solve] controller is not set: NULL means "pi" for
	 * methods with an error estimate, "fixed" otherwise. */
	const char *default_controller;
	const char *const *aliases; /* NULL-terminated; may be NULL */
	/* ABI minor 2. The core reads the fields below only from plugins that
	 * declare abi_minor >= 2: older plugins have a shorter struct. */
	int jacobian;     /* 1: the source uses cubie_jac and cubie_dfdt */
} cubie_integrator_ops;

/* Allocator: a policy over the host's memory primitives. */
typedef struct cubie_allocator_ops {
	void *(*create)(const cubie_host *host, char *errbuf, size_t errlen);
	int (*alloc)(void *self, size_t bytes, void *stream, uint64_t *ptr);
	int (*free)(void *self, uint64_t ptr, void *stream);
	void (*end_solve)(void *self); /* a solve finished with its buffers */
	void (*trim)(void *self);      /* release everything cached, unused */
	void (*destroy)(void *self);
} cubie_allocator_ops;

/* What a writer receives: the result's arrays (see cubie.h) and the names
 * along their axes of variables. "time" is [saves], or [saves][runs] when
 * the runs have their own time spans (NaN past a run's end); streamed,
 * the latter comes in chunks of runs like the other per-run arrays. */
typedef struct cubie_output {
	size_t n_arrays;
	const cubie_array *arrays;
	size_t n_vars;
	const char *const *var_names;   /* axis 1 of "values" */
	size_t n_inputs;
	const char *const *input_names; /* axis 0 of "inputs" */
	/* ABI 1.1 */
	const char *settings; /* the resolved configuration, as `cubie check` shows it */
	const char *version;  /* cubie's */
	const char *compression; /* [output] compression, for writers that compress; NULL: none */
	size_t n_metrics;
	const char *const *metric_names; /* axis 1 of "summaries": "x.mean", ... */
} cubie_output;

/* Writer: one result to one path. Write to a temporary name beside it,
 * PATH.tmp-PID-XXXXXX (the core removes those of dead processes, and
 * cubie_remove_temporaries those of this one on a signal), and rename it,
 * so that a failure leaves nothing behind; never remove what the writer
 * did not provably write. write returns 0, CUBIE_ERR_CONFIG when the path
 * cannot be used as given, or another non-zero value when writing failed.
 *
 * ABI 1.1 adds streaming, for results larger than host memory (optional:
 * NULL open means the core hands write the whole result). open receives the
 * whole result's shapes and names, with every array's data NULL; then
 * write_runs receives each finished chunk of runs, in increasing order of
 * first run, as arrays of the same names whose run axis (the last) holds
 * only that chunk's n runs, C order, contiguous ("time" is whole when it is
 * [saves], cut like the others when it is [saves][runs]); close
 * commits (by rename) or, with commit 0, removes what open made. */
typedef struct cubie_writer_ops {
	const char *const *extensions; /* NULL-terminated, without the dot */
	int (*write)(const cubie_host *host, const cubie_output *out, const char *path,
	             char *errbuf, size_t errlen);
	/* ABI 1.1 */
	void *(*open)(const cubie_host *host, const cubie_output *whole, const char *path,
	              char *errbuf, size_t errlen);
	int (*write_runs)(void *self, const cubie_output *part, size_t first, char *errbuf,
	                  size_t errlen);
	int (*close)(void *self, int commit, char *errbuf, size_t errlen);
	int compresses; /* honours [output] compression (the core refuses it otherwise) */
	int summaries;  /* writes "summaries" ([output] summaries is refused otherwise) */
	/* ABI minor 3 (read only from plugins that declare abi_minor >= 3;
	 * optional): one output written by several processes at once, each
	 * its own runs (an MPI job's ranks). With *tmp empty, join lays out a
	 * new temporary beside path as open would, but in full: every array
	 * at its final size and place, so that any run can be written first;
	 * it puts the temporary's path in tmp (tmplen bytes) and its handle
	 * commits by rename in close(self, 1), removes in close(self, 0).
	 * With tmp set (another process's layout, already made), join opens
	 * that temporary to write into it; close on such a handle only
	 * closes (it neither renames nor removes), whatever commit says.
	 * write_runs on a join handle takes chunks in any order, from any of
	 * the processes, with disjoint run ranges (the caller guarantees
	 * that); the layout's close(self, 1) comes after every other handle
	 * was closed without error. Needs write_runs and close. */
	void *(*join)(const cubie_host *host, const cubie_output *whole, const char *path,
	              char *tmp, size_t tmplen, char *errbuf, size_t errlen);
} cubie_writer_ops;

typedef struct cubie_plugin {
	uint16_t abi_major, abi_minor;
	int kind;             /* enum cubie_plugin_kind */
	const char *name;
	const char *version;
	const char *summary;  /* one line */
	const void *ops;      /* the kind's ops table */
} cubie_plugin;

#define CUBIE_PLUGIN_ENTRY cubie_plugin_describe
const cubie_plugin *cubie_plugin_describe(void);

/* The descriptor and the entry point of a plugin built against these
 * headers, e.g.
 *   CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_ALLOCATOR, "pool", "1.0", "caching", &ops) */
#define CUBIE_PLUGIN_DEFINE(kind_, name_, version_, summary_, ops_)                  \
	static const cubie_plugin cubie_plugin_descriptor_ = {                        \
		CUBIE_ABI_MAJOR, CUBIE_ABI_MINOR, kind_, name_, version_, summary_, ops_}; \
	const cubie_plugin *cubie_plugin_describe(void)                               \
	{                                                                             \
		return &cubie_plugin_descriptor_;                                     \
	}

#ifdef __cplusplus
}
#endif
#endif
