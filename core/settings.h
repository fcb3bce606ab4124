/* The fixed-key sections of a configuration, read and range-checked once
 * (settings.c) so that the core reads typed fields instead of looking keys
 * up by name. Each section keeps, per key, the entry that set it (NULL: the
 * schema default), so that later messages can still say "FILE:LINE: [sec]
 * key ...". The free-form sections ([constants], [equations], [initial],
 * [parameters], [drivers], the named [events] entries) and [model] are the
 * model's data: they stay read through cfg_get/cfg_section. */
#ifndef CUBIE_SETTINGS_H
#define CUBIE_SETTINGS_H
#include "internal.h"

/* The choice keys, as the schema spells them (settings.c maps the words). */
enum precision { PRECISION_FLOAT32 = 32, PRECISION_FLOAT64 = 64 };
/* in the order of controller.c's names; AUTO: the integrator's default */
enum controller { CONTROLLER_AUTO = -1, CONTROLLER_FIXED, CONTROLLER_I, CONTROLLER_PI,
                  CONTROLLER_PID, CONTROLLER_GUSTAFSSON };
enum jacobian_update { JACOBIAN_STEP, JACOBIAN_ITERATION };
enum backend_choice { BACKEND_AUTO, BACKEND_CUDA, BACKEND_CPU };
enum combine { COMBINE_GRID, COMBINE_ZIP };

struct settings_solve {
	const char *integrator;
	/* t0, duration, settling_time, indexed as runs_span_keys: value lists
	 * that may name the model's constants, so the run table reads them
	 * from span_at (runs.c); span_def is the default when unset */
	const struct cfg_entry *span_at[RUNS_SPANS];
	double span_def[RUNS_SPANS];
	double dt, dt_min, dt_max, safety, min_gain, max_gain, newton_tol;
	long long max_steps, newton_max_iter;
	double *atol, *rtol; /* one value, or one per state (checked with the model) */
	size_t n_atol, n_rtol;
	enum precision precision;
	enum controller controller;
	enum jacobian_update jacobian_update;
	struct {
		const struct cfg_entry *integrator, *dt, *precision, *controller, *atol, *rtol,
			*dt_min, *dt_max, *max_steps, *safety, *min_gain, *max_gain, *newton_tol,
			*newton_max_iter, *jacobian_update;
	} at;
};

struct settings_output {
	const char *file, *format, *summaries; /* NULL: unset */
	const char *compression;               /* "none" when unset */
	double save_every, sample_every, summarise_every;
	char **save, **summarise; /* names, checked against the model where it is */
	size_t n_save, n_summarise;
	struct {
		const struct cfg_entry *file, *format, *save_every, *save, *compression, *summaries,
			*summarise, *sample_every, *summarise_every;
	} at;
};

struct settings_events {
	double tolerance, chatter_spacing; /* chatter_spacing unset: 100 x tolerance */
	long long max_chatter;
	struct {
		const struct cfg_entry *tolerance, *max_chatter, *chatter_spacing;
	} at;
};

struct settings_memory {
	const char *allocator, *stream_group; /* stream_group NULL: unset */
	double mem_proportion;
	long long streams, chunk_runs; /* chunk_runs 0: auto */
	struct {
		const struct cfg_entry *allocator, *mem_proportion, *streams, *chunk_runs,
			*stream_group;
	} at;
};

struct settings_device {
	enum backend_choice backend;
	int *gpus; /* gpu_all: every GPU, counted when the backend opens */
	size_t n_gpus;
	int gpu_all;
	long long block_size, threads; /* 0: auto */
	struct {
		const struct cfg_entry *backend, *gpu, *block_size, *threads;
	} at;
};

struct settings_runs {
	enum combine combine;
	struct {
		const struct cfg_entry *combine, *file; /* file: its path is cfg_path's */
	} at;
};

struct settings {
	const char *path; /* the user's file, named when a key is unset */
	struct settings_solve solve;
	struct settings_output output;
	struct settings_events events;
	struct settings_memory memory;
	struct settings_device device;
	struct settings_runs runs;
};

/* Read every fixed key of c (value or default) into *s, checking the
 * ranges that need nothing but the configuration. On failure *s is freed. */
int settings_read(const cubie_config *c, struct settings *s, cubie_error *e);
void settings_free(struct settings *s);
/* "FILE:LINE" of the entry at, or the user's file when the key is unset. */
const char *settings_loc(const struct settings *s, const struct cfg_entry *at, char *buf,
                         size_t len);
/* For checks that need the model, runs or integrator too: 0 when cond
 * holds, else cfg_require's "FILE:LINE: [sec] key must be WHAT". */
int settings_require(const struct settings *s, const struct cfg_entry *at, const char *sec,
                     const char *key, int cond, const char *what, cubie_error *e);
#endif
