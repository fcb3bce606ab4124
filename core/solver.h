/* The solver's state, shared by solver.c (setup), controller.c (kernel
 * settings), planner.c (memory plan) and pipeline.c (the solve). */
#ifndef CUBIE_SOLVER_H
#define CUBIE_SOLVER_H
#include "internal.h"

/* One stream's share of the pipeline: device buffers for one chunk and
 * pinned staging for its inputs. */
struct slot {
	void *stream;
	uint64_t d_in, d_out, d_int; /* inputs, saved values, status (+ steps) */
	void *h_in, *h_out, *h_int;   /* h_out, h_int: only when streaming */
	size_t first, n;             /* the chunk in flight; n = 0: idle */
};

struct stream_group;

struct cubie_solver {
	const cubie_config *cfg;
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
	int *save;
	size_t n_save;
	int want_steps; /* [output] save names "steps" */
	char **save_names;
	double t0, duration, dt, save_every, mem_proportion, settle;
	size_t n_saves;
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
	unsigned runs_gen, packed_gen; /* staging holds the inputs of runs_gen + 1 */
	struct result_store *store;    /* result arrays kept for the next solve */
	cubie_progress_fn progress;
	void *progress_user;
	cubie_stats stats;
};

static inline size_t real_size(const cubie_solver *s)
{
	return s->precision == 32 ? 4 : 8;
}

int controller_defines(cubie_solver *s, sbuf *b, cubie_error *e); /* controller.c */
int solver_plan(cubie_solver *s, cubie_error *e);                  /* planner.c */
int group_join(cubie_solver *s, const char *name, cubie_error *e);  /* pipeline.c */
void solver_release(cubie_solver *s);                              /* pipeline.c */
int solver_streams(const cubie_solver *s);            /* its writer streams (pipeline.c) */
size_t solver_stream_chunk(const cubie_solver *s);    /* largest streamed chunk, runs */
size_t solver_result_bytes(const cubie_solver *s);    /* a whole result's host bytes */
const char *solver_compression(const cubie_solver *s); /* [output] compression or NULL */
/* The writer for path (NULL: [output] file): the solver's, or one loaded
 * into *w (plugin_close it); *resolved is the path (solver.c). */
int solver_writer(const cubie_solver *s, const char *path, struct plugin *w,
                  const struct plugin **use, const char **resolved, cubie_error *e);
#endif
