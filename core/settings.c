/* The fixed-key sections read once into struct settings (settings.h): the
 * one place that looks those keys up by name. Values were checked against
 * their types when the file was loaded (config.c); the ranges that need
 * nothing else are checked here, the rest where the model, runs or
 * integrator are known, with settings_require. */
#include "config.h"
#include "settings.h"

#include <stdlib.h>
#include <string.h>

const char *settings_loc(const struct settings *s, const struct cfg_entry *at, char *buf,
                         size_t len)
{
	if (at)
		return cfg_loc(at, buf, len);
	snprintf(buf, len, "%s", s->path ? s->path : "configuration");
	return buf;
}

int settings_require(const struct settings *s, const struct cfg_entry *at, const char *sec,
                     const char *key, int cond, const char *what, cubie_error *e)
{
	char loc[600];
	if (cond)
		return 0;
	return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [%s] %s must be %s",
	               settings_loc(s, at, loc, sizeof loc), sec, key, what);
}

/* Readers that name each key once: *at gets the entry that set it (NULL:
 * the default), kept for later messages, and the value is read as config.c
 * reads it. */
static const char *str(const cubie_config *c, const char *sec, const char *key,
                       const struct cfg_entry **at)
{
	*at = cfg_get(c, sec, key);
	return cfg_str(c, sec, key);
}

/* Unset with no default ([events] chatter_spacing alone): *v is kept. */
static int num(const cubie_config *c, const char *sec, const char *key,
               const struct cfg_entry **at, double *v, cubie_error *e)
{
	return str(c, sec, key, at) ? cfg_num(c, sec, key, v, e) : 0;
}

static int integer(const cubie_config *c, const char *sec, const char *key,
                   const struct cfg_entry **at, long long *v, cubie_error *e)
{
	*at = cfg_get(c, sec, key);
	return cfg_int(c, sec, key, v, e);
}

static int names(const cubie_config *c, const char *sec, const char *key,
                 const struct cfg_entry **at, char ***v, size_t *n, cubie_error *e)
{
	*at = cfg_get(c, sec, key);
	return cfg_names(c, sec, key, v, n, e);
}

static int gpus(const cubie_config *c, const char *sec, const char *key,
                const struct cfg_entry **at, int **v, size_t *n, int *all, cubie_error *e)
{
	*at = cfg_get(c, sec, key);
	return cfg_gpus(c, sec, key, v, n, all, e);
}

/* A value list of [solve] (atol, rtol), set or its default. */
static int values(const cubie_config *c, const char *key, const struct cfg_entry **at,
                  double **v, size_t *n, cubie_error *e)
{
	struct cfg_entry def = {"solve", (char *)key, (char *)str(c, "solve", key, at), "default", 0};
	return cfg_values(*at ? *at : &def, v, n, e);
}

static int read_solve(const cubie_config *c, struct settings *st, cubie_error *e)
{
	struct settings_solve *s = &st->solve;
	static const char *const ctl[] = {"fixed", "i", "pi", "pid", "gustafsson"};
	int rc;
	for (int k = 0; k < RUNS_SPANS; k++)
		s->span_def[k] = atof(str(c, "solve", runs_span_keys[k], &s->span_at[k]));
	s->integrator = str(c, "solve", "integrator", &s->at.integrator);
	s->precision = !strcmp(str(c, "solve", "precision", &s->at.precision), "float32")
	               ? PRECISION_FLOAT32 : PRECISION_FLOAT64;
	const char *want = str(c, "solve", "controller", &s->at.controller);
	s->controller = CONTROLLER_AUTO;
	for (int k = 0; k < 5; k++)
		if (!strcmp(want, ctl[k]))
			s->controller = (enum controller)k;
	s->jacobian_update = !strcmp(str(c, "solve", "jacobian_update", &s->at.jacobian_update),
	                             "iteration") ? JACOBIAN_ITERATION : JACOBIAN_STEP;
	if ((rc = num(c, "solve", "dt", &s->at.dt, &s->dt, e)) ||
	    (rc = num(c, "solve", "safety", &s->at.safety, &s->safety, e)) ||
	    (rc = num(c, "solve", "min_gain", &s->at.min_gain, &s->min_gain, e)) ||
	    (rc = num(c, "solve", "max_gain", &s->at.max_gain, &s->max_gain, e)) ||
	    (rc = num(c, "solve", "dt_min", &s->at.dt_min, &s->dt_min, e)) ||
	    (rc = num(c, "solve", "dt_max", &s->at.dt_max, &s->dt_max, e)) ||
	    (rc = integer(c, "solve", "max_steps", &s->at.max_steps, &s->max_steps, e)) ||
	    (rc = num(c, "solve", "newton_tol", &s->at.newton_tol, &s->newton_tol, e)) ||
	    (rc = integer(c, "solve", "newton_max_iter", &s->at.newton_max_iter,
	                  &s->newton_max_iter, e)) ||
	    (rc = values(c, "atol", &s->at.atol, &s->atol, &s->n_atol, e)) ||
	    (rc = values(c, "rtol", &s->at.rtol, &s->rtol, &s->n_rtol, e)))
		return rc;
	/* dt against the duration, dt_min against dt, and Newton's keys for
	 * implicit methods only: where the runs and integrator are known */
	if (settings_require(st, s->at.dt, "solve", "dt", s->dt > 0,
	                     "positive and at most the duration", e) ||
	    settings_require(st, s->at.safety, "solve", "safety", s->safety > 0 && s->safety <= 1,
	                     "in (0, 1]", e) ||
	    settings_require(st, s->at.min_gain, "solve", "min_gain",
	                     s->min_gain > 0 && s->min_gain < 1, "in (0, 1)", e) ||
	    settings_require(st, s->at.max_gain, "solve", "max_gain", s->max_gain > 1,
	                     "greater than 1", e) ||
	    settings_require(st, s->at.dt_min, "solve", "dt_min", s->dt_min >= 0,
	                     "0 or more, and below dt", e) ||
	    settings_require(st, s->at.dt_max, "solve", "dt_max", s->dt_max >= 0,
	                     "0 (no limit) or more", e) ||
	    settings_require(st, s->at.max_steps, "solve", "max_steps",
	                     s->max_steps > 0 && s->max_steps <= 2000000000, "between 1 and 2e9", e))
		return CUBIE_ERR_CONFIG;
	return 0;
}

static int read_output(const cubie_config *c, struct settings *st, cubie_error *e)
{
	struct settings_output *o = &st->output;
	int rc;
	o->file = str(c, "output", "file", &o->at.file);
	o->format = str(c, "output", "format", &o->at.format);
	o->summaries = str(c, "output", "summaries", &o->at.summaries);
	o->compression = str(c, "output", "compression", &o->at.compression);
	if ((rc = num(c, "output", "save_every", &o->at.save_every, &o->save_every, e)) ||
	    (rc = num(c, "output", "sample_every", &o->at.sample_every, &o->sample_every, e)) ||
	    (rc = num(c, "output", "summarise_every", &o->at.summarise_every, &o->summarise_every,
	              e)) ||
	    (rc = names(c, "output", "save", &o->at.save, &o->save, &o->n_save, e)) ||
	    (rc = names(c, "output", "summarise", &o->at.summarise, &o->summarise, &o->n_summarise,
	                e)))
		return rc;
	/* at most the duration: checked with the runs (solver.c, summaries.c) */
	if (settings_require(st, o->at.save_every, "output", "save_every", o->save_every >= 0,
	                     "between 0 and the duration", e) ||
	    settings_require(st, o->at.sample_every, "output", "sample_every", o->sample_every >= 0,
	                     "between 0 and the duration", e) ||
	    settings_require(st, o->at.summarise_every, "output", "summarise_every",
	                     o->summarise_every >= 0, "between 0 and the duration", e))
		return CUBIE_ERR_CONFIG;
	return 0;
}

/* Checked in events.c, and only when there are events, as before. */
static int read_events(const cubie_config *c, struct settings *st, cubie_error *e)
{
	struct settings_events *v = &st->events;
	int rc;
	if ((rc = num(c, "events", "tolerance", &v->at.tolerance, &v->tolerance, e)) ||
	    (rc = integer(c, "events", "max_chatter", &v->at.max_chatter, &v->max_chatter, e)))
		return rc;
	v->chatter_spacing = 100 * v->tolerance; /* kept when unset (no default) */
	return num(c, "events", "chatter_spacing", &v->at.chatter_spacing, &v->chatter_spacing, e);
}

static int read_memory(const cubie_config *c, struct settings *st, cubie_error *e)
{
	struct settings_memory *m = &st->memory;
	int rc;
	m->allocator = str(c, "memory", "allocator", &m->at.allocator);
	m->stream_group = str(c, "memory", "stream_group", &m->at.stream_group);
	if ((rc = num(c, "memory", "mem_proportion", &m->at.mem_proportion, &m->mem_proportion, e)) ||
	    (rc = integer(c, "memory", "streams", &m->at.streams, &m->streams, e)) ||
	    (rc = integer(c, "memory", "chunk_runs", &m->at.chunk_runs, &m->chunk_runs, e)))
		return rc;
	if (settings_require(st, m->at.mem_proportion, "memory", "mem_proportion",
	                     m->mem_proportion > 0 && m->mem_proportion <= 1, "in (0, 1]", e) ||
	    settings_require(st, m->at.streams, "memory", "streams",
	                     m->streams >= 1 && m->streams <= 64, "between 1 and 64", e) ||
	    settings_require(st, m->at.chunk_runs, "memory", "chunk_runs", m->chunk_runs >= 0,
	                     "auto or a positive number", e))
		return CUBIE_ERR_CONFIG;
	return 0;
}

static int read_device(const cubie_config *c, struct settings *st, cubie_error *e)
{
	struct settings_device *d = &st->device;
	int rc;
	const char *be = str(c, "device", "backend", &d->at.backend);
	d->backend = !strcmp(be, "cuda") ? BACKEND_CUDA : !strcmp(be, "cpu") ? BACKEND_CPU
	                                                                    : BACKEND_AUTO;
	if ((rc = gpus(c, "device", "gpu", &d->at.gpu, &d->gpus, &d->n_gpus, &d->gpu_all, e)) ||
	    (rc = integer(c, "device", "block_size", &d->at.block_size, &d->block_size, e)) ||
	    (rc = integer(c, "device", "threads", &d->at.threads, &d->threads, e)))
		return rc;
	if (settings_require(st, d->at.threads, "device", "threads",
	                     d->threads >= 0 && d->threads <= 1024, "auto or between 1 and 1024", e))
		return CUBIE_ERR_CONFIG;
	return 0;
}

static void read_runs(const cubie_config *c, struct settings *st)
{
	st->runs.at.file = cfg_get(c, "runs", "file"); /* its path is read by cfg_path */
	st->runs.combine = !strcmp(str(c, "runs", "combine", &st->runs.at.combine), "zip")
	                   ? COMBINE_ZIP : COMBINE_GRID;
}

int settings_read(const cubie_config *c, struct settings *s, cubie_error *e)
{
	memset(s, 0, sizeof *s);
	s->path = c->path;
	int rc;
	read_runs(c, s);
	if ((rc = read_solve(c, s, e)) || (rc = read_output(c, s, e)) ||
	    (rc = read_events(c, s, e)) || (rc = read_memory(c, s, e)) ||
	    (rc = read_device(c, s, e)))
		settings_free(s);
	return rc;
}

void settings_free(struct settings *s)
{
	free(s->solve.atol);
	free(s->solve.rtol);
	cfg_free_names(s->output.save, s->output.n_save);
	cfg_free_names(s->output.summarise, s->output.n_summarise);
	free(s->device.gpus);
	memset(s, 0, sizeof *s);
}
