/* The solver's state, shared by solver.c (setup), controller.c (kernel
 * settings), planner.c (memory plan) and pipeline.c (the solve). */
#ifndef CUBIE_SOLVER_H
#define CUBIE_SOLVER_H
#include "internal.h"
#include "settings.h"

/* One stream's share of the pipeline: device buffers for one chunk and
 * pinned staging for its inputs. */
#define PROGRESS_SLICES 64 /* launches per chunk when progress is reported */
struct slice_done {
	struct cubie_solver *s;
	size_t runs;
};
struct slot {
	void *stream;
	uint64_t d_in, d_out, d_int; /* inputs, saved values, status (+ steps) */
	void *h_failed;              /* pinned: the chunk's failed count, to and from the device */
	void *h_out, *h_int;         /* only when streaming */
	size_t first, n;             /* the chunk in flight; n = 0: idle */
	struct slice_done slices[PROGRESS_SLICES]; /* when progress is reported */
	size_t n_slices;
};

struct stream_group;

/* [output] summaries and friends (summaries.c), read once. */
struct summaries {
	size_t n_vars;       /* summarised variables (0 slots: no summaries) */
	size_t n_states;     /* the model's, to tell states among vars */
	int *vars;           /* model_var indices */
	char **var_names;
	size_t n_slots;      /* output values per variable and window */
	int slot[15], count[15]; /* each metric's first slot (-1: not asked) and slots */
	char **names;        /* [n_vars * n_slots]: "x.mean", ... */
	double sample_every, summarise_every;
	size_t n_windows;
};

/* The run's time grid (args.h's tick, n_ticks, ...). */
struct grid {
	double tick;
	int n_ticks, save_ticks, sample_ticks, window_ticks;
};

struct cubie_solver {
	const cubie_config *cfg;
	struct settings set; /* its fixed keys, read once (settings.h) */
	struct model *model;
	struct run_table runs;
	struct plugin integrator, allocator, writer;
	char **dirs;
	size_t n_dirs;
	char *out_path;
	backend *be;
	cubie_host host;
	void *alloc; /* the allocator's state */
	int precision;
	const char *controller;
	int auto_dt;    /* adaptive, no dt given: the first step is chosen per run */
	int *save;
	size_t n_save;
	int want_steps; /* [output] save names "steps" */
	char **save_names;
	double t0, duration, dt, save_every, mem_proportion, settle;
	uint64_t drv_dev;  /* the drivers' coefficients on the device (drivers.h), 0: none */
	uint64_t sweep_dev; /* a sweep on the device (args.h), 0: none */
	unsigned sweep_id;  /* the id of the sweep sweep_dev holds; 0: none */
	size_t n_saves;
	struct grid grid;
	struct summaries sums;
	struct events events;
	/* memory */
	size_t streams_wanted, forced_chunk;
	size_t bytes_per_run;
	struct plan plan;
	char budget_from[200];
	struct stream_group *group;
	struct slot *slots;
	size_t n_slots;
	size_t staged_runs;  /* capacity of the pinned staging in slots */
	struct workers *workers; /* host threads for packing */
	unsigned runs_gen;             /* counts new run tables (set_inputs) */
	double *spare;                 /* a free table of spare_values (set_inputs) */
	size_t spare_values;
	/* The run table in the device's layout and precision, pinned, packed
	 * once for every solve of these runs on every device. */
	void *packed;
	size_t packed_bytes;
	int packed_pinned;             /* else malloc'd: pinning failed */
	unsigned packed_gen;           /* runs_gen + 1 of what packed holds; 0: none */
	struct result_store *store;    /* result arrays kept for the next solve */
	cubie_progress_fn progress;
	size_t runs_done, runs_reported; /* runs_done: counted as slices finish */
	void *progress_user;
	cubie_stats stats;
	/* host seconds of the last solve on this device, logged at debug level:
	 * queueing copies and launches, waiting on streams, delivering chunks */
	double t_queue, t_wait, t_deliver;
	/* [device] gpu: the devices (multidev.c); devs[0] is the solver itself,
	 * the others share its settings and runs with a backend, allocator,
	 * streams and staging of their own. One device: n_devs 0 or 1. */
	int *gpus;
	size_t n_gpus;
	int block_req, threads_req;
	cubie_solver **devs;
	size_t n_devs;
};

static inline size_t real_size(const cubie_solver *s)
{
	return s->precision == 32 ? 4 : 8;
}

/* int32 rows of the per-run block: status, and accepted, rejected steps */
static inline size_t int_rows(const cubie_solver *s)
{
	return s->want_steps ? 3 : 1;
}

int controller_defines(cubie_solver *s, sbuf *b, cubie_error *e); /* controller.c */
int summaries_read(cubie_solver *s, cubie_error *e);              /* summaries.c */
int grid_plan(cubie_solver *s, cubie_error *e);
void summaries_defines(const struct summaries *sm, sbuf *b);
void summaries_free(struct summaries *sm);
/* Rows of one chunk's output: saved values, then summaries ... */
static inline size_t summary_rows(const cubie_solver *s)
{
	return s->sums.n_windows * s->sums.n_vars * s->sums.n_slots;
}
/* ... then the events' rows (events.c) */
static inline size_t out_rows(const cubie_solver *s)
{
	return s->n_saves * s->n_save + summary_rows(s) + s->events.rows;
}
/* Where finished chunks go: straight into a whole result, or through the
 * slots' staging to a streaming writer (res then holds no values). */
struct sink {
	cubie_result *res;
	const cubie_writer_ops *wo; /* streaming */
	void *w;
	double *inputs;             /* the chunk's inputs, [inputs][n] */
	const char *packed;         /* the solver's packed run table, which chunks copy in */
	char msg[1024];
	/* several devices: a finished chunk goes here (multidev.c) */
	int (*deliver)(struct sink *k, cubie_solver *s, struct slot *sl, cubie_error *e);
	void *ctx;
};
/* cubie_solver_set_inputs from rows pitch values apart (a block of a
 * larger table); the spare table goes with the solver. */
int solver_set_runs(cubie_solver *s, const double *values, size_t pitch, size_t n_runs,
                    cubie_error *e);
/* Runs [first, first + n) of full, with its sweep when it has one. */
int solver_set_block(cubie_solver *s, const struct run_table *full, size_t first, size_t n,
                     cubie_error *e);
void solver_free_spare(cubie_solver *s);
/* The pipeline's steps (pipeline.c), for the several-device driver. */
int pipe_prepare(cubie_solver *s, struct sink *k, cubie_error *e);
int pipe_submit(cubie_solver *s, struct slot *sl, size_t first, size_t n, struct sink *k,
                cubie_error *e);
int pipe_finish(cubie_solver *s, struct slot *sl, struct sink *k, cubie_error *e);
int pipe_stream_chunk(cubie_solver *s, struct slot *sl, struct sink *k, cubie_error *e);
void pipe_release(cubie_solver *s);
/* Several devices (multidev.c): open the devices after the first, with
 * the kernel src; solve over them all; their plan for `check`. */
int multi_open(cubie_solver *s, const char *src, cubie_error *e);
void multi_close(cubie_solver *s);
int multi_solve(cubie_solver *s, struct sink *k, cubie_error *e);
void multi_describe(const cubie_solver *s, sbuf *b);
int solver_plan(cubie_solver *s, cubie_error *e);                  /* planner.c */
int group_join(cubie_solver *s, const char *name, cubie_error *e);  /* pipeline.c */
void solver_release(cubie_solver *s);                              /* pipeline.c */
int solver_upload_drivers(cubie_solver *s, cubie_error *e);          /* solver.c */
int solver_streams(const cubie_solver *s);            /* its writer streams (pipeline.c) */
size_t solver_stream_chunk(const cubie_solver *s);    /* largest streamed chunk, runs */
size_t solver_result_bytes(const cubie_solver *s);    /* a whole result's host bytes */
const char *solver_compression(const cubie_solver *s); /* [output] compression or NULL */
/* A new result of the solver's runs: whole (values 1), or a streamed solve's
 * summary; and the arrays a streaming writer's open receives for n runs,
 * data NULL (pipeline.c). */
cubie_result *solver_new_result(cubie_solver *s, int values);
size_t solver_stream_arrays(const cubie_solver *s, const cubie_result *res, size_t n,
                            cubie_array *arr);
/* The writer for path (NULL: [output] file): the solver's, or one loaded
 * into *w (plugin_close it); *resolved is the path (solver.c). */
int solver_writer(const cubie_solver *s, const char *path, struct plugin *w,
                  const struct plugin **use, const char **resolved, cubie_error *e);
#endif
