/* Interfaces between the parts of libcubie. Nothing here is exported:
 * libcubie exports only ^cubie_ (see Makefile.am). */
#ifndef CUBIE_INTERNAL_H
#define CUBIE_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cubie/cubie.h>
#include <cubie/plugin.h>
#include <cubie/device/args.h>

#if defined(__GNUC__)
#define CB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CB_PRINTF(a, b)
#endif

/* ---- errors and logging (error.c) ---- */
/* Fill *e (may be NULL) and return code. */
int cb_fail(cubie_error *e, int code, const char *fmt, ...) CB_PRINTF(3, 4);
void cb_log(int level, const char *fmt, ...) CB_PRINTF(2, 3);
char *cb_strdup(const char *s);
char *cb_printf(const char *fmt, ...) CB_PRINTF(1, 2); /* malloc'd */
double cb_now(void); /* monotonic seconds */
size_t cb_memory_bytes(void); /* physical memory: no bigger table can be meant */
extern size_t cb_memory_cap;  /* nonzero: cb_memory_bytes instead (fuzzers) */
/* Growable string. */
typedef struct sbuf { char *s; size_t len, cap; } sbuf;
void sb_add(sbuf *b, const char *fmt, ...) CB_PRINTF(2, 3);
void sb_addn(sbuf *b, const char *s, size_t n);

/* ---- configuration (config.c, schema.c) ---- */
struct cfg_entry {
	char *section, *key, *value;
	char *file; /* file the value came from, or "command line" */
	int line;   /* 0 for the command line */
};
struct cubie_config {
	char *path;  /* the user's file */
	char *dir;   /* its directory, for relative paths */
	struct cfg_entry *e;
	size_t n, cap;
};
/* The defaults files alone (no user file), for commands that take none. */
int cfg_load_defaults(cubie_config **out, cubie_error *e);
/* The value set for section.key, or NULL. */
const struct cfg_entry *cfg_get(const cubie_config *c, const char *sec, const char *key);
/* Set value, else the schema default (NULL when it has none). */
const char *cfg_str(const cubie_config *c, const char *sec, const char *key);
/* "file:line" of an entry (or "FILE" with no line), for messages. */
const char *cfg_loc(const struct cfg_entry *en, char *buf, size_t len);
/* Typed getters: value or default; a malformed value is CUBIE_ERR_CONFIG
 * "FILE:LINE: [sec] key: ...". Return 0 when found or defaulted. The core
 * reads the fixed-key sections once through these, into struct settings
 * (settings.h), and passes that on; [model] and [plugins] are read once
 * into the model and the plugin directories. */
int cfg_num(const cubie_config *c, const char *sec, const char *key, double *v, cubie_error *e);
int cfg_int(const cubie_config *c, const char *sec, const char *key, long long *v, cubie_error *e);
/* [device] gpu: device numbers (0 to 1023, no repeats; malloc'd), or *all. */
int cfg_gpus(const cubie_config *c, const char *sec, const char *key, int **list, size_t *n,
             int *all, cubie_error *e);
/* 0 when cond holds, else "FILE:LINE: [sec] key must be WHAT". */
int cfg_require(const cubie_config *c, const char *sec, const char *key, int cond,
                const char *what, cubie_error *e);
/* Comma-separated identifiers (validated: [A-Za-z_][A-Za-z0-9_]*). *n may be
 * 0 when unset without default. Free with cfg_free_names. */
int cfg_names(const cubie_config *c, const char *sec, const char *key, char ***names,
              size_t *n, cubie_error *e);
void cfg_free_names(char **names, size_t n);
/* Entries of a free-form section ([constants], [equations], [initial],
 * [parameters]) in file order; *n entries written to a malloc'd array. */
const struct cfg_entry **cfg_section(const cubie_config *c, const char *sec, size_t *n);
/* A value list: "1.5", "1, 2, 3", "linspace(a, b, n)", "logspace(a, b, n)". */
int cfg_values(const struct cfg_entry *en, double **v, size_t *n, cubie_error *e);
/* The same with names resolved by value(ctx) (e.g. model_constant). */
typedef int (*expr_value_fn)(const char *name, double *v, void *ctx);
int cfg_values_names(const struct cfg_entry *en, expr_value_fn value, void *ctx, double **v,
                     size_t *n, cubie_error *e);
/* Directory-relative path: relative values resolve against the file's dir. */
char *cfg_path(const cubie_config *c, const struct cfg_entry *en);

/* ---- model: expressions, resolution, code generation (expr.c, model.c) ---- */
struct model {
	char *name;
	size_t n_states, n_params, n_obs;
	char **states, **params, **obs; /* names, in [model] order */
	struct drivers *drv;            /* [drivers] (drivers.h), NULL: none */
	void *priv;                     /* parsed equations and constants */
};
/* Read [model], [constants], [equations] and check them: unknown names
 * (with a did-you-mean hint), states without an equation, cycles among
 * auxiliaries, bad syntax — each "FILE:LINE: message", CUBIE_ERR_CONFIG. */
int model_build(const cubie_config *c, struct model **out, cubie_error *e);
void model_free(struct model *m);
/* Index in states (0..) or observables (n_states..), or -1. */
int model_var(const struct model *m, const char *name);
/* An expr_value_fn (ctx: the model): the value of a [constants] entry or of
 * pi or e, for [initial] and [parameters] values. */
int model_constant(const char *name, double *v, void *model);
/* C source (valid C99 and CUDA C++, precision-neutral: it uses cubie_real,
 * CUBIE_R(), CUBIE_M(fn), CUBIE_DEV from prelude.h) defining
 *   CUBIE_NSTATES, CUBIE_NPARAMS, CUBIE_NSAVED
 *   CUBIE_DEV void cubie_rhs(double t, const cubie_real *y,
 *                            const cubie_real *p, cubie_real *dydt);
 *   CUBIE_DEV void cubie_saved(double t, const cubie_real *y,
 *                              const cubie_real *p, cubie_real *v);
 * and, when n_summ > 0, cubie_summarised of the same form for summ[].
 * save[] and summ[] are indices from model_var. malloc'd. */
char *model_source(const struct model *m, const int *save, size_t n_save, const int *summ,
                   size_t n_summ);
/* C source of the model's derivatives, for implicit integrators:
 *   CUBIE_DEV void cubie_jac(double t, const cubie_real *y,
 *                            const cubie_real *p, cubie_real *J);
 *                            J[i * CUBIE_NSTATES + j] = d f_i / d y_j
 *   CUBIE_DEV void cubie_dfdt(double t, const cubie_real *y,
 *                             const cubie_real *p, cubie_real *dfdt);
 * and CUBIE_AUTONOMOUS (1 when f does not depend on t). A function without
 * a derivative is CUBIE_ERR_CONFIG "FILE:LINE: ...". *out malloc'd. */
int model_jacobian(const struct model *m, const char *why, char **out, cubie_error *e);
/* Events (events.c reads [events]; model.c writes their device code). */
#define CB_MAX_EVENTS 16
/* A result's arrays: time, values, summaries, status, reached, inputs,
 * steps, and up to four per event (times, count, first, last). */
#define CB_MAX_ARRAYS (7 + 4 * CB_MAX_EVENTS)
struct event_src {
	const char *name, *expr, *loc; /* name = expr, at loc ("FILE:LINE") */
	const char *reset, *reset_loc; /* "v := -0.9 * v, ...", or NULL */
};
/* C source of
 *   CUBIE_DEV void cubie_events(double t, const cubie_real *y,
 *                               const cubie_real *p, cubie_real *g);
 *   CUBIE_DEV void cubie_event_reset(int k, double t, cubie_real *y,
 *                                    const cubie_real *p);
 * the second assigning event k's reset at once. Unknown names, syntax,
 * assignments to what is not a state: CUBIE_ERR_CONFIG "FILE:LINE: ...". */
int model_events(const struct model *m, const struct event_src *ev, size_t n, char **out,
                 cubie_error *e);
struct events {
	size_t n;                 /* events; 0: none, and nothing in the kernel */
	char **names;
	int dir[CB_MAX_EVENTS];   /* 1 up, -1 down, 0 both */
	int act[CB_MAX_EVENTS];   /* 0 record, 1 stop, 2 reset */
	int count[CB_MAX_EVENTS]; /* times kept per run */
	int row[CB_MAX_EVENTS];   /* first row of its times in the events block; count after */
	int first[CB_MAX_EVENTS]; /* asked: "events.NAME.first" */
	int last[CB_MAX_EVENTS];  /* row of the last time, or -1 */
	size_t rows;              /* rows of the events block, per run */
	double tol, spacing;
	long long chatter;
	char *source;             /* model_events' */
	size_t n_arrays;          /* the result's arrays, in order */
	char **array_names;       /* "events.NAME", "events.NAME.count", ... */
};
struct settings; /* settings.h */
int events_read(const cubie_config *c, const struct settings *st, const struct model *m,
                struct events *ev, cubie_error *e);
void events_defines(const struct events *ev, sbuf *b);
void events_free(struct events *ev);
/* The events' arrays (names: ev->n_arrays of them) over an events block
 * of runs columns at base, of the working precision dtype (base NULL:
 * shapes only). Returns how many were written to arr. */
size_t events_arrays(const struct events *ev, char *const *names, const void *base, size_t runs,
                     int dtype, cubie_array *arr);

/* Expressions (expr.c): parse to an AST, walk its names, evaluate, emit C.
 * value() resolves a name to a constant (returns 0) or declines; emit
 * writes the C spelling of a name that did not resolve. */
struct expr;
typedef void (*expr_emit_fn)(sbuf *b, const char *name, void *ctx);
/* Parsing refuses a tree deeper than this (a sum of more terms). */
#define EXPR_MAX_HEIGHT 10000
int expr_parse(const char *text, struct expr **out, char *err, size_t errlen);
void expr_free(struct expr *x);
int expr_names(const struct expr *x, int (*fn)(const char *name, void *ctx), void *ctx);
int expr_eval(const struct expr *x, expr_value_fn value, void *ctx, double *v);
void expr_emit(sbuf *b, const struct expr *x, expr_value_fn value, expr_emit_fn name, void *ctx);
const char *expr_hint(const char *name, const char *const *cands, size_t n);
extern const char *const expr_helpers;
/* Symbolic differentiation (expr_diff.c). dep() says how a name depends on
 * the variable: 0 not at all, 1 it is the variable, 2 through a derivative
 * that is itself a name, written to *dname (an auxiliary's derivative).
 * Returns the simplified derivative, or NULL when it is identically zero;
 * *bad names a function without a derivative (then the result is NULL and
 * *bad is set). value() folds constants as in expr_eval. */
typedef int (*expr_dep_fn)(const char *name, void *ctx, const char **dname);
struct expr *expr_diff(const struct expr *x, expr_dep_fn dep, expr_value_fn value, void *ctx,
                       const char **bad);
/* Common subexpressions of the trees roots[], shared: each subtree worth it
 * that occurs twice (largest first) becomes a temporary named "#c<k>".
 * Their definitions are returned in *defs (malloc'd); a definition may use
 * higher-numbered temporaries (smaller ones), never lower, so define them
 * from the last to the first. 0, or -1 when out of memory. */
int expr_cse(struct expr **roots, size_t n_roots, expr_value_fn value, void *ctx,
             struct expr ***defs, size_t *n_defs);
/* Evaluate a constant expression with no names but pi and e (for numeric
 * settings); _text also resolves names through value() (NULL: none). */
int expr_eval_const(const char *text, double *v, char *errbuf, size_t errlen);
int expr_eval_text(const char *text, expr_value_fn value, void *ctx, double *v, char *errbuf,
                   size_t errlen);
/* pi and e: 1 with *v for those names, else 0. */
int expr_builtin(const char *name, double *v);

/* ---- runs (runs.c) ---- */
struct run_table {
	size_t n_runs, n_inputs; /* inputs: the model's states, then parameters */
	double *v;               /* [n_inputs][n_runs] */
	size_t *refs;            /* owners of v when shared (NULL: one) */
	/* 1: the runs' time spans differ, and the last RUNS_SPANS inputs are
	 * each run's t0, duration and settling_time; 0: they are the same for
	 * every run, span[] (spans.c) */
	int spans;
	double span[3];
	/* Or NULL: the model's inputs as a sweep the device works out from
	 * the run index, this table's run 0 being the sweep's sweep_first. */
	struct run_sweep *sweep;
	size_t sweep_first;
};
/* The axes of a sweep, one per state and parameter, then the pool of list
 * values (args.h): bytes of them, as they go to the device. Shared by the
 * tables of its runs and of blocks of them (mpi.c). */
struct run_sweep {
	size_t refs, bytes;
	unsigned id; /* which sweep, so that a device keeps its copy */
	struct cubie_axis axes[];
};
struct run_sweep *runs_sweep_keep(struct run_sweep *sw); /* another owner */
void runs_sweep_drop(struct run_sweep *sw);
/* linspace(a, b, n)'s value k, the same double on host and device (sweep.h). */
static inline double cb_linspace(double a, double b, size_t k, size_t n)
{
	return n < 2 ? a : k == n - 1 ? b : fma(b - a, (double)k / (double)(n - 1), a);
}
#define RUNS_SPANS 3
extern const char *const runs_span_keys[RUNS_SPANS];
/* Drop the span rows from a table whose runs all share one span. */
void spans_fold(struct run_table *rt, size_t n_model_inputs);
/* The table from [initial], [parameters], [runs] and the [solve] spans. */
int runs_build(const cubie_config *c, const struct settings *st, const struct model *m,
               struct run_table *rt, cubie_error *e);
/* Make *copy (empty) another owner of rt's values,
 * which a result shows as its "inputs" without copying them. */
int runs_share(struct run_table *rt, struct run_table *copy);
/* Drop this owner; the values go with the last one. */
void runs_free(struct run_table *rt);

/* ---- plugins (registry.c) ---- */
struct plugin {
	const cubie_plugin *desc;
	char *path;
	void *handle;
};
/* The integrator's source needs cubie_jac (read only from ABI minor >= 2). */
static inline int plugin_wants_jacobian(const struct plugin *p)
{
	const cubie_integrator_ops *io = p->desc->ops;
	return p->desc->abi_minor >= 2 && io->jacobian;
}
/* Directories searched, in order: [plugins] path (relative to the file),
 * CUBIE_PLUGIN_PATH (colon-separated), the build tree when running
 * uninstalled, the installed plugin directory. Each holds <kind>/<name>.so.
 * Free with cfg_free_names. */
char **plugin_dirs(const cubie_config *c, size_t *n);
const char *plugin_kind_name(int kind); /* "integrator", "allocator", "writer" */
/* Find name (or an alias) of that kind and load it; refusals are
 * CUBIE_ERR_CONFIG with a message that names the path and what to do. */
int plugin_load(int kind, const char *name, char *const *dirs, size_t n_dirs,
                struct plugin *out, cubie_error *e);
/* Load and check one file as a plugin of any kind (for listing and tests). */
int plugin_open(const char *path, struct plugin *out, cubie_error *e);
void plugin_close(struct plugin *p);
/* One line per plugin found: kind, name, version, aliases, path, ABI. */
char *plugin_list(char *const *dirs, size_t n_dirs);

/* ---- on-disk cache of compiled modules (cache.c) ---- */
/* $CUBIE_CACHE_DIR, else $XDG_CACHE_HOME/cubie, else ~/.cache/cubie;
 * created (0700) on demand. One that others could write to, or that cannot
 * be written, is replaced (with a warning) by a private temporary directory
 * removed at exit. malloc'd, or NULL when none can be made. */
char *cache_dir(void);
/* Hex digest naming an entry; key is everything that shapes the binary. */
void cache_key(const void *data, size_t len, const char *salt, char out[33]);
/* Path of the verified payload for digest+ext, or NULL (missing or corrupt:
 * a corrupt entry is removed). malloc'd. */
char *cache_lookup(const char *digest, const char *ext);
/* Store atomically (temporary file + rename); returns the entry's path or
 * NULL when the cache is unusable. malloc'd. */
char *cache_store(const char *digest, const char *ext, const void *data, size_t len);
/* Remove an entry that verified but would not load, so it is rebuilt. */
void cache_discard(const char *digest, const char *ext);

/* ---- writers' temporary files (tmpfiles.c) ---- */
/* Around a writer's work on target: removes the temporaries that processes
 * now gone left beside it, and lets cubie_remove_temporaries find ours. */
void tmp_begin(const char *target);
void tmp_end(void);
/* The process's own temporary directory (the private kernel cache), for
 * tmp_remove_own_dir at exit and cubie_remove_temporaries on a signal. */
void tmp_own_dir(const char *path);
void tmp_remove_own_dir(void);

/* ---- backends (backend_cpu.c, backend_cuda.c) ---- */
typedef struct backend backend;
struct backend_ops {
	const char *name; /* "cpu" | "cuda" */
	void (*close)(backend *b);
	int (*mem_info)(backend *b, size_t *free_b, size_t *total_b);
	/* Compile complete kernel source (through the cache) and load it. */
	int (*load)(backend *b, const char *src, cubie_error *e);
	int (*launch)(backend *b, const struct cubie_args *a, void *stream, cubie_error *e);
	/* The sweep kernel (sweep.h): the inputs of the chunk's runs [begin, n). */
	int (*sweep)(backend *b, const struct cubie_args *a, void *stream, cubie_error *e);
	int (*stream_create)(backend *b, void **s, cubie_error *e);
	void (*stream_destroy)(backend *b, void *s);
	int (*stream_sync)(backend *b, void *s, cubie_error *e);
	int (*copy_h2d)(backend *b, uint64_t dst, const void *src, size_t n, void *s, cubie_error *e);
	int (*copy_d2h)(backend *b, void *dst, uint64_t src, size_t n, void *s, cubie_error *e);
	/* rows of width bytes, from pitch spitch on the host to dpitch on the device */
	int (*copy_h2d_rows)(backend *b, uint64_t dst, size_t dpitch, const void *src, size_t spitch,
	                     size_t width, size_t rows, void *s, cubie_error *e);
	/* rows of width bytes, from pitch spitch on the device to dpitch on the host */
	int (*copy_d2h_rows)(backend *b, void *dst, size_t dpitch, uint64_t src, size_t spitch,
	                     size_t width, size_t rows, void *s, cubie_error *e);
	/* Call fn(ctx), on some thread, once the stream's work so far is done. */
	int (*after)(backend *b, void *s, void (*fn)(void *), void *ctx);
	int (*stream_idle)(backend *b, void *s); /* 1 when its work is done */
	/* Page-lock host memory for direct copies (NULL where copies need none). */
	int (*host_register)(backend *b, void *p, size_t n);
	void (*host_unregister)(backend *b, void *p);
	/* The primitives behind cubie_host (ctx = the backend). */
	int (*mem_alloc)(void *ctx, size_t bytes, uint64_t *ptr);
	int (*mem_free)(void *ctx, uint64_t ptr);
	int (*mem_alloc_async)(void *ctx, size_t bytes, void *stream, uint64_t *ptr);
	int (*mem_free_async)(void *ctx, uint64_t ptr, void *stream);
	int (*mem_pool_keep)(void *ctx, size_t bytes);
	int (*pinned_alloc)(void *ctx, size_t bytes, void **ptr);
	int (*pinned_free)(void *ctx, void *ptr);
};
struct backend {
	const struct backend_ops *ops;
	char device[256];  /* "NVIDIA H100 80GB HBM3 (sm_90)", "cpu: 16 threads" */
	int block_size;    /* threads per block the kernel launches with */
	double compile_s;  /* seconds spent in the last load (0 on a cache hit) */
	int cache_hit;     /* the last load came from the cache */
	double kernel_s;   /* device time of launches since the solver zeroed it */
	size_t reserve;    /* fixed memory cost of the loaded kernel (module, local memory) */
	int host_memory;   /* "device" memory is the host's (cpu backend) */
	size_t slice_min;  /* fewest runs per launch worth a progress report */
	int ordinal;       /* the GPU's (cpu: the test device's), for stream groups */
};
/* CUDA devices visible (0 with a message when none can be counted). */
int backend_cuda_count(int *n, cubie_error *e);
/* gpu: device ordinal. Fails with a message when no GPU is usable. */
int backend_cuda_open(int gpu, int block_size, backend **out, cubie_error *e);
/* threads: 0 = OpenMP default. */
int backend_cpu_open(int threads, backend **out, cubie_error *e);
/* NVRTC alone, no GPU needed: compile src for sm_<arch> into a cubin and
 * report registers and local memory per thread. For tests and `check`. */
int cuda_compile_only(const char *src, int arch, int *regs, size_t *local_bytes,
                      cubie_error *e);
/* Assemble complete kernel source: precision define, prelude, model source,
 * integrator source, loop; every #include <cubie/device/...> expanded from
 * the headers compiled into the library. malloc'd. */
char *kernel_source(int precision, const char *model_src, const char *integrator_src);
/* The same, the integrator's lines named "integrator NAME:LINE" in
 * compiler messages (#line), the rest "cubie-kernel:LINE". */
char *kernel_source_named(int precision, const char *model_src, const char *integrator_src,
                          const char *name);
/* A backend's compile failure that is the source's fault (the compiler ran
 * and refused it): the message holds the compiler's lines and where the
 * kernel was kept. The solver turns it into CUBIE_ERR_CONFIG naming the
 * integrator plugin. Never returned from the public API. */
#define CB_ERR_SOURCE 100
/* Keep the kernel source that failed, or any with CUBIE_KEEP_SOURCE=1, in
 * the cache directory as kernel-DIGEST.EXT; its path (malloc'd) or NULL. */
char *kernel_keep(const char *src, const char *digest, const char *ext);
int kernel_keep_always(void); /* CUBIE_KEEP_SOURCE set, and not 0 */


/* ---- host threads (workers.c) ---- */
struct workers;
/* n threads besides the caller (0: the caller alone). */
struct workers *workers_new(int n);
/* fn over [0, items) in contiguous shares, one per thread; returns when done. */
void workers_for(struct workers *w, void (*fn)(void *ctx, size_t lo, size_t hi), void *ctx,
                 size_t items);
void workers_free(struct workers *w);
int workers_default(void); /* one fewer than the cores, at most 15 */

/* ---- memory plan (planner.c) ---- */
struct plan {
	size_t budget;     /* bytes the chunks may use */
	size_t chunk_runs; /* runs per chunk */
	size_t streams;    /* streams in use (no more than chunks) */
	size_t chunks;
	int overlap;       /* split a batch that fits, so copies overlap kernels */
	size_t max_chunk_bytes; /* 0, or the largest chunk (host memory: bounds the peak) */
};
/* Budget = min(free, proportion x total) - reserve on a GPU, and
 * proportion x free (available) - reserve on host memory; chunk runs =
 * budget / (streams x bytes per run), rounded down to whole blocks, or
 * forced (> 0). When all runs fit: one chunk, or on a GPU with several
 * streams and a large batch, one chunk per stream. In host memory a
 * chunk is at most 64 MiB. -1 when one run per stream
 * cannot fit even with one stream. */
int plan_compute(size_t free_b, size_t total_b, double proportion, int host_memory,
                 size_t reserve, size_t bytes_per_run, size_t streams, size_t runs,
                 size_t block, size_t forced, struct plan *p);
/* The same from p->budget alone. */
int plan_chunks(size_t bytes_per_run, size_t streams, size_t runs, size_t block, size_t forced,
                struct plan *p);

/* ---- results (result.c) ---- */
/* The large arrays of a result: values, then a per-run block: status and
 * steps as int32 rows ([1 + 2][runs] when steps are kept), then reached
 * (float64 [runs]) from run_block_reached on. Device buffers for a chunk
 * have the same layout with the chunk's column length. */
static inline size_t run_block_reached(size_t int_rows, size_t runs)
{
	return (int_rows * runs * 4 + 7) / 8 * 8;
}
static inline size_t run_block_bytes(size_t int_rows, size_t runs)
{
	return run_block_reached(int_rows, runs) + runs * 8;
}
struct result_store {
	void *values;
	int32_t *ints;
	size_t values_bytes, ints_bytes;
	backend *pinned_by; /* registered with this backend for direct copies */
	int kept;           /* its solver reuses it once no result holds it */
	int in_use;         /* a live result holds it */
};
struct cubie_result {
	cubie_output out;      /* what writers see */
	cubie_array arrays[CB_MAX_ARRAYS]; /* time, values and summaries (unless streamed),
	                                    * status, reached, inputs, steps, events */
	size_t n_runs;
	char *settings;        /* out.settings, made for a writer */
	char **var_names, **input_names, **metric_names;
	char **ev_names;       /* the events' arrays' names */
	size_t n_ev_names;
	double *time;
	void *values;
	int32_t *status;
	int32_t *steps;        /* [2][runs]: accepted, rejected; NULL unless asked */
	double *reached;       /* [runs] the time each run reached */
	struct run_table inputs;
	struct result_store *store;
	size_t n_failed;
};
struct result_store *store_new(size_t values_bytes, size_t ints_bytes);
void store_free(struct result_store *st);
/* Page-lock the store for be's copies (best effort), and undo it. */
void store_pin(struct result_store *st, backend *be);
void store_unpin(struct result_store *st);
/* What a result holds besides its runs. */
struct result_shape {
	size_t n_saves;
	char *const *vars;
	size_t n_vars;
	char *const *inputs; /* the run table's n_inputs names */
	int precision;
	int values;          /* 0: no values nor summaries (a streamed solve's summary) */
	int steps;
	size_t n_windows;    /* summaries: [n_windows][n_metrics][runs] after values */
	char *const *metrics;
	size_t n_metrics;
	const struct events *events; /* their arrays after the summaries' */
	int time_per_run;    /* "time" is [n_saves][runs] (per-run spans), else [n_saves] */
};
/* A result over st, sharing the run table's values as its inputs. */
cubie_result *result_new(struct result_store *st, struct run_table *runs,
                         const struct result_shape *sh);
/* Host memory: available (what can be had without swapping) and total. */
void host_mem_info(size_t *avail, size_t *total);
#endif
