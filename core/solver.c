/* The solve driver: from a validated configuration to a compiled kernel,
 * a memory plan, and a result gathered chunk by chunk. */
#include "config.h"
#include "ranks.h"
#include "solver.h"
#include "drivers.h"
#include "spans.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


void cubie_solver_stats(const cubie_solver *s, cubie_stats *st)
{
	*st = s->stats;
}

static void host_log(void *ctx, int level, const char *msg)
{
	cb_log(level, "%s", msg);
}

/* A refusal to load the plugin named at en, told at that key's line (en
 * NULL: the default, told as it is). */
static int plugin_at(const struct cfg_entry *en, int rc, cubie_error *e)
{
	char loc[600], msg[sizeof e->msg];
	if (rc && en && e) {
		snprintf(msg, sizeof msg, "%s", e->msg);
		cb_fail(e, rc, "%s: %s", cfg_loc(en, loc, sizeof loc), msg);
	}
	return rc;
}

/* The writer follows [output] format, else the file's extension. */
static int load_writer(cubie_solver *s, const char *path, struct plugin *w, cubie_error *e)
{
	const struct settings_output *o = &s->set.output;
	const char *fmt = o->format;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *dot = strrchr(base, '.');
	if (!fmt && !dot)
		return cb_fail(e, CUBIE_ERR_CONFIG,
		               "%s: cannot tell the output format of '%s': give it an extension "
		               "(.npz, .csv, .h5) or set [output] format", s->cfg->path, path);
	/* one .npy file cannot hold a result: a .npy path is the directory form */
	if (!fmt && !strcmp(dot + 1, "npy"))
		fmt = "npydir";
	int rc = plugin_at(o->at.format ? o->at.format : o->at.file,
	                   plugin_load(CUBIE_PLUGIN_WRITER, fmt ? fmt : dot + 1, s->dirs, s->n_dirs,
	                               w, e), e);
	const cubie_writer_ops *wo = rc ? NULL : w->desc->ops;
	const char *comp = o->compression;
	if (wo && o->at.summaries && !(w->desc->abi_minor >= 1 && wo->summaries)) {
		char loc[600];
		rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [output] summaries: writer %s cannot hold them; "
		             "use an .npz or .h5 output",
		             cfg_loc(o->at.summaries, loc, sizeof loc),
		             w->desc->name);
		plugin_close(w);
		wo = NULL;
	}
	if (wo && strcmp(comp, "none") && !(w->desc->abi_minor >= 1 && wo->compresses)) {
		char loc[600];
		rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [output] compression: writer %s does not "
		             "compress; use an .h5 output, or compression = none",
		             settings_loc(&s->set, o->at.compression, loc, sizeof loc),
		             w->desc->name);
		plugin_close(w);
	}
	return rc;
}

const char *solver_compression(const cubie_solver *s)
{
	const char *c = s->set.output.compression;
	return strcmp(c, "none") ? c : NULL;
}

/* Can the output be written? The writer's temporary file goes beside the
 * target, so one is made (and removed) there now rather than after the
 * solve: a missing or read-only directory fails in seconds, and in check. */
static int probe_output(const cubie_solver *s, cubie_error *e)
{
	size_t n = strlen(s->out_path);
	while (n > 1 && s->out_path[n - 1] == '/')
		n--;
	char *tmp = cb_printf("%.*s.cubie-probe-XXXXXX", (int)n, s->out_path), loc[600];
	int fd = tmp ? mkstemp(tmp) : -1, err = errno;
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	if (fd >= 0)
		return 0;
	return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [output] file: cannot create %s (or a file beside "
	               "it): %s", cfg_loc(s->set.output.at.file, loc, sizeof loc),
	               s->out_path, strerror(err));
}

/* [output] save: states and observables, "steps" for the per-run step
 * counts (kept only when asked), "none" for no saved series. No variable
 * named: every state. */
static int resolve_saves(cubie_solver *s, cubie_error *e)
{
	const struct settings_output *o = &s->set.output;
	size_t n = o->n_save, k = 0;
	char **names = calloc(n ? n : 1, sizeof *names); /* the solver's copy, edited below */
	for (size_t i = 0; names && i < n; i++)
		if (!(names[i] = cb_strdup(o->save[i]))) {
			cfg_free_names(names, i);
			names = NULL;
		}
	if (!names)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	int none = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(names[i], "steps") && model_var(s->model, "steps") < 0) {
			s->want_steps = 1;
			free(names[i]);
		} else if (!strcmp(names[i], "none") && model_var(s->model, "none") < 0) {
			none = 1; /* summaries only, say */
			free(names[i]);
		} else {
			names[k++] = names[i];
		}
	}
	n = k;
	if (!n && !none) { /* default: every state */
		free(names);
		n = s->model->n_states;
		names = calloc(n ? n : 1, sizeof *names);
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
			               cfg_loc(o->at.save, loc, sizeof loc), names[i]);
		}
	return 0;
}

/* The settings the run table's spans bound: the rest were checked when
 * they were read (settings.c). */
static int read_settings(cubie_solver *s, cubie_error *e)
{
	const struct settings *st = &s->set;
	const struct settings_solve *so = &st->solve;
	int rc;
	/* t0, duration, settling_time: from the run table, which sweeps them */
	if ((rc = spans_settings(s, e)))
		return rc;
	s->dt = so->dt;
	s->save_every = st->output.save_every;
	s->mem_proportion = st->memory.mem_proportion;
	if (settings_require(st, so->span_at[1], "solve", "duration", s->duration > 0, "positive",
	                     e) ||
	    settings_require(st, so->at.dt, "solve", "dt", s->dt <= s->duration || !so->at.dt,
	                     "positive and at most the duration", e) ||
	    settings_require(st, st->output.at.save_every, "output", "save_every",
	                     s->save_every <= s->duration, "between 0 and the duration", e) ||
	    settings_require(st, so->span_at[2], "solve", "settling_time", s->settle >= 0,
	                     "0 or more", e))
		return CUBIE_ERR_CONFIG;
	s->streams_wanted = (size_t)st->memory.streams;
	s->forced_chunk = (size_t)st->memory.chunk_runs;
	s->precision = (int)so->precision;
	return 0;
}

/* CUBIE_TEST_CPU_DEVICES=N (tests only): the cpu backend as N devices,
 * so that the several-GPU driver runs, and is tested, without a GPU. */
static size_t test_cpu_devices(void)
{
	const char *v = getenv("CUBIE_TEST_CPU_DEVICES");
	long n = v ? strtol(v, NULL, 10) : 0;
	return n > 1 && n <= 64 ? (size_t)n : 0;
}

/* [device] gpu: one GPU, a list, or all of them: s->gpus. */
static int read_gpus(cubie_solver *s, cubie_error *e)
{
	const struct settings_device *d = &s->set.device;
	if (!d->gpu_all) {
		if (!(s->gpus = calloc(d->n_gpus ? d->n_gpus : 1, sizeof *s->gpus)))
			return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		memcpy(s->gpus, d->gpus, d->n_gpus * sizeof *s->gpus);
		s->n_gpus = d->n_gpus;
		return 0;
	}
	int count = 0;
	cubie_error ce;
	if (backend_cuda_count(&count, &ce))
		count = 1; /* the first open says why none is usable */
	if (!(s->gpus = calloc((size_t)count, sizeof *s->gpus)))
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	for (int i = 0; i < count; i++)
		s->gpus[s->n_gpus++] = i;
	return 0;
}

static int open_backend(cubie_solver *s, cubie_error *e)
{
	const struct settings_device *d = &s->set.device;
	long long block = d->block_size, threads = d->threads;
	int rc;
	if ((rc = read_gpus(s, e)))
		return rc;
	s->block_req = (int)block;
	s->threads_req = (int)threads;
	if (d->backend != BACKEND_CPU) {
		cubie_error ce;
		rc = backend_cuda_open(mpi_gpu(s->gpus[0]), (int)block, &s->be, &ce);
		if (!rc)
			return 0;
		if (d->backend == BACKEND_CUDA)
			return cb_fail(e, ce.code, "%s", ce.msg);
		cb_log(CUBIE_LOG_INFO, "no usable GPU (%s): using the cpu backend", ce.msg);
	}
	/* the cpu backend is one device, but for the tests' */
	size_t n = test_cpu_devices() ? test_cpu_devices() : 1;
	int *g = realloc(s->gpus, n * sizeof *g);
	if (!g)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	s->gpus = g;
	for (s->n_gpus = 0; s->n_gpus < n; s->n_gpus++)
		g[s->n_gpus] = (int)s->n_gpus;
	return backend_cpu_open(mpi_threads((int)threads), &s->be, e);
}

/* Everything that needs no backend: model, settings, runs, plugins, output. */
static int setup(cubie_solver *s, cubie_error *e)
{
	const cubie_config *cfg = s->cfg;
	int rc;
	double lo, hi;
	const struct settings *st = &s->set;
	if ((rc = settings_read(cfg, &s->set, e)) || (rc = model_build(cfg, &s->model, e)) ||
	    (rc = runs_build(cfg, st, s->model, &s->runs, e)) ||
	    (rc = read_settings(s, e)) || (rc = resolve_saves(s, e)) ||
	    (rc = summaries_read(s, e)) || (rc = grid_plan(s, e)) ||
	    (rc = events_read(cfg, st, s->model, &s->events, e)) ||
	    (spans_range(s, &lo, &hi),
	     rc = drivers_check_runs(s->model->drv, &s->runs, s->model->n_states, lo, hi, e)))
		return rc;
	s->dirs = plugin_dirs(cfg, &s->n_dirs);
	if ((rc = plugin_at(st->solve.at.integrator,
	                    plugin_load(CUBIE_PLUGIN_INTEGRATOR, st->solve.integrator,
	                                s->dirs, s->n_dirs, &s->integrator, e), e)) ||
	    (rc = plugin_at(st->memory.at.allocator,
	                    plugin_load(CUBIE_PLUGIN_ALLOCATOR, st->memory.allocator,
	                                s->dirs, s->n_dirs, &s->allocator, e), e)))
		return rc;
	cb_log(CUBIE_LOG_INFO, "integrator %s %s: %s", s->integrator.desc->name,
	       s->integrator.desc->version, s->integrator.path);
	cb_log(CUBIE_LOG_INFO, "allocator %s %s: %s", s->allocator.desc->name,
	       s->allocator.desc->version, s->allocator.path);
	if (st->output.at.file) {
		s->out_path = cfg_path(cfg, st->output.at.file);
		if ((rc = load_writer(s, s->out_path, &s->writer, e)) || (rc = probe_output(s, e)))
			return rc;
		cb_log(CUBIE_LOG_INFO, "writer %s %s: %s", s->writer.desc->name,
		       s->writer.desc->version, s->writer.path);
	}
	return 0;
}

/* The complete kernel source, or NULL with e filled. */
static char *build_source(cubie_solver *s, cubie_error *e)
{
	const cubie_integrator_ops *io = s->integrator.desc->ops;
	sbuf defs = {0};
	if (controller_defines(s, &defs, e)) {
		free(defs.s);
		return NULL;
	}
	/* implicit methods: the model's derivatives, next to cubie_rhs */
	char *jac = NULL;
	if (plugin_wants_jacobian(&s->integrator)) {
		char why[200];
		snprintf(why, sizeof why, "integrator %s", s->integrator.desc->name);
		if (model_jacobian(s->model, why, &jac, e)) {
			free(defs.s);
			return NULL;
		}
	}
	summaries_defines(&s->sums, &defs);
	/* per-run spans: one run per block on the CPU too, as each has its own
	 * times (lanes.h's W is used only after this point) */
	if (s->runs.spans)
		sb_add(&defs, "#define CUBIE_SPANS 1\n#undef CUBIE_W\n#define CUBIE_W 1\n");
	events_defines(&s->events, &defs);
	char *model = model_source(s->model, s->save, s->n_save, s->sums.vars,
	                           s->sums.n_slots ? s->sums.n_vars : 0);
	char *msrc = model && defs.s ? cb_printf("%s%s%s%s", defs.s, model, jac ? jac : "",
	                                         s->events.source ? s->events.source : "") : NULL;
	char *src = msrc ? kernel_source_named(s->precision, msrc, io->source,
	                                       s->integrator.desc->name) : NULL;
	free(model);
	free(jac);
	free(defs.s);
	free(msrc);
	if (!src)
		cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	return src;
}

/* A kernel the compiler refused is the integrator plugin's fault (the
 * model's part is generated and checked): a configuration error naming
 * the plugin, with the compiler's lines and the kept kernel file. */
static int compile_error(const cubie_solver *s, int rc, cubie_error *e)
{
	if (rc != CB_ERR_SOURCE)
		return rc;
	char msg[sizeof e->msg];
	snprintf(msg, sizeof msg, "%s", e->msg);
	return cb_fail(e, CUBIE_ERR_CONFIG, "integrator plugin '%s' (%s): its device source does "
	               "not compile: %s", s->integrator.desc->name, s->integrator.path, msg);
}

/* The drivers' coefficients, once, into device memory the kernels read. */
int solver_upload_drivers(cubie_solver *s, cubie_error *e)
{
	size_t bytes;
	if (!s->model->drv)
		return 0;
	void *buf = drivers_buffer(s->model->drv, s->precision, &bytes);
	int rc = buf ? 0 : cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	if (!rc && s->be->ops->mem_alloc(s->be, bytes ? bytes : 8, &s->drv_dev))
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "cannot allocate %zu bytes of %s memory for the "
		             "drivers", bytes, s->be->ops->name);
	if (!rc && !(rc = s->be->ops->copy_h2d(s->be, s->drv_dev, buf, bytes, NULL, e)))
		rc = s->be->ops->stream_sync(s->be, NULL, e);
	free(buf);
	return rc;
}

int cubie_solver_create(const cubie_config *cfg, cubie_solver **out, cubie_error *e)
{
	*out = NULL;
	cubie_solver *s = calloc(1, sizeof *s);
	if (!s)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	s->cfg = cfg;
	int rc;
	char *src = NULL;
	double t[4];
	t[0] = cb_now();
	if ((rc = setup(s, e)))
		goto fail;
	t[1] = cb_now();
	if ((rc = open_backend(s, e)))
		goto fail;
	t[2] = cb_now();
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
	if (!(src = build_source(s, e))) {
		rc = e ? e->code : CUBIE_ERR_RUNTIME;
		goto fail;
	}
	if ((rc = compile_error(s, o->load(s->be, src, e), e)) || (rc = solver_upload_drivers(s, e)))
		goto fail;
	if (s->be->cache_hit)
		cb_log(CUBIE_LOG_INFO, "kernel: %s, float%d, from the cache", o->name, s->precision);
	else
		cb_log(CUBIE_LOG_INFO, "kernel: %s, float%d, compiled in %.2f s", o->name,
		       s->precision, s->be->compile_s);
	if ((rc = solver_plan(s, e)) ||
	    (rc = group_join(s, s->set.memory.stream_group, e)) ||
	    (s->n_gpus > 1 && (rc = compile_error(s, multi_open(s, src, e), e))))
		goto fail;
	s->stats.compile_s = s->be->compile_s;
	s->stats.cache_hit = s->be->cache_hit;
	t[3] = cb_now();
	cb_log(CUBIE_LOG_DEBUG, "setup: model, runs and plugins %.1f ms, %s backend %.1f ms, "
	       "kernel and plan %.1f ms", (t[1] - t[0]) * 1e3, s->be->ops->name,
	       (t[2] - t[1]) * 1e3, (t[3] - t[2]) * 1e3);
	free(src);
	*out = s;
	return 0;
fail:
	free(src);
	cubie_solver_free(s);
	return rc;
}

char *cubie_compile_check(const cubie_config *cfg, const char *arch, cubie_error *e)
{
	int sm = 0, regs = 0, rc;
	size_t local = 0;
	char *src = NULL, *report = NULL, end = 0;
	if (!arch || (sscanf(arch, "sm_%d%c", &sm, &end) != 1 && sscanf(arch, "%d%c", &sm, &end) != 1) ||
	    sm < 10 || sm > 1000) {
		cb_fail(e, CUBIE_ERR_CONFIG, "--arch '%s': expected sm_NN, e.g. sm_90",
		        arch ? arch : "");
		return NULL;
	}
	cubie_solver *s = calloc(1, sizeof *s);
	if (!s) {
		cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		return NULL;
	}
	s->cfg = cfg;
	double t = cb_now();
	if (!(rc = setup(s, e)) && (src = build_source(s, e)) &&
	    !(rc = compile_error(s, cuda_compile_only(src, sm, &regs, &local, e), e)))
		report = cb_printf("kernel:      cuda, sm_%d, float%d, compiled by NVRTC in %.2f s (no "
		                   "GPU used): %d registers, %zu bytes of local memory per thread\n",
		                   sm, s->precision, cb_now() - t, regs, local);
	free(src);
	cubie_solver_free(s);
	return report;
}

void cubie_solver_free(cubie_solver *s)
{
	if (!s)
		return;
	multi_close(s);
	free(s->gpus);
	if (s->be)
		solver_release(s);
	if (s->alloc)
		((const cubie_allocator_ops *)s->allocator.desc->ops)->destroy(s->alloc);
	if (s->be)
		s->be->ops->close(s->be);
	plugin_close(&s->integrator);
	plugin_close(&s->allocator);
	plugin_close(&s->writer);
	cfg_free_names(s->dirs, s->n_dirs);
	cfg_free_names(s->save_names, s->n_save);
	summaries_free(&s->sums);
	events_free(&s->events);
	free(s->save);
	free(s->out_path);
	runs_free(&s->runs);
	solver_free_spare(s);
	model_free(s->model);
	settings_free(&s->set);
	free(s);
}

char *cubie_solver_describe(const cubie_solver *s)
{
	sbuf b = {0};
	const cubie_integrator_ops *io = s->integrator.desc->ops;
	const struct plan *p = &s->plan;
	sb_add(&b, "model:       %s (%zu states, %zu parameters, %zu observables)\n",
	       s->model->name, s->model->n_states, s->model->n_params, s->model->n_obs);
	sb_add(&b, "backend:     %s, %s\n", s->be->ops->name, s->be->device);
	sb_add(&b, "integrator:  %s, order %d, %d stages, controller %s%s (%s)\n",
	       s->integrator.desc->name, io->order, io->stages, s->controller,
	       s->auto_dt ? ", first step chosen per run" : "", s->integrator.path);
	sb_add(&b, "kernel:      float%d, %s\n", s->precision,
	       s->be->cache_hit ? "from the cache" : "compiled");
	sb_add(&b, "runs:        %zu, %zu saves of %zu variables%s\n", s->runs.n_runs, s->n_saves,
	       s->n_save, s->runs.spans ? "; time spans per run (time is [saves][runs], NaN past "
	       "a run's end)" : s->runs.sweep ? "; inputs worked out on the device" : "");
	drivers_describe(s->model->drv, s->model->params, &b);
	if (s->events.n) {
		static const char *const dir[] = {"down", "both", "up"}, *const act[] = {"record", "stop",
		                                                                     "reset"};
		sb_add(&b, "events:      ");
		for (size_t k = 0; k < s->events.n; k++)
			sb_add(&b, "%s%s (%s, %s, %d kept)", k ? ", " : "", s->events.names[k],
			       dir[s->events.dir[k] + 1], act[s->events.act[k]], s->events.count[k]);
		sb_add(&b, "; located to %g on the step's cubic Hermite interpolant (Illinois)\n",
		       s->events.tol);
	}
	sb_add(&b, "memory:      %zu bytes per run; budget %.3f GiB = %s\n", s->bytes_per_run,
	       p->budget / 1073741824.0, s->budget_from);
	if (s->n_devs > 1)
		multi_describe(s, &b);
	else
		sb_add(&b, "plan:        %zu chunk%s x %zu runs over %zu stream%s, allocator %s\n",
		       p->chunks, p->chunks == 1 ? "" : "s", p->chunk_runs, p->streams,
		       p->streams == 1 ? "" : "s", s->allocator.desc->name);
	if (s->out_path)
		sb_add(&b, "output:      %s (writer %s)\n", s->out_path, s->writer.desc->name);
	if (s->out_path && solver_streams(s)) {
		size_t chunk = solver_stream_chunk(s) < p->chunk_runs ? solver_stream_chunk(s)
		                                                       : p->chunk_runs;
		sb_add(&b, "host memory: %.3f GiB: the result streams to the writer through %zu "
		           "staging buffers of %zu runs, beside the inputs\n",
		       (double)(s->bytes_per_run * chunk * p->streams) / 1073741824.0, p->streams, chunk);
	} else {
		sb_add(&b, "host memory: %.3f GiB: the whole result and the inputs\n",
		       solver_result_bytes(s) / 1073741824.0);
	}
	return b.s;
}

int solver_writer(const cubie_solver *s, const char *path, struct plugin *w,
                  const struct plugin **use, const char **resolved, cubie_error *e)
{
	memset(w, 0, sizeof *w);
	*use = &s->writer;
	if (!path)
		path = s->out_path;
	*resolved = path;
	if (!path)
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: no output file: set [output] file or use -o",
		               s->cfg->path);
	if (!s->out_path || strcmp(path, s->out_path)) {
		int rc = load_writer((cubie_solver *)s, path, w, e);
		if (rc)
			return rc;
		*use = w;
	}
	return 0;
}

int cubie_result_write(const cubie_result *r, const cubie_solver *s, const char *path,
                       cubie_error *e)
{
	struct plugin w;
	const struct plugin *use;
	int rc = solver_writer(s, path, &w, &use, &path, e);
	if (rc)
		return rc;
	char msg[1024] = "";
	const cubie_writer_ops *wo = use->desc->ops;
	cubie_output out = r->out;
	char *settings = cubie_config_describe(s->cfg);
	out.settings = settings;
	out.compression = solver_compression(s);
	/* CUBIE_ERR_CONFIG from a writer: the path is unusable as given */
	tmp_begin(path);
	rc = wo->write(&s->host, &out, path, msg, sizeof msg);
	tmp_end();
	rc = rc ? cb_fail(e, rc == CUBIE_ERR_CONFIG ? CUBIE_ERR_CONFIG : CUBIE_ERR_RUNTIME,
	                  "writer %s: %s", use->desc->name, *msg ? msg : "failed")
	        : 0;
	free(settings);
	plugin_close(&w);
	return rc;
}

char *cubie_plugins_describe(const cubie_config *cfg, cubie_error *e)
{
	size_t n;
	cubie_config *defaults = NULL;
	if (!cfg && cfg_load_defaults(&defaults, e))
		return NULL;
	char **dirs = plugin_dirs(cfg ? cfg : defaults, &n);
	cubie_config_free(defaults);
	char *list = dirs ? plugin_list(dirs, n) : NULL;
	cfg_free_names(dirs, n);
	if (!list)
		cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	return list;
}

char *cubie_devices_describe(cubie_error *e)
{
	sbuf b = {0};
	backend *be;
	cubie_error why = {0};
	int gpu = 0;
	while (backend_cuda_open(gpu, 0, &be, &why) == 0) {
		sb_add(&b, "gpu %d: %s\n", gpu++, be->device);
		be->ops->close(be);
	}
	if (gpu == 0)
		sb_add(&b, "gpu: none usable (%s)\n", why.msg);
	if (backend_cpu_open(0, &be, e) == 0) {
		sb_add(&b, "%s\n", be->device);
		be->ops->close(be);
	}
	if (!b.s)
		cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	return b.s;
}
