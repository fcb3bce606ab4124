/* The solve driver: from a validated configuration to a compiled kernel,
 * a memory plan, and a result gathered chunk by chunk. */
#include "config.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	int *save;
	size_t n_save;
	char **save_names;
	double t0, duration, dt, save_every, mem_proportion;
	size_t n_saves;
	/* plan */
	size_t bytes_per_run, budget, chunk_runs;
	char budget_from[160];
	cubie_stats stats;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cubie_solver_stats(const cubie_solver *s, cubie_stats *st)
{
	*st = s->stats;
}

static void host_log(void *ctx, int level, const char *msg)
{
	cb_log(level, "%s", msg);
}

static size_t real_size(const cubie_solver *s)
{
	return s->precision == 32 ? 4 : 8;
}

/* The writer follows [output] format, else the file's extension. */
static int load_writer(cubie_solver *s, const char *path, struct plugin *w, cubie_error *e)
{
	const char *fmt = cfg_str(s->cfg, "output", "format");
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *dot = strrchr(base, '.');
	if (!fmt && !dot)
		return cb_fail(e, CUBIE_ERR_CONFIG,
		               "%s: cannot tell the output format of '%s': give it an extension "
		               "(.npy, .csv) or set [output] format", s->cfg->path, path);
	return plugin_load(CUBIE_PLUGIN_WRITER, fmt ? fmt : dot + 1, s->dirs, s->n_dirs, w, e);
}

static int resolve_saves(cubie_solver *s, cubie_error *e)
{
	char **names;
	size_t n;
	int rc = cfg_names(s->cfg, "output", "save", &names, &n, e);
	if (rc)
		return rc;
	if (!n) { /* default: every state */
		cfg_free_names(names, n);
		n = s->model->n_states;
		names = calloc(n, sizeof *names);
		for (size_t i = 0; names && i < n; i++)
			names[i] = cb_strdup(s->model->states[i]);
	}
	s->save = calloc(n ? n : 1, sizeof *s->save);
	s->save_names = names;
	s->n_save = n;
	if (!s->save || !names)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	for (size_t i = 0; i < n; i++)
		if ((s->save[i] = model_var(s->model, names[i])) < 0) {
			char loc[600];
			return cb_fail(e, CUBIE_ERR_CONFIG,
			               "%s: [output] save: '%s' is neither a state nor an observable",
			               cfg_loc(cfg_get(s->cfg, "output", "save"), loc, sizeof loc), names[i]);
		}
	return 0;
}

static int read_settings(cubie_solver *s, cubie_error *e)
{
	const cubie_config *c = s->cfg;
	int rc;
	char loc[600];
	if ((rc = cfg_num(c, "solve", "t0", &s->t0, e)) ||
	    (rc = cfg_num(c, "solve", "duration", &s->duration, e)) ||
	    (rc = cfg_num(c, "solve", "dt", &s->dt, e)) ||
	    (rc = cfg_num(c, "output", "save_every", &s->save_every, e)) ||
	    (rc = cfg_num(c, "memory", "mem_proportion", &s->mem_proportion, e)))
		return rc;
	const struct cfg_entry *en;
#define REQUIRE(cond, sec, key, what)                                                         \
	if (!(cond)) {                                                                        \
		en = cfg_get(c, sec, key);                                                    \
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [%s] %s must be %s",                  \
		               en ? cfg_loc(en, loc, sizeof loc) : c->path, sec, key, what); \
	}
	REQUIRE(s->duration > 0, "solve", "duration", "positive");
	REQUIRE(s->dt > 0 && s->dt <= s->duration, "solve", "dt", "positive and at most the duration");
	REQUIRE(s->save_every >= 0 && s->save_every <= s->duration, "output", "save_every",
	        "between 0 and the duration");
	REQUIRE(s->mem_proportion > 0 && s->mem_proportion <= 1, "memory", "mem_proportion",
	        "in (0, 1]");
#undef REQUIRE
	s->precision = !strcmp(cfg_str(c, "solve", "precision"), "float32") ? 32 : 64;
	s->n_saves = 2;
	if (s->save_every > 0) {
		double k = ceil(s->duration / s->save_every - 1e-9);
		if (k > 1e9)
			return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [output] save_every gives over 1e9 saves",
			               c->path);
		s->n_saves = (size_t)k + 1;
	}
	return 0;
}

static int open_backend(cubie_solver *s, cubie_error *e)
{
	long long gpu, block, threads;
	int rc;
	if ((rc = cfg_int(s->cfg, "device", "gpu", &gpu, e)) ||
	    (rc = cfg_int(s->cfg, "device", "block_size", &block, e)) ||
	    (rc = cfg_int(s->cfg, "device", "threads", &threads, e)))
		return rc;
	const char *want = cfg_str(s->cfg, "device", "backend");
	if (strcmp(want, "cpu")) {
		cubie_error ce;
		rc = backend_cuda_open((int)gpu, (int)block, &s->be, &ce);
		if (!rc)
			return 0;
		if (!strcmp(want, "cuda"))
			return cb_fail(e, ce.code, "%s", ce.msg);
		cb_log(CUBIE_LOG_INFO, "no usable GPU (%s): using the cpu backend", ce.msg);
	}
	return backend_cpu_open((int)threads, &s->be, e);
}

/* Bytes per run and the budget; see DESIGN.md, "Memory planner". */
static int plan(cubie_solver *s, cubie_error *e)
{
	size_t r = real_size(s);
	s->bytes_per_run = (s->runs.n_inputs + s->n_saves * s->n_save) * r + sizeof(int32_t);
	size_t free_b, total_b;
	if (s->be->ops->mem_info(s->be, &free_b, &total_b))
		return cb_fail(e, CUBIE_ERR_RUNTIME, "cannot query the %s backend's memory",
		               s->be->ops->name);
	size_t cap = (size_t)(s->mem_proportion * (double)total_b);
	s->budget = free_b < cap ? free_b : cap;
	snprintf(s->budget_from, sizeof s->budget_from, "min(free %.2f GiB, %.2f x total %.2f GiB)",
	         free_b / 1073741824.0, s->mem_proportion, total_b / 1073741824.0);
	if (s->bytes_per_run > s->budget)
		return cb_fail(e, CUBIE_ERR_CONFIG,
		               "%s: one run needs %zu bytes but the budget is %zu bytes (%s): "
		               "save fewer variables or times ([output] save, save_every) or raise "
		               "[memory] mem_proportion",
		               s->cfg->path, s->bytes_per_run, s->budget, s->budget_from);
	size_t fit = s->budget / s->bytes_per_run;
	size_t block = s->be->block_size > 0 ? (size_t)s->be->block_size : 1;
	if (fit < s->runs.n_runs && fit > block)
		fit -= fit % block; /* whole blocks */
	s->chunk_runs = fit < s->runs.n_runs ? fit : s->runs.n_runs;
	if (!s->chunk_runs)
		s->chunk_runs = 1;
	return 0;
}

int cubie_solver_create(const cubie_config *cfg, cubie_solver **out, cubie_error *e)
{
	*out = NULL;
	cubie_solver *s = calloc(1, sizeof *s);
	if (!s)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	s->cfg = cfg;
	int rc;
	char *msrc = NULL, *src = NULL;
	if ((rc = model_build(cfg, &s->model, e)) || (rc = read_settings(s, e)) ||
	    (rc = resolve_saves(s, e)) || (rc = runs_build(cfg, s->model, &s->runs, e)))
		goto fail;
	s->dirs = plugin_dirs(cfg, &s->n_dirs);
	if ((rc = plugin_load(CUBIE_PLUGIN_INTEGRATOR, cfg_str(cfg, "solve", "integrator"), s->dirs,
	                      s->n_dirs, &s->integrator, e)) ||
	    (rc = plugin_load(CUBIE_PLUGIN_ALLOCATOR, cfg_str(cfg, "memory", "allocator"), s->dirs,
	                      s->n_dirs, &s->allocator, e)))
		goto fail;
	const char *path = cfg_str(cfg, "output", "file");
	if (path) {
		s->out_path = cfg_path(cfg, cfg_get(cfg, "output", "file"));
		if ((rc = load_writer(s, s->out_path, &s->writer, e)))
			goto fail;
	}
	if ((rc = open_backend(s, e)))
		goto fail;
	const struct backend_ops *o = s->be->ops;
	s->host = (cubie_host){s->be, o->name, o->mem_alloc, o->mem_free, o->mem_alloc_async,
	                       o->mem_free_async, o->mem_pool_keep, o->pinned_alloc, o->pinned_free,
	                       host_log};
	const cubie_allocator_ops *ao = s->allocator.desc->ops;
	char msg[512] = "";
	if (!(s->alloc = ao->create(&s->host, msg, sizeof msg))) {
		rc = cb_fail(e, CUBIE_ERR_CONFIG, "allocator '%s' (%s): %s", s->allocator.desc->name,
		             s->allocator.path, *msg ? msg : "cannot start");
		goto fail;
	}
	const cubie_integrator_ops *io = s->integrator.desc->ops;
	msrc = model_source(s->model, s->save, s->n_save);
	src = msrc ? kernel_source(s->precision, msrc, io->source) : NULL;
	if (!src) {
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		goto fail;
	}
	if ((rc = o->load(s->be, src, e)) || (rc = plan(s, e)))
		goto fail;
	s->stats.compile_s = s->be->compile_s;
	s->stats.cache_hit = s->be->cache_hit;
	free(msrc);
	free(src);
	*out = s;
	return 0;
fail:
	free(msrc);
	free(src);
	cubie_solver_free(s);
	return rc;
}

void cubie_solver_free(cubie_solver *s)
{
	if (!s)
		return;
	if (s->alloc)
		((const cubie_allocator_ops *)s->allocator.desc->ops)->destroy(s->alloc);
	if (s->be)
		s->be->ops->close(s->be);
	plugin_close(&s->integrator);
	plugin_close(&s->allocator);
	plugin_close(&s->writer);
	cfg_free_names(s->dirs, s->n_dirs);
	cfg_free_names(s->save_names, s->n_save);
	free(s->save);
	free(s->out_path);
	runs_free(&s->runs);
	model_free(s->model);
	free(s);
}

char *cubie_solver_describe(const cubie_solver *s)
{
	sbuf b = {0};
	const cubie_integrator_ops *io = s->integrator.desc->ops;
	size_t chunks = (s->runs.n_runs + s->chunk_runs - 1) / s->chunk_runs;
	sb_add(&b, "model:       %s (%zu states, %zu parameters, %zu observables)\n",
	       s->model->name, s->model->n_states, s->model->n_params, s->model->n_obs);
	sb_add(&b, "backend:     %s, %s\n", s->be->ops->name, s->be->device);
	sb_add(&b, "integrator:  %s, order %d, %d stages (%s)\n", s->integrator.desc->name, io->order,
	       io->stages, s->integrator.path);
	sb_add(&b, "kernel:      float%d, %s\n", s->precision,
	       s->be->cache_hit ? "from the cache" : "compiled");
	sb_add(&b, "runs:        %zu, %zu saves of %zu variables\n", s->runs.n_runs, s->n_saves,
	       s->n_save);
	sb_add(&b, "memory:      %zu bytes per run; budget %.3f GiB = %s\n", s->bytes_per_run,
	       s->budget / 1073741824.0, s->budget_from);
	sb_add(&b, "plan:        %zu chunk%s x %zu runs, allocator %s\n", chunks, chunks == 1 ? "" : "s",
	       s->chunk_runs, s->allocator.desc->name);
	if (s->out_path)
		sb_add(&b, "output:      %s (writer %s)\n", s->out_path, s->writer.desc->name);
	return b.s;
}

/* Device buffers for one chunk, and host staging of the same shape. */
struct chunk_bufs {
	uint64_t in, out, status;
	void *h_in, *h_out;
};

static int alloc_bufs(cubie_solver *s, struct chunk_bufs *cb, size_t n, cubie_error *e)
{
	const cubie_allocator_ops *ao = s->allocator.desc->ops;
	size_t r = real_size(s);
	size_t in_b = s->runs.n_inputs * n * r, out_b = s->n_saves * s->n_save * n * r;
	memset(cb, 0, sizeof *cb);
	if (ao->alloc(s->alloc, in_b ? in_b : r, NULL, &cb->in) ||
	    ao->alloc(s->alloc, out_b, NULL, &cb->out) ||
	    ao->alloc(s->alloc, n * sizeof(int32_t), NULL, &cb->status) ||
	    s->host.pinned_alloc(s->host.ctx, in_b ? in_b : r, &cb->h_in) ||
	    s->host.pinned_alloc(s->host.ctx, out_b, &cb->h_out))
		return cb_fail(e, CUBIE_ERR_RUNTIME,
		               "cannot allocate %zu bytes for a chunk of %zu runs on the %s backend",
		               in_b + out_b + n * sizeof(int32_t), n, s->be->ops->name);
	return 0;
}

static void free_bufs(cubie_solver *s, struct chunk_bufs *cb)
{
	const cubie_allocator_ops *ao = s->allocator.desc->ops;
	if (cb->in)
		ao->free(s->alloc, cb->in, NULL);
	if (cb->out)
		ao->free(s->alloc, cb->out, NULL);
	if (cb->status)
		ao->free(s->alloc, cb->status, NULL);
	if (cb->h_in)
		s->host.pinned_free(s->host.ctx, cb->h_in);
	if (cb->h_out)
		s->host.pinned_free(s->host.ctx, cb->h_out);
	ao->end_solve(s->alloc);
}

/* Runs [first, first + n): pack inputs, copy in, run, copy out, unpack. */
static int run_chunk(cubie_solver *s, struct chunk_bufs *cb, size_t first, size_t n,
                     size_t stride, cubie_result *res, cubie_error *e)
{
	const struct backend_ops *o = s->be->ops;
	size_t r = real_size(s), N = s->runs.n_runs, ni = s->runs.n_inputs;
	for (size_t i = 0; i < ni; i++) {
		const double *src = s->runs.v + i * N + first;
		if (r == 4)
			for (size_t j = 0; j < n; j++)
				((float *)cb->h_in)[i * stride + j] = (float)src[j];
		else
			memcpy((double *)cb->h_in + i * stride, src, n * sizeof(double));
	}
	struct cubie_args a = {
		.y0 = (const void *)(uintptr_t)cb->in,
		.params = (const void *)(uintptr_t)(cb->in + s->model->n_states * stride * r),
		.out = (void *)(uintptr_t)cb->out,
		.status = (int *)(uintptr_t)cb->status,
		.n = (long long)n,
		.stride = (long long)stride,
		.n_saves = (long long)s->n_saves,
		.t0 = s->t0,
		.duration = s->duration,
		.dt = s->dt,
		.save_every = s->save_every,
	};
	size_t rows = s->n_saves * s->n_save;
	int rc;
	if ((rc = o->copy_h2d(s->be, cb->in, cb->h_in, ni * stride * r, NULL, e)) ||
	    (rc = o->launch(s->be, &a, NULL, e)) ||
	    (rc = o->copy_d2h(s->be, cb->h_out, cb->out, rows * stride * r, NULL, e)) ||
	    (rc = o->copy_d2h(s->be, res->status + first, cb->status, n * sizeof(int32_t), NULL, e)) ||
	    (rc = o->stream_sync(s->be, NULL, e)))
		return rc;
	for (size_t k = 0; k < rows; k++)
		memcpy((char *)res->values + (k * N + first) * r, (char *)cb->h_out + k * stride * r, n * r);
	return 0;
}

int cubie_solve(cubie_solver *s, cubie_result **out, cubie_error *e)
{
	*out = NULL;
	double t_start = now();
	size_t N = s->runs.n_runs;
	s->be->kernel_s = 0;
	s->stats.chunks = 0;
	char **inputs = calloc(s->runs.n_inputs + 1, sizeof *inputs);
	if (!inputs)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	for (size_t i = 0; i < s->runs.n_inputs; i++)
		inputs[i] = i < s->model->n_states ? s->model->states[i]
		                                   : s->model->params[i - s->model->n_states];
	cubie_result *res = result_new(N, s->n_saves, s->save_names, s->n_save, inputs,
	                               s->runs.n_inputs, s->precision);
	free(inputs);
	if (!res)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory for the result of %zu runs", N);
	memcpy(res->inputs, s->runs.v, s->runs.n_inputs * N * sizeof(double));
	for (size_t k = 0; k < s->n_saves; k++)
		res->time[k] = k == s->n_saves - 1 ? s->t0 + s->duration : s->t0 + (double)k * s->save_every;

	struct chunk_bufs cb;
	size_t stride = s->chunk_runs;
	int rc = alloc_bufs(s, &cb, stride, e);
	for (size_t first = 0; !rc && first < N; first += stride) {
		size_t n = N - first < stride ? N - first : stride;
		rc = run_chunk(s, &cb, first, n, stride, res, e);
		s->stats.chunks++;
		cb_log(CUBIE_LOG_DEBUG, "chunk of runs %zu..%zu done", first, first + n - 1);
	}
	free_bufs(s, &cb);
	if (rc) {
		cubie_result_free(res);
		return rc;
	}
	for (size_t i = 0; i < N; i++)
		res->n_failed += res->status[i] != 0;
	s->stats.kernel_s = s->be->kernel_s;
	s->stats.solve_s = now() - t_start;
	*out = res;
	return 0;
}

int cubie_result_write(const cubie_result *r, const cubie_solver *s, const char *path,
                       cubie_error *e)
{
	struct plugin w = {0};
	const struct plugin *use = &s->writer;
	if (!path)
		path = s->out_path;
	if (!path)
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: no output file: set [output] file or use -o",
		               s->cfg->path);
	if (!s->out_path || strcmp(path, s->out_path)) {
		int rc = load_writer((cubie_solver *)s, path, &w, e);
		if (rc)
			return rc;
		use = &w;
	}
	char msg[1024] = "";
	const cubie_writer_ops *wo = use->desc->ops;
	int rc = wo->write(&s->host, &r->out, path, msg, sizeof msg)
	             ? cb_fail(e, CUBIE_ERR_RUNTIME, "writer %s: %s", use->desc->name,
	                       *msg ? msg : "failed")
	             : 0;
	plugin_close(&w);
	return rc;
}

char *cubie_plugins_describe(const cubie_config *cfg, cubie_error *e)
{
	size_t n;
	char **dirs = plugin_dirs(cfg, &n);
	char *list = dirs ? plugin_list(dirs, n) : NULL;
	cfg_free_names(dirs, n);
	if (!list)
		cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	return list;
}
