/* The solve: chunks of runs spread over a group of streams. Chunk i goes to
 * stream i mod S; while the GPU works on one stream's chunk, the host packs
 * the next chunk's inputs and unpacks finished chunks into the result.
 * Every run is computed by the same kernel, so the result is the same, bit
 * for bit, whatever the chunk size and stream count. */
#include "config.h"
#include "ranks.h"
#include "solver.h"
#include "spans.h"
#include "drivers.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Streams shared by solvers that name the same [memory] stream_group. */
struct stream_group {
	char *name; /* NULL: private to one solver */
	char device[256];
	int ordinal;
	size_t n;
	void **streams;
	backend *owner; /* the backend that created the streams */
	int refs;
	struct stream_group *next;
};
static struct stream_group *groups;
static pthread_mutex_t groups_lock = PTHREAD_MUTEX_INITIALIZER;

static void group_free(struct stream_group *g)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->streams[i])
			g->owner->ops->stream_destroy(g->owner, g->streams[i]);
	free(g->streams);
	free(g->name);
	free(g);
}

/* Find or make the solver's stream group, with at least S streams. */
int group_join(cubie_solver *s, const char *name, cubie_error *e)
{
	size_t n = s->streams_wanted;
	int rc = 0;
	pthread_mutex_lock(&groups_lock);
	struct stream_group *g = NULL;
	for (g = name ? groups : NULL; g; g = g->next)
		if (!strcmp(g->name, name) && !strcmp(g->device, s->be->device) &&
		    g->ordinal == s->be->ordinal)
			break;
	if (g && g->n < n) {
		rc = cb_fail(e, CUBIE_ERR_CONFIG,
		             "stream group '%s' has %zu streams, fewer than [memory] streams = %zu",
		             name, g->n, n);
	} else if (!g) {
		g = calloc(1, sizeof *g);
		if (g && (!name || (g->name = cb_strdup(name))) &&
		    (g->streams = calloc(n, sizeof *g->streams))) {
			g->owner = s->be;
			snprintf(g->device, sizeof g->device, "%s", s->be->device);
			g->ordinal = s->be->ordinal;
			for (; g->n < n && !rc; g->n++)
				rc = s->be->ops->stream_create(s->be, &g->streams[g->n], e);
			if (rc) {
				group_free(g);
				g = NULL;
			} else if (name) {
				g->next = groups;
				groups = g;
			}
		} else {
			if (g)
				free(g->name), free(g);
			g = NULL;
			rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		}
	}
	if (g && !rc) {
		g->refs++;
		s->group = g;
	}
	pthread_mutex_unlock(&groups_lock);
	return rc;
}

static void group_leave(cubie_solver *s)
{
	struct stream_group *g = s->group;
	if (!g)
		return;
	pthread_mutex_lock(&groups_lock);
	if (--g->refs == 0) {
		for (struct stream_group **p = &groups; *p; p = &(*p)->next)
			if (*p == g) {
				*p = g->next;
				break;
			}
		/* the streams belong to the GPU's primary context, which this
		 * backend still holds: destroy them through it */
		g->owner = s->be;
		group_free(g);
	}
	pthread_mutex_unlock(&groups_lock);
	s->group = NULL;
}

static void unstage(cubie_solver *s)
{
	for (size_t i = 0; i < s->n_slots; i++) {
		struct slot *sl = &s->slots[i];
		void **h[] = {&sl->h_failed, &sl->h_out, &sl->h_int};
		for (int k = 0; k < 3; k++) {
			if (*h[k])
				s->host.pinned_free(s->host.ctx, *h[k]);
			*h[k] = NULL;
		}
	}
	s->staged_runs = 0;
}

/* The packed run table (place_inputs) goes. */
static void unpack(cubie_solver *s)
{
	if (s->packed && s->packed_pinned)
		s->host.pinned_free(s->host.ctx, s->packed);
	else
		free(s->packed);
	s->packed = NULL;
	s->packed_bytes = 0;
	s->packed_gen = 0;
}

void solver_release(cubie_solver *s)
{
	uint64_t *dev[] = {&s->drv_dev, &s->sweep_dev};
	for (int i = 0; i < 2; i++)
		if (*dev[i])
			s->be->ops->mem_free(s->be, *dev[i]);
	s->drv_dev = s->sweep_dev = 0;
	s->sweep_id = 0;
	workers_free(s->workers);
	s->workers = NULL;
	unstage(s);
	unpack(s);
	free(s->slots);
	s->slots = NULL;
	s->n_slots = 0;
	group_leave(s);
	if (s->store) { /* a live result keeps its arrays, unpinned */
		store_unpin(s->store);
		s->store->kept = 0;
		if (!s->store->in_use)
			store_free(s->store);
		s->store = NULL;
	}
}

/* Bytes of the inputs of runs laid out as on the device (the model's in
 * the working precision, then the spans in double), 8-aligned. On the
 * device the chunk's count of failed runs (args.h) follows them. */
static size_t in_bytes(const cubie_solver *s, size_t runs)
{
	size_t in = s->runs.spans ? spans_offset(s, runs) + RUNS_SPANS * runs * sizeof(double)
	                          : (s->runs.n_inputs ? s->runs.n_inputs : 1) * runs * real_size(s);
	return (in + 7) / 8 * 8;
}

/* Bytes of a slot's device buffers for a chunk of runs: inputs and the
 * failed count, saved values, status (and step counts when kept). */
static void slot_bytes(const cubie_solver *s, size_t runs, size_t b[3])
{
	b[0] = in_bytes(s, runs) + 8;
	b[1] = out_rows(s) * runs * real_size(s);
	b[2] = run_block_bytes(int_rows(s), runs);
}

/* Give back one solve's device buffers (after its streams are idle). */
static void free_device(cubie_solver *s)
{
	const cubie_allocator_ops *ao = s->allocator.desc->ops;
	for (size_t i = 0; i < s->n_slots; i++) {
		struct slot *sl = &s->slots[i];
		uint64_t *d[] = {&sl->d_in, &sl->d_out, &sl->d_int};
		for (int k = 0; k < 3; k++)
			if (*d[k]) {
				ao->free(s->alloc, *d[k], sl->stream);
				*d[k] = 0;
			}
	}
	ao->end_solve(s->alloc);
}

/* Device buffers through the allocator and pinned staging (kept across
 * solves while the chunk size stays) for every stream of the plan: for the
 * inputs, and for the results only when they stream to a writer (else
 * they are copied straight into the result). */
static int alloc_slots(cubie_solver *s, int streaming, cubie_error *e)
{
	const cubie_allocator_ops *ao = s->allocator.desc->ops;
	size_t chunk = s->plan.chunk_runs, b[3];
	slot_bytes(s, chunk, b);
	if (s->staged_runs != chunk || s->n_slots != s->plan.streams) {
		unstage(s);
		struct slot *slots = realloc(s->slots, s->plan.streams * sizeof *slots);
		if (!slots)
			return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		memset(slots, 0, s->plan.streams * sizeof *slots); /* staging empty: packed_gen 0 */
		s->slots = slots;
		s->n_slots = s->plan.streams;
	}
	for (size_t i = 0; i < s->plan.streams; i++) {
		struct slot *sl = &s->slots[i];
		sl->stream = s->group->streams[i];
		sl->n = 0;
		uint64_t *d[] = {&sl->d_in, &sl->d_out, &sl->d_int};
		for (int k = 0; k < 3; k++)
			if (ao->alloc(s->alloc, b[k], sl->stream, d[k]))
				return cb_fail(e, CUBIE_ERR_RUNTIME,
				               "cannot allocate %zu bytes of %s memory for a chunk of %zu runs",
				               b[k], s->be->ops->name, chunk);
		void **h[] = {&sl->h_failed, &sl->h_out, &sl->h_int};
		const size_t hb[3] = {sizeof(int64_t), b[1], b[2]};
		for (int k = 0; k < (streaming ? 3 : 1); k++)
			if (!*h[k] && s->host.pinned_alloc(s->host.ctx, hb[k], h[k]))
				return cb_fail(e, CUBIE_ERR_RUNTIME,
				               "cannot allocate %zu bytes of pinned host memory", hb[k]);
		*(int32_t *)sl->h_failed = 0;
	}
	s->staged_runs = chunk;
	return 0;
}

/* Output staged per stream when streaming to a writer: host memory stays
 * at a few of these however large the result. */
#define STREAM_CHUNK_BYTES ((size_t)256 << 20)
#define STREAM_ALIGN 65536

/* The run table ([row][N], double) into the pinned table that chunks are
 * copied in from: the model's inputs in the working precision, the time
 * spans in double after them, as a chunk's inputs lie on the device with
 * N for the stride. Cut into pieces so that the host threads share them. */
#define PIECE 65536 /* runs */
struct rows {
	cubie_solver *s;
	size_t pieces; /* per row */
};

static void pack_rows(void *ctx, size_t lo, size_t hi)
{
	const struct rows *c = ctx;
	cubie_solver *s = c->s;
	size_t N = s->runs.n_runs, nm = s->model->n_states + s->model->n_params;
	for (size_t it = lo; it < hi; it++) {
		size_t i = it / c->pieces, j0 = it % c->pieces * PIECE;
		size_t j1 = j0 + PIECE < N ? j0 + PIECE : N;
		const double *src = s->runs.v + i * N;
		if (i >= nm) /* a time span */
			memcpy((double *)((char *)s->packed + spans_offset(s, N)) + (i - nm) * N + j0,
			       src + j0, (j1 - j0) * sizeof(double));
		else if (real_size(s) == 4)
			for (size_t j = j0; j < j1; j++)
				((float *)s->packed)[i * N + j] = (float)src[j];
		else
			memcpy((double *)s->packed + i * N + j0, src + j0, (j1 - j0) * sizeof(double));
	}
}

/* The sweep into device d's memory, once (the solver s's runs' sweep). */
static int upload_sweep(const cubie_solver *s, cubie_solver *d, cubie_error *e)
{
	const struct backend_ops *o = d->be->ops;
	const struct run_sweep *sw = s->runs.sweep;
	if (d->sweep_id == sw->id)
		return 0;
	if (d->sweep_dev)
		o->mem_free(d->be, d->sweep_dev);
	d->sweep_dev = 0, d->sweep_id = 0;
	if (o->mem_alloc(d->be, sw->bytes, &d->sweep_dev))
		return cb_fail(e, CUBIE_ERR_RUNTIME, "cannot allocate %zu bytes of %s memory for the "
		               "inputs", sw->bytes, o->name);
	int rc = o->copy_h2d(d->be, d->sweep_dev, sw->axes, sw->bytes, NULL, e);
	if (!rc && !(rc = o->stream_sync(d->be, NULL, e)))
		d->sweep_id = sw->id;
	return rc;
}

/* The inputs where the chunks find them: a sweep on every device, or
 * the table packed on the host unless these runs are packed already. */
static int place_inputs(cubie_solver *s, cubie_error *e)
{
	size_t N = s->runs.n_runs, bytes = in_bytes(s, N);
	for (size_t i = 0; s->runs.sweep && i < (s->n_devs ? s->n_devs : 1); i++) {
		int rc = upload_sweep(s, s->n_devs ? s->devs[i] : s, e);
		if (rc)
			return rc;
	}
	if (s->runs.sweep || s->packed_gen == s->runs_gen + 1)
		return 0;
	if (s->packed && s->packed_bytes != bytes)
		unpack(s);
	if (!s->packed && s->host.pinned_alloc(s->host.ctx, bytes, &s->packed)) {
		/* pageable, then: the copies are slower, not wrong */
		cb_log(CUBIE_LOG_DEBUG, "the packed inputs could not be pinned; copies will be slower");
		s->packed_pinned = 0;
		if (!(s->packed = malloc(bytes)))
			return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory for the inputs of %zu runs", N);
	} else {
		s->packed_pinned = 1;
	}
	s->packed_bytes = bytes;
	struct rows c = {s, (N + PIECE - 1) / PIECE};
	workers_for(s->workers, pack_rows, &c, s->runs.n_inputs * c.pieces);
	s->packed_gen = s->runs_gen + 1;
	return 0;
}

#define PROGRESS_POLL_NS 100000000L

/* Runs finished, counted by a slice's end (on whatever thread the backend
 * calls it), reported from the solving thread when the count moved. */
static void count_done(void *ctx)
{
	const struct slice_done *d = ctx;
	__atomic_fetch_add(&d->s->runs_done, d->runs, __ATOMIC_RELAXED);
}

static void report(cubie_solver *s)
{
	size_t done = __atomic_load_n(&s->runs_done, __ATOMIC_RELAXED);
	if (s->progress && done != s->runs_reported) {
		s->runs_reported = done;
		s->progress(done, s->runs.n_runs, s->progress_user);
	}
}

/* Pack runs [first, first + n) and queue copy in, kernel, and the copies
 * of saved values, status and step counts to where they go. */
static int submit(cubie_solver *s, struct slot *sl, size_t first, size_t n, struct sink *k,
                  cubie_error *e)
{
	const struct backend_ops *o = s->be->ops;
	size_t r = real_size(s), stride = s->plan.chunk_runs, N = s->runs.n_runs, b[3];
	slot_bytes(s, stride, b);
	double t1 = cb_now();
	/* fixed steps in a whole tick and their length: no double division per
	 * tick on the device */
	const double tick_steps = s->dt > 0 ? ceil(s->grid.tick / s->dt - 1e-9) : 0;
	struct cubie_args a = {
		.y0 = (const void *)(uintptr_t)sl->d_in,
		.params = (const void *)(uintptr_t)(sl->d_in + s->model->n_states * stride * r),
		.out = (void *)(uintptr_t)sl->d_out,
		.status = (int *)(uintptr_t)sl->d_int,
		.steps = s->want_steps ? (int *)(uintptr_t)(sl->d_int + stride * sizeof(int32_t)) : NULL,
		.reached = (double *)(uintptr_t)(sl->d_int + run_block_reached(int_rows(s), stride)),
		.n = (long long)n,
		.stride = (long long)stride,
		.n_saves = (long long)s->n_saves,
		.t0 = s->t0,
		.duration = s->duration,
		.dt = s->dt,
		.save_every = s->save_every,
		.settle = s->settle,
		.tick = s->grid.tick,
		.tick_steps = tick_steps,
		.tick_h = tick_steps > 0 ? s->grid.tick / tick_steps : 0,
		.n_ticks = s->grid.n_ticks,
		.save_ticks = s->grid.save_ticks,
		.sample_ticks = s->grid.sample_ticks,
		.window_ticks = s->grid.window_ticks,
		.sums = (void *)(uintptr_t)(sl->d_out + s->n_saves * s->n_save * stride * r),
		.drivers = (const void *)(uintptr_t)s->drv_dev,
		.spans = s->runs.spans ? (const double *)(uintptr_t)(sl->d_in + spans_offset(s, stride))
		                       : NULL,
		.events = (void *)(uintptr_t)(sl->d_out + (out_rows(s) - s->events.rows) * stride * r),
		.failed = (int *)(uintptr_t)(sl->d_in + in_bytes(s, stride)),
		.sweep = s->runs.sweep ? (const struct cubie_axis *)(uintptr_t)s->sweep_dev : NULL,
		.first = (long long)(s->runs.sweep_first + first),
	};
	const size_t i4 = sizeof(int32_t), pitch = k->w ? n : N;
	void *values = k->w ? sl->h_out : (char *)k->res->values + first * r;
	void *ints = k->w ? sl->h_int : k->res->status + first;
	void *reached = k->w ? (char *)sl->h_int + run_block_reached(int_rows(s), n)
	                     : (void *)(k->res->reached + first);
	/* the chunk's inputs from the sweep kernel or the packed table; its
	 * failed count zeroed from h_failed, where it comes back */
	const size_t nm = s->model->n_states + s->model->n_params, fo = in_bytes(s, stride);
	int rc = s->runs.sweep ? o->sweep(s->be, &a, sl->stream, e)
	                       : o->copy_h2d_rows(s->be, sl->d_in, stride * r, k->packed + first * r,
	                                          N * r, n * r, nm, sl->stream, e);
	if (!rc && s->runs.spans)
		rc = o->copy_h2d_rows(s->be, sl->d_in + spans_offset(s, stride), stride * 8,
		                      k->packed + spans_offset(s, N) + first * 8, N * 8, n * 8,
		                      RUNS_SPANS, sl->stream, e);
	if (!rc)
		rc = o->copy_h2d(s->be, sl->d_in + fo, sl->h_failed, sizeof(int32_t), sl->stream, e);
	/* With a progress report, the chunk runs as slices that each count
	 * their runs done when they finish; the result is the same. */
	size_t slice = n;
	if (s->progress) {
		slice = (n + PROGRESS_SLICES - 1) / PROGRESS_SLICES;
		slice = slice < s->be->slice_min ? s->be->slice_min : slice;
	}
	for (size_t b0 = 0; !rc && b0 < n; b0 += slice) {
		a.begin = (long long)b0;
		a.n = (long long)(b0 + slice < n ? b0 + slice : n);
		if (!(rc = o->launch(s->be, &a, sl->stream, e)) && s->progress) {
			sl->slices[sl->n_slices] = (struct slice_done){s, (size_t)(a.n - a.begin)};
			rc = o->after(s->be, sl->stream, count_done, &sl->slices[sl->n_slices++]);
			report(s);
		}
	}
	a.n = (long long)n;
	if (rc ||
	    (rc = o->copy_d2h_rows(s->be, values, pitch * r, sl->d_out, stride * r, n * r,
	                           out_rows(s), sl->stream, e)) ||
	    (rc = o->copy_d2h_rows(s->be, ints, pitch * i4, sl->d_int, stride * i4, n * i4,
	                           int_rows(s), sl->stream, e)) ||
	    (rc = o->copy_d2h_rows(s->be, reached, n * 8, sl->d_int + run_block_reached(int_rows(s),
	                           stride), n * 8, n * 8, 1, sl->stream, e)) ||
	    (rc = o->copy_d2h(s->be, sl->h_failed, sl->d_in + fo, sizeof(int32_t), sl->stream, e)))
		return rc;
	s->t_queue += cb_now() - t1;
	sl->first = first;
	sl->n = n;
	return 0;
}

/* A streamed result's arrays for n runs: the summary's, with values and
 * summaries (from out, the chunk's output block, or NULL) after time. */
static size_t streamed_arrays(const cubie_solver *s, const cubie_result *res, const void *out,
                              size_t n, cubie_array *arr)
{
	const int dtype = s->precision == 32 ? CUBIE_DTYPE_FLOAT32 : CUBIE_DTYPE_FLOAT64;
	size_t m = 0;
	for (size_t i = 0; i < res->out.n_arrays; i++) {
		arr[m] = res->arrays[i];
		/* "time" is whole, unless per run (per-run spans) */
		if (strcmp(arr[m].name, "time") || arr[m].ndim == 2) {
			arr[m].shape[arr[m].ndim - 1] = n;
			arr[m].data = NULL;
		}
		if (m++)
			continue;
		arr[m++] = (cubie_array){"values", dtype, 3, {s->n_saves, s->n_save, n}, out};
		if (summary_rows(s))
			arr[m++] = (cubie_array){"summaries", dtype, 3,
			                         {s->sums.n_windows, s->sums.n_vars * s->sums.n_slots, n},
			                         out ? (const char *)out + s->n_saves * s->n_save * n *
			                                                       real_size(s)
			                             : NULL};
		m += events_arrays(&s->events, res->ev_names,
		                   out ? (const char *)out + (out_rows(s) - s->events.rows) * n *
		                                                 real_size(s)
		                       : NULL,
		                   n, dtype, arr + m);
	}
	return m;
}

/* A finished chunk to the streaming writer: the result's arrays, cut to
 * the chunk's runs; status and step counts also into the summary. */
static int stream_chunk(cubie_solver *s, struct slot *sl, struct sink *k, cubie_error *e)
{
	cubie_result *res = k->res;
	size_t first = sl->first, n = sl->n, N = s->runs.n_runs, ni = s->runs.n_inputs;
	const int32_t *ints = sl->h_int;
	const double *reached = (const double *)((const char *)sl->h_int +
	                                         run_block_reached(int_rows(s), n));
	memcpy(res->status + first, ints, n * sizeof *ints);
	memcpy(res->reached + first, reached, n * sizeof *reached);
	if (res->steps) {
		memcpy(res->steps + first, ints + n, n * sizeof *ints);
		memcpy(res->steps + N + first, ints + 2 * n, n * sizeof *ints);
	}
	for (size_t i = 0; i < ni; i++)
		memcpy(k->inputs + i * n, s->runs.v + i * N + first, n * sizeof(double));
	cubie_array arr[CB_MAX_ARRAYS];
	cubie_output part = res->out;
	part.arrays = arr;
	part.n_arrays = streamed_arrays(s, res, sl->h_out, n, arr);
	for (size_t i = 0; i < part.n_arrays; i++) {
		if (!strcmp(arr[i].name, "status"))
			arr[i].data = ints;
		else if (!strcmp(arr[i].name, "steps"))
			arr[i].data = ints + n;
		else if (!strcmp(arr[i].name, "reached"))
			arr[i].data = reached;
		else if (!strcmp(arr[i].name, "inputs"))
			arr[i].data = k->inputs;
		else if (!strcmp(arr[i].name, "time") && arr[i].ndim == 2) {
			double *t = k->inputs + ni * n;
			for (size_t sv = 0; sv < s->n_saves; sv++)
				memcpy(t + sv * n, res->time + sv * N + first, n * sizeof *t);
			arr[i].data = t;
		}
	}
	if (k->wo->write_runs(k->w, &part, first, k->msg, sizeof k->msg))
		return cb_fail(e, CUBIE_ERR_RUNTIME, "writer %s: %s", s->writer.desc->name,
		               *k->msg ? k->msg : "cannot write");
	return 0;
}

/* Wait for a slot's chunk: its results are in place when the stream is
 * idle, or go to the writer now. With a progress report, the wait polls. */
static int finish(cubie_solver *s, struct slot *sl, struct sink *k, cubie_error *e)
{
	/* several devices: each thread waits in the sync, the caller reports */
	while (s->progress && !k->deliver && sl->n && !s->be->ops->stream_idle(s->be, sl->stream)) {
		report(s);
		nanosleep(&(struct timespec){0, PROGRESS_POLL_NS}, NULL);
	}
	sl->n_slices = 0;
	double t0 = cb_now();
	int rc = s->be->ops->stream_sync(s->be, sl->stream, e);
	double t1 = cb_now();
	s->t_wait += t1 - t0;
	if (rc || !sl->n)
		return rc;
	/* the kernel counted the failed runs (stopped ones are not) */
	int32_t *failed = sl->h_failed;
	__atomic_fetch_add(&k->res->n_failed, (size_t)*failed, __ATOMIC_RELAXED);
	*failed = 0;
	if (k->deliver ? (rc = k->deliver(k, s, sl, e)) : k->w && (rc = stream_chunk(s, sl, k, e)))
		return rc;
	s->t_deliver += cb_now() - t1;
	sl->n = 0;
	s->stats.chunks++;
	report(s);
	return 0;
}

static int run_chunks(cubie_solver *s, struct sink *k, cubie_error *e)
{
	size_t N = s->runs.n_runs, chunk = s->plan.chunk_runs, S = s->plan.streams;
	int rc = 0;
	for (size_t c = 0; !rc && c < s->plan.chunks; c++) {
		struct slot *sl = &s->slots[c % S];
		if (sl->n)
			rc = finish(s, sl, k, e);
		if (!rc)
			rc = submit(s, sl, c * chunk, N - c * chunk < chunk ? N - c * chunk : chunk, k, e);
	}
	for (size_t i = 0; i < S; i++) { /* drain in order, even after an error */
		struct slot *sl = &s->slots[(s->plan.chunks + i) % S];
		cubie_error ignore;
		int r2 = finish(s, sl, k, rc ? &ignore : e);
		sl->n = 0;
		rc = rc ? rc : r2;
	}
	return rc;
}

/* The result's arrays: the solver's own store when it is free and the
 * right size (already touched and pinned), else a new one; the first
 * store a solver makes it keeps, pinned, for the solves after. */
static struct result_store *take_store(cubie_solver *s, size_t values_bytes, size_t ints_bytes)
{
	struct result_store *st = s->store;
	if (st && !st->in_use && st->values_bytes == values_bytes && st->ints_bytes == ints_bytes) {
		st->in_use = 1;
		return st;
	}
	if (st && !st->in_use) {
		store_free(st);
		s->store = st = NULL;
	}
	struct result_store *fresh = store_new(values_bytes, ints_bytes);
	if (fresh && !st) {
		store_pin(fresh, s->be);
		fresh->kept = 1;
		s->store = fresh;
	}
	if (fresh)
		fresh->in_use = 1;
	return fresh;
}

/* A new result for this solve: whole, or (values 0) a streamed solve's
 * summary without values. */
static cubie_result *new_result(cubie_solver *s, int values)
{
	size_t N = s->runs.n_runs;
	char **inputs = calloc(s->runs.n_inputs + 1, sizeof *inputs);
	if (!inputs)
		return NULL;
	const size_t nm = s->model->n_states + s->model->n_params;
	for (size_t i = 0; i < s->runs.n_inputs; i++)
		inputs[i] = i < s->model->n_states ? s->model->states[i]
		            : i < nm ? s->model->params[i - s->model->n_states]
		                     : (char *)runs_span_keys[i - nm];
	struct result_store *st =
		values ? take_store(s, out_rows(s) * N * real_size(s),
		                    run_block_bytes(int_rows(s), N))
		       : store_new(0, run_block_bytes(int_rows(s), N));
	struct result_shape shape = {s->n_saves, s->save_names, s->n_save, inputs, s->precision,
	                             values, s->want_steps, s->sums.n_windows, s->sums.names,
	                             s->sums.n_slots ? s->sums.n_vars * s->sums.n_slots : 0,
	                             &s->events, s->runs.spans};
	cubie_result *res = st ? result_new(st, &s->runs, &shape) : NULL;
	free(inputs);
	if (!res && st && st->kept)
		st->in_use = 0;
	else if (!res)
		store_free(st);
	if (res && s->runs.spans)
		spans_times(s, res->time);
	for (size_t k = 0; res && !s->runs.spans && k < s->n_saves; k++)
		res->time[k] = k == s->n_saves - 1 ? s->t0 + s->duration : s->t0 + (double)k * s->save_every;
	return res;
}

/* Device buffers and staging for the plan. Out of memory: release what
 * the allocator caches, halve the chunk and try again, down to one block. */
int pipe_prepare(cubie_solver *s, struct sink *k, cubie_error *e)
{
	size_t N = s->runs.n_runs;
	size_t block = s->be->block_size > 0 ? (size_t)s->be->block_size : 1;
	int rc;
	while ((rc = alloc_slots(s, k->w != NULL, e)) && s->plan.chunk_runs > block) {
		free_device(s);
		((const cubie_allocator_ops *)s->allocator.desc->ops)->trim(s->alloc);
		/* stream-ordered frees return memory only at a synchronization */
		for (size_t i = 0; i < s->group->n; i++)
			s->be->ops->stream_sync(s->be, s->group->streams[i], NULL);
		unstage(s);
		size_t half = s->plan.chunk_runs / 2;
		half = half > block ? half - half % block : block;
		cb_log(CUBIE_LOG_WARN, "%s; retrying with chunks of %zu runs", e->msg, half);
		s->plan.chunk_runs = half;
		s->plan.chunks = (N + half - 1) / half;
		if (s->plan.streams > s->plan.chunks)
			s->plan.streams = s->plan.chunks;
	}
	return rc;
}

/* The pipeline's steps, for the several-device driver (multidev.c). */
int pipe_submit(cubie_solver *s, struct slot *sl, size_t first, size_t n, struct sink *k,
                cubie_error *e)
{
	return submit(s, sl, first, n, k, e);
}
int pipe_finish(cubie_solver *s, struct slot *sl, struct sink *k, cubie_error *e)
{
	return finish(s, sl, k, e);
}
int pipe_stream_chunk(cubie_solver *s, struct slot *sl, struct sink *k, cubie_error *e)
{
	return stream_chunk(s, sl, k, e);
}
void pipe_release(cubie_solver *s)
{
	free_device(s);
}

cubie_result *solver_new_result(cubie_solver *s, int values)
{
	return new_result(s, values);
}

size_t solver_stream_arrays(const cubie_solver *s, const cubie_result *res, size_t n,
                            cubie_array *arr)
{
	return streamed_arrays(s, res, NULL, n, arr);
}

/* Every chunk through k; the result's failed count at the end. */
static int solve_into(cubie_solver *s, struct sink *k, cubie_error *e)
{
	double t_start = cb_now();
	size_t N = s->runs.n_runs;
	int rc = 0;
	s->be->kernel_s = 0;
	s->stats.chunks = 0;
	s->runs_done = s->runs_reported = 0;
	if (!s->workers && s->runs.n_runs * s->runs.n_inputs > 4 * PIECE)
		s->workers = workers_new(workers_default());
	double t0 = cb_now();
	if (N > 0 && (rc = place_inputs(s, e)))
		return rc;
	k->packed = s->packed;
	const double pack_s = cb_now() - t0;
	if (s->n_devs > 1) {
		rc = multi_solve(s, k, e);
	} else if (N > 0) {
		rc = pipe_prepare(s, k, e);
		double t1 = cb_now();
		if (!rc)
			rc = run_chunks(s, k, e);
		double t2 = cb_now();
		free_device(s);
		cb_log(CUBIE_LOG_DEBUG, "solve: setup %.1f ms, chunks %.1f ms, release %.1f ms",
		       (t1 - t_start) * 1e3, (t2 - t1) * 1e3, (cb_now() - t2) * 1e3);
	}
	if (s->n_devs <= 1)
		s->stats.kernel_s = s->be->kernel_s;
	s->stats.solve_s = cb_now() - t_start;
	for (size_t i = 0; i < (s->n_devs ? s->n_devs : 1); i++) {
		cubie_solver *d = s->n_devs ? s->devs[i] : s;
		cb_log(CUBIE_LOG_DEBUG, "solve: device %zu: queue %.1f ms, wait %.1f ms, deliver %.1f ms",
		       i, d->t_queue * 1e3, d->t_wait * 1e3, d->t_deliver * 1e3);
		d->t_queue = d->t_wait = d->t_deliver = 0;
	}
	cb_log(CUBIE_LOG_DEBUG, "solve: wall %.1f ms, packing inputs %.1f ms", s->stats.solve_s * 1e3,
	       pack_s * 1e3);
	return rc;
}

int cubie_solve(cubie_solver *s, cubie_result **out, cubie_error *e)
{
	struct sink k = {.res = new_result(s, 1)};
	*out = NULL;
	if (!k.res)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory for the result of %zu runs",
		               s->runs.n_runs);
	int rc = solve_into(s, &k, e);
	if (rc)
		cubie_result_free(k.res);
	else
		*out = k.res;
	return rc;
}

int solver_streams(const cubie_solver *s)
{
	const cubie_writer_ops *wo = s->writer.desc ? s->writer.desc->ops : NULL;
	return wo && s->writer.desc->abi_minor >= 1 && wo->open;
}

size_t solver_stream_chunk(const cubie_solver *s)
{
	size_t block = s->be->block_size > 0 ? (size_t)s->be->block_size : 1;
	size_t per_run = out_rows(s) * real_size(s) + 1;
	size_t cap = STREAM_CHUNK_BYTES / per_run;
	/* whole writer chunks along runs (hdf5's are STREAM_ALIGN runs) */
	if (cap >= STREAM_ALIGN)
		return cap - cap % STREAM_ALIGN;
	return cap > block ? cap - cap % block : block;
}

size_t solver_result_bytes(const cubie_solver *s)
{
	size_t N = s->runs.n_runs;
	return out_rows(s) * N * real_size(s) + run_block_bytes(int_rows(s), N) +
	       s->runs.n_inputs * N * sizeof(double) +
	       (s->runs.sweep ? 0 : in_bytes(s, N)); /* + packed inputs */
}

/* A streamed solve: chunks no larger than STREAM_CHUNK_BYTES of output go
 * to the writer as they finish; *summary keeps status and inputs. */
static int solve_streamed(cubie_solver *s, const struct plugin *wp, const char *path,
                          cubie_result **summary, cubie_error *e)
{
	struct sink k = {.res = new_result(s, 0), .wo = wp->desc->ops};
	/* the chunk's inputs, then (per-run spans) its columns of "time" */
	k.inputs = malloc((s->runs.n_inputs + (s->runs.spans ? s->n_saves : 0) + 1) *
	                  solver_stream_chunk(s) * sizeof(double));
	if (!k.res || !k.inputs) {
		cubie_result_free(k.res);
		free(k.inputs);
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	}
	/* the whole result's shapes, with no data */
	cubie_array arr[CB_MAX_ARRAYS];
	cubie_output whole = k.res->out;
	whole.arrays = arr;
	whole.n_arrays = streamed_arrays(s, k.res, NULL, s->runs.n_runs, arr);
	whole.settings = k.res->settings = cubie_config_describe(s->cfg);
	whole.compression = solver_compression(s);
	struct plan keep = s->plan;
	size_t cap = solver_stream_chunk(s);
	int rc = 0;
	if (s->plan.chunk_runs > cap) {
		size_t block = s->be->block_size > 0 ? (size_t)s->be->block_size : 1;
		plan_chunks(s->bytes_per_run, s->streams_wanted, s->runs.n_runs, block, cap, &s->plan);
	}
	tmp_begin(path); /* the writer's temporaries: see tmpfiles.c */
	if (!(k.w = k.wo->open(&s->host, &whole, path, k.msg, sizeof k.msg)))
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "writer %s: %s", wp->desc->name,
		             *k.msg ? k.msg : "cannot open");
	if (!rc)
		rc = solve_into(s, &k, e);
	if (k.w && k.wo->close(k.w, !rc, k.msg, sizeof k.msg) && !rc)
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "writer %s: %s", wp->desc->name,
		             *k.msg ? k.msg : "cannot finish the output");
	tmp_end();
	s->plan = keep;
	free(k.inputs);
	if (rc || !summary)
		cubie_result_free(k.res);
	else
		*summary = k.res;
	return rc;
}

int cubie_solve_write(cubie_solver *s, const char *path, cubie_result **summary, cubie_error *e)
{
	struct plugin w = {0};
	const struct plugin *use;
	if (summary)
		*summary = NULL;
	int rc = solver_writer(s, path, &w, &use, &path, e);
	if (rc)
		return rc;
	const cubie_writer_ops *wo = use->desc->ops;
	if (mpi_size() > 1) { /* the runs split across MPI ranks: mpi.c */
		rc = mpi_solve_write(s, use, path, summary, e);
	} else if (use->desc->abi_minor >= 1 && wo->open) {
		rc = solve_streamed(s, use, path, summary, e);
	} else {
		size_t avail, total, need = solver_result_bytes(s);
		host_mem_info(&avail, &total);
		cubie_result *r = NULL;
		if ((double)need > s->mem_proportion * (double)avail)
			rc = cb_fail(e, CUBIE_ERR_CONFIG,
			             "%s: the result (%.2f GiB) does not fit in %.0f%% of the host's "
			             "available memory (%.2f GiB), and writer %s cannot stream: use a "
			             "streaming writer (npy, csv, hdf5) or fewer runs or saves",
			             s->cfg->path, need / 1073741824.0, 100 * s->mem_proportion,
			             avail / 1073741824.0, use->desc->name);
		if (!rc)
			rc = cubie_solve(s, &r, e);
		if (!rc)
			rc = cubie_result_write(r, s, path, e);
		if (rc || !summary)
			cubie_result_free(r);
		else
			*summary = r;
	}
	plugin_close(&w);
	return rc;
}

int cubie_solver_set_inputs(cubie_solver *s, const double *values, size_t n_runs, cubie_error *e)
{
	return solver_set_runs(s, values, n_runs, n_runs, e);
}

/* The table of the last inputs but one, kept when nothing else holds it:
 * solves of one block after another (mpi.c) reuse two tables' memory
 * rather than fault in a fresh one each time. */
static double *spare_take(cubie_solver *s, size_t values)
{
	double *v = s->spare_values == values ? s->spare : NULL;
	if (v)
		s->spare = NULL, s->spare_values = 0;
	return v ? v : malloc((values ? values : 1) * sizeof *v);
}

static void spare_keep(cubie_solver *s, struct run_table *rt)
{
	if (!s->spare && (!rt->refs || *rt->refs == 1)) {
		s->spare = rt->v, s->spare_values = rt->n_inputs * rt->n_runs;
		free(rt->refs);
		runs_sweep_drop(rt->sweep);
		memset(rt, 0, sizeof *rt);
	} else {
		runs_free(rt);
	}
}

void solver_free_spare(cubie_solver *s)
{
	free(s->spare);
	s->spare = NULL, s->spare_values = 0;
}

int solver_set_runs(cubie_solver *s, const double *values, size_t pitch, size_t n_runs,
                    cubie_error *e)
{
	size_t ni = s->runs.n_inputs;
	double *v = spare_take(s, ni * n_runs);
	if (!v)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory for %zu runs", n_runs);
	for (size_t i = 0; i < ni; i++)
		memcpy(v + i * n_runs, values + i * pitch, n_runs * sizeof *v);
	struct run_table old = s->runs;
	s->runs = (struct run_table){.n_runs = n_runs, .n_inputs = ni, .v = v, .spans = old.spans,
	                             .span = {old.span[0], old.span[1], old.span[2]}};
	double lo, hi;
	spans_range(s, &lo, &hi);
	if ((s->runs.spans && spans_check_inputs(s, e)) ||
	    drivers_check_runs(s->model->drv, &s->runs, s->model->n_states, lo, hi, e)) {
		spare_keep(s, &s->runs);
		s->runs = old;
		return CUBIE_ERR_CONFIG;
	}
	s->runs_gen++;
	/* Same budget as when the solver was made: the memory the allocator
	 * caches from the last solve would look used to a fresh query. */
	size_t block = s->be->block_size > 0 ? (size_t)s->be->block_size : 1;
	struct plan p = s->plan;
	if (plan_chunks(s->bytes_per_run, s->streams_wanted, n_runs, block, s->forced_chunk, &p)) {
		spare_keep(s, &s->runs);
		s->runs = old;
		s->runs_gen--;
		return cb_fail(e, CUBIE_ERR_CONFIG, "one run needs %zu bytes, over the budget of %zu",
		               s->bytes_per_run, p.budget);
	}
	s->plan = p;
	spare_keep(s, &old); /* staging follows the new plan at the next solve */
	return 0;
}

int solver_set_block(cubie_solver *s, const struct run_table *full, size_t first, size_t n,
                     cubie_error *e)
{
	int rc = solver_set_runs(s, full->v + first, full->n_runs, n, e);
	if (!rc && full->sweep) { /* the device works the block's inputs out too */
		s->runs.sweep = runs_sweep_keep(full->sweep);
		s->runs.sweep_first = full->sweep_first + first;
	}
	return rc;
}

void cubie_solver_set_progress(cubie_solver *s, cubie_progress_fn fn, void *user)
{
	s->progress = fn;
	s->progress_user = user;
}
