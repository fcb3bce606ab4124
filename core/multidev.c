/* A solve over several devices of one process ([device] gpu = 0, 2 or all):
 * one host thread per device drives its own context, streams, allocator,
 * staging and kernel module (loaded from the kernel cache, so compiled
 * once per architecture) through the same pipeline steps as one device.
 * Chunks are taken from one shared queue (workqueue.c) by whichever device
 * has a stream free, so a faster or less busy GPU takes more; each chunk
 * is the same kernel on the same runs, so the result is the same, bit for
 * bit, as on one device. A device that fails gives its unfinished chunks
 * back to the queue and stops; the others take them. A streaming writer
 * receives the chunks in run order: a chunk that finishes early is copied
 * aside until the runs before it are written. */
#include "config.h"
#include "solver.h"
#include "workqueue.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Chunks on a GPU below this many runs cost more in launch tails than the
 * balance they buy. */
#define MIN_GPU_CHUNK 65536
#define REPORT_NS 100000000L

struct shared {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct workqueue q;
	struct sink *k;
	size_t running;   /* device threads still running */
	int writing;      /* a thread is feeding the writer */
	int fatal;        /* the writer failed: everyone stops */
	cubie_error err;
	size_t held_cap;  /* bytes of early chunks kept before a thread waits */
	char *faults;     /* CUBIE_TEST_FAIL_GPU */
};

struct devrun {
	cubie_solver *d;
	size_t index;
	struct shared *sh;
	pthread_t thread;
	int started, failed;
	size_t taken;
	char why[512];
};

static void quiet(size_t done, size_t runs, void *user)
{
	(void)done, (void)runs, (void)user;
}

/* "gpu 2", or for the cpu test devices "cpu device 1". */
static void label(const cubie_solver *d, size_t index, char *buf, size_t len)
{
	if (d->be->host_memory)
		snprintf(buf, len, "cpu device %zu", index);
	else
		snprintf(buf, len, "gpu %d", d->be->ordinal);
}

static void sub_free(cubie_solver *d)
{
	if (d->be)
		solver_release(d);
	if (d->alloc)
		((const cubie_allocator_ops *)d->allocator.desc->ops)->destroy(d->alloc);
	if (d->be)
		d->be->ops->close(d->be);
	free(d);
}

void multi_close(cubie_solver *s)
{
	for (size_t i = 1; i < s->n_devs; i++)
		sub_free(s->devs[i]);
	free(s->devs);
	s->devs = NULL;
	s->n_devs = 0;
}

int multi_open(cubie_solver *s, const char *src, cubie_error *e)
{
	if (!(s->devs = calloc(s->n_gpus, sizeof *s->devs)))
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	s->devs[s->n_devs++] = s;
	for (size_t i = 1; i < s->n_gpus; i++) {
		cubie_solver *d = malloc(sizeof *d);
		if (!d)
			return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		/* the settings, model, runs and plugins are the solver's; the
		 * device's own parts start empty */
		*d = *s;
		d->be = NULL, d->alloc = NULL, d->group = NULL, d->slots = NULL, d->n_slots = 0;
		d->staged_runs = 0, d->workers = NULL, d->store = NULL, d->devs = NULL;
		d->n_devs = 0, d->gpus = NULL, d->n_gpus = 0, d->progress = NULL, d->runs_done = 0;
		d->packed = NULL, d->packed_bytes = 0, d->packed_gen = 0; /* s's serves all */
		d->spare = NULL, d->spare_values = 0;
		d->drv_dev = 0, d->sweep_dev = 0, d->sweep_id = 0; /* device memory: its own */
		memset(&d->stats, 0, sizeof d->stats);
		s->devs[s->n_devs++] = d;
		int rc = s->be->host_memory ? backend_cpu_open(s->threads_req, &d->be, e)
		                            : backend_cuda_open(s->gpus[i], s->block_req, &d->be, e);
		if (rc)
			return rc;
		if (s->be->host_memory)
			d->be->ordinal = (int)i;
		const struct backend_ops *o = d->be->ops;
		d->host.ctx = d->be;
		d->host.mem_alloc = o->mem_alloc, d->host.mem_free = o->mem_free;
		d->host.mem_alloc_async = o->mem_alloc_async, d->host.mem_free_async = o->mem_free_async;
		d->host.mem_pool_keep = o->mem_pool_keep;
		d->host.pinned_alloc = o->pinned_alloc, d->host.pinned_free = o->pinned_free;
		const cubie_allocator_ops *ao = d->allocator.desc->ops;
		char msg[512] = "", name[64];
		label(d, i, name, sizeof name);
		if (!(d->alloc = ao->create(&d->host, msg, sizeof msg)))
			return cb_fail(e, CUBIE_ERR_CONFIG, "allocator '%s' (%s) on %s: %s",
			               d->allocator.desc->name, d->allocator.path, name,
			               *msg ? msg : "cannot start");
		/* the same source: from the kernel cache unless the arch differs */
		if ((rc = o->load(d->be, src, e)) || (rc = solver_upload_drivers(d, e)) ||
		    (rc = solver_plan(d, e)) ||
		    (rc = group_join(d, s->set.memory.stream_group, e)))
			return rc;
		cb_log(CUBIE_LOG_INFO, "%s: %s, kernel %s", name, d->be->device,
		       d->be->cache_hit ? "from the cache" : "compiled");
		s->stats.compile_s += d->be->compile_s;
	}
	return 0;
}

/* A device's plan for this solve: its own budget, chunks no larger than
 * the balance (or the streaming writer) allows. -1: not one run fits. */
static int device_plan(const cubie_solver *s, cubie_solver *d, size_t stream_cap, struct plan *p)
{
	size_t N = s->runs.n_runs, block = d->be->block_size > 0 ? (size_t)d->be->block_size : 1;
	*p = d->plan;
	if (plan_chunks(d->bytes_per_run, d->streams_wanted, N, block, s->forced_chunk, p))
		return -1;
	size_t cap = s->forced_chunk ? p->chunk_runs
	                             : wq_chunk_cap(N, s->n_devs, p->streams, block,
	                                            d->be->host_memory ? 1 : MIN_GPU_CHUNK);
	if (stream_cap && cap > stream_cap)
		cap = stream_cap;
	if (p->chunk_runs > cap)
		plan_chunks(d->bytes_per_run, d->streams_wanted, N, block, cap, p);
	return 0;
}

void multi_describe(const cubie_solver *s, sbuf *b)
{
	size_t cap = s->out_path && solver_streams(s) ? solver_stream_chunk(s) : 0;
	sb_add(b, "plan:        %zu devices, allocator %s: chunks are handed to whichever device "
	          "finishes first; each device's chunks are sized by the planner from its own "
	          "free memory\n", s->n_devs, s->allocator.desc->name);
	for (size_t i = 0; i < s->n_devs; i++) {
		cubie_solver *d = s->devs[i];
		struct plan p;
		char name[64], head[80];
		label(d, i, name, sizeof name);
		snprintf(head, sizeof head, "%s:", name);
		if (device_plan(s, d, cap, &p))
			sb_add(b, "%-12s %s: not one run fits its budget\n", head, d->be->device);
		else
			sb_add(b, "%-12s %s: budget %.3f GiB = %s; chunks of up to %zu runs over %zu "
			       "stream%s\n", head, d->be->device, p.budget / 1073741824.0, d->budget_from,
			       p.chunk_runs, p.streams, p.streams == 1 ? "" : "s");
	}
}

/* CUBIE_TEST_FAIL_GPU=INDEX:CHUNK[,...] (tests only): the device at INDEX
 * of the list fails as it submits its CHUNK-th chunk (from 0), as a lost
 * device would: what it holds goes back to the queue. */
static int injected(const struct shared *sh, size_t index, size_t chunk)
{
	for (const char *p = sh->faults; p && *p;) {
		char *end;
		unsigned long i = strtoul(p, &end, 10), c = *end == ':' ? strtoul(end + 1, &end, 10) : 0;
		if (i == index && c == chunk)
			return 1;
		p = strchr(end, ',');
		p = p ? p + 1 : NULL;
	}
	return 0;
}

static void set_fatal(struct shared *sh, const cubie_error *e)
{
	if (!sh->fatal) {
		sh->fatal = 1;
		sh->err = *e;
	}
	pthread_cond_broadcast(&sh->cond);
}

/* Bytes of a chunk's staged output and per-run block, the block 8-aligned. */
static size_t out_bytes(const cubie_solver *d, size_t n)
{
	return (out_rows(d) * n * real_size(d) + 7) / 8 * 8;
}

/* Write the held chunks that are next in run order. Called with the lock
 * held, as the one thread writing. */
static int drain(struct shared *sh, cubie_solver *d, cubie_error *e)
{
	struct wq_range r;
	while (!sh->fatal && wq_ready(&sh->q, &r)) {
		pthread_mutex_unlock(&sh->lock);
		struct slot held = {.first = r.first, .n = r.n, .h_out = r.item,
		                    .h_int = (char *)r.item + out_bytes(d, r.n)};
		int rc = pipe_stream_chunk(d, &held, sh->k, e);
		free(r.item);
		pthread_mutex_lock(&sh->lock);
		if (rc)
			return rc;
		sh->q.written += r.n;
		pthread_cond_broadcast(&sh->cond);
	}
	return sh->fatal ? sh->err.code : 0;
}

/* A finished chunk to the streaming writer in run order: now when the runs
 * before it are written, else copied aside (waiting first while the copies
 * are many and the next runs are still on another device). Lock held. */
static int ordered_write(struct shared *sh, cubie_solver *d, size_t index, struct slot *sl,
                         cubie_error *e)
{
	struct workqueue *q = &sh->q;
	size_t bytes = out_bytes(d, sl->n) + run_block_bytes(int_rows(d), sl->n);
	int rc = 0;
	for (;;) {
		if (sh->fatal)
			return sh->err.code;
		if (sl->first == q->written && !sh->writing) {
			sh->writing = 1;
			pthread_mutex_unlock(&sh->lock);
			rc = pipe_stream_chunk(d, sl, sh->k, e);
			pthread_mutex_lock(&sh->lock);
			if (!rc) {
				q->written += sl->n;
				rc = drain(sh, d, e);
			}
			sh->writing = 0;
			if (rc)
				set_fatal(sh, e);
			return rc;
		}
		int holder = wq_holder(q, q->written);
		if (q->held_bytes + bytes <= sh->held_cap ||
		    !(sh->writing || (holder >= 0 && (size_t)holder != index)))
			break;
		pthread_cond_wait(&sh->cond, &sh->lock);
	}
	pthread_mutex_unlock(&sh->lock);
	char *copy = malloc(bytes);
	if (copy) {
		memcpy(copy, sl->h_out, out_rows(d) * sl->n * real_size(d));
		memcpy(copy + out_bytes(d, sl->n), sl->h_int, run_block_bytes(int_rows(d), sl->n));
	}
	pthread_mutex_lock(&sh->lock);
	if (!copy || wq_hold(q, sl->first, sl->n, copy, bytes)) {
		free(copy);
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory for a finished chunk of %zu runs",
		             sl->n);
		set_fatal(sh, e);
		return rc;
	}
	if (!sh->writing) {
		sh->writing = 1;
		rc = drain(sh, d, e);
		sh->writing = 0;
		if (rc)
			set_fatal(sh, e);
	}
	return rc;
}

/* The sink's hook: a device's chunk is done (and written, or held). */
static int deliver(struct sink *k, cubie_solver *d, struct slot *sl, cubie_error *e)
{
	struct shared *sh = k->ctx;
	size_t index = 0;
	int rc = 0;
	pthread_mutex_lock(&sh->lock);
	for (size_t i = 0; i < sh->q.flight.n; i++)
		if (sh->q.flight.r[i].first == sl->first)
			index = (size_t)sh->q.flight.r[i].dev;
	if (k->w)
		rc = ordered_write(sh, d, index, sl, e);
	if (!rc)
		wq_finish(&sh->q, sl->first);
	pthread_cond_broadcast(&sh->cond);
	pthread_mutex_unlock(&sh->lock);
	return rc;
}

static int busy(const cubie_solver *d)
{
	for (size_t i = 0; i < d->plan.streams; i++)
		if (d->slots[i].n)
			return 1;
	return 0;
}

/* The next range for a device; with none left, wait (its streams idle)
 * until a failed device gives some back or every run is done. Lock held. */
static int take(struct shared *sh, struct devrun *r, size_t *first, size_t *n)
{
	for (;;) {
		if (sh->fatal)
			return 0;
		int got = wq_take(&sh->q, (int)r->index, r->d->plan.chunk_runs, first, n);
		if (got || busy(r->d) || sh->q.done >= sh->q.runs)
			return got;
		pthread_cond_wait(&sh->cond, &sh->lock);
	}
}

static void *drive(void *arg)
{
	struct devrun *r = arg;
	cubie_solver *d = r->d;
	struct shared *sh = r->sh;
	cubie_error e = {0};
	double t0 = cb_now();
	int rc = pipe_prepare(d, sh->k, &e);
	double t1 = cb_now();
	size_t S = d->plan.streams, c = 0;
	while (!rc) {
		struct slot *sl = &d->slots[c % S];
		if (sl->n && (rc = pipe_finish(d, sl, sh->k, &e)))
			break;
		size_t first = 0, n = 0;
		pthread_mutex_lock(&sh->lock);
		int got = take(sh, r, &first, &n);
		size_t chunk = r->taken;
		r->taken += got > 0;
		pthread_mutex_unlock(&sh->lock);
		if (got < 0) {
			rc = cb_fail(&e, CUBIE_ERR_RUNTIME, "out of memory");
			break;
		}
		if (!got) {
			if (__atomic_load_n(&sh->fatal, __ATOMIC_RELAXED) || !busy(d))
				break;
			c++; /* finish the other streams' chunks, then wait */
			continue;
		}
		rc = pipe_submit(d, sl, first, n, sh->k, &e);
		if (!rc && injected(sh, r->index, chunk))
			rc = cb_fail(&e, CUBIE_ERR_RUNTIME, "CUBIE_TEST_FAIL_GPU: device %zu fails at its "
			             "chunk %zu (injected)", r->index, chunk);
		if (rc) { /* in flight, to be given back */
			sl->first = first;
			sl->n = n;
		}
		c++;
	}
	/* no copy of this device's may land after its runs are given back, nor
	 * its buffers go while its streams still use them */
	for (size_t i = 0; i < d->n_slots; i++)
		d->be->ops->stream_sync(d->be, d->slots[i].stream, NULL);
	if (rc && !__atomic_load_n(&sh->fatal, __ATOMIC_RELAXED)) {
		char name[64];
		label(d, r->index, name, sizeof name);
		pthread_mutex_lock(&sh->lock);
		for (size_t i = 0; i < d->n_slots; i++)
			if (d->slots[i].n) {
				wq_give_back(&sh->q, d->slots[i].first);
				d->slots[i].n = 0;
				d->slots[i].n_slices = 0;
			}
		r->failed = 1;
		snprintf(r->why, sizeof r->why, "%s: %.400s", name, e.msg);
		pthread_cond_broadcast(&sh->cond);
		pthread_mutex_unlock(&sh->lock);
		cb_log(CUBIE_LOG_WARN, "%s failed (%s); its unfinished runs go to the other devices",
		       name, e.msg);
	}
	double t2 = cb_now();
	pipe_release(d);
	cb_log(CUBIE_LOG_DEBUG, "solve: device %zu: prepare %.1f ms, chunks %.1f ms, release %.1f ms, "
	       "%zu chunks of up to %zu runs", r->index, (t1 - t0) * 1e3, (t2 - t1) * 1e3,
	       (cb_now() - t2) * 1e3, r->taken, d->plan.chunk_runs);
	pthread_mutex_lock(&sh->lock);
	sh->running--;
	pthread_cond_broadcast(&sh->cond);
	pthread_mutex_unlock(&sh->lock);
	return NULL;
}

static size_t runs_done(const cubie_solver *s)
{
	size_t done = 0;
	for (size_t i = 0; i < s->n_devs; i++)
		done += __atomic_load_n(&s->devs[i]->runs_done, __ATOMIC_RELAXED);
	return done < s->runs.n_runs ? done : s->runs.n_runs;
}

int multi_solve(cubie_solver *s, struct sink *k, cubie_error *e)
{
	size_t N = s->runs.n_runs, G = s->n_devs;
	if (N == 0)
		return 0;
	struct shared sh = {.k = k};
	struct devrun *r = calloc(G, sizeof *r);
	if (!r)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	wq_init(&sh.q, N);
	pthread_mutex_init(&sh.lock, NULL);
	pthread_cond_init(&sh.cond, NULL);
	sh.faults = getenv("CUBIE_TEST_FAIL_GPU");
	cubie_progress_fn user = s->progress;
	size_t stream_cap = k->w ? solver_stream_chunk(s) : 0, usable = 0;
	for (size_t i = 0; i < G; i++) {
		cubie_solver *d = s->devs[i];
		if (d != s)
			d->runs = s->runs; /* shared, owned by s */
		d->runs_done = 0;
		d->stats.chunks = 0;
		d->be->kernel_s = 0;
		/* progress: slices counted on each device, reported from here */
		d->progress = user ? quiet : NULL;
		r[i] = (struct devrun){.d = d, .index = i, .sh = &sh};
		char name[64];
		label(d, i, name, sizeof name);
		if (device_plan(s, d, stream_cap, &d->plan)) {
			r[i].failed = 1;
			snprintf(r[i].why, sizeof r[i].why, "%s: one run needs %zu bytes, over the budget "
			         "of %zu", name, d->bytes_per_run, d->plan.budget);
			continue;
		}
		sh.held_cap += d->plan.streams * d->plan.chunk_runs *
		               (out_rows(d) * real_size(d) + run_block_bytes(int_rows(d), 1));
		usable++;
	}
	k->deliver = deliver;
	k->ctx = &sh;
	pthread_mutex_lock(&sh.lock);
	for (size_t i = 0; i < G; i++)
		if (!r[i].failed && !pthread_create(&r[i].thread, NULL, drive, &r[i])) {
			r[i].started = 1;
			sh.running++;
		} else if (!r[i].failed) {
			r[i].failed = 1;
			snprintf(r[i].why, sizeof r[i].why, "device %zu: cannot start a thread", i);
		}
	size_t reported = 0;
	while (sh.running > 0) {
		if (!user) {
			pthread_cond_wait(&sh.cond, &sh.lock);
			continue;
		}
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += REPORT_NS;
		t.tv_sec += t.tv_nsec / 1000000000L;
		t.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&sh.cond, &sh.lock, &t);
		size_t done = runs_done(s);
		if (done > reported && done < N) { /* monotonic, whole only at the end */
			pthread_mutex_unlock(&sh.lock);
			user(done, N, s->progress_user);
			pthread_mutex_lock(&sh.lock);
			reported = done;
		}
	}
	pthread_mutex_unlock(&sh.lock);
	for (size_t i = 0; i < G; i++)
		if (r[i].started)
			pthread_join(r[i].thread, NULL);
	k->deliver = NULL;
	k->ctx = NULL;
	s->progress = user;
	for (size_t i = 1; i < G; i++)
		s->devs[i]->progress = NULL;
	size_t chunks = 0;
	double kernel_s = 0; /* the busiest device's: the devices run at once */
	for (size_t i = 0; i < G; i++) {
		chunks += s->devs[i]->stats.chunks;
		if (s->devs[i]->be->kernel_s > kernel_s)
			kernel_s = s->devs[i]->be->kernel_s;
	}
	s->stats.chunks = chunks;
	s->stats.kernel_s = kernel_s;
	int rc = 0;
	if (sh.fatal) {
		rc = cb_fail(e, sh.err.code, "%s", sh.err.msg);
	} else if (sh.q.done < N) {
		sbuf why = {0};
		for (size_t i = 0; i < G; i++)
			if (r[i].failed)
				sb_add(&why, "%s%s", why.s ? "; " : "", r[i].why);
		char *lost = wq_missing(&sh.q);
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "runs %s (of 0-%zu) were not solved: every device "
		             "failed (%s)", lost ? lost : "?", N - 1, why.s ? why.s : "no reason");
		free(lost);
		free(why.s);
	} else {
		for (size_t i = 0; i < G; i++)
			if (r[i].failed)
				cb_log(CUBIE_LOG_WARN, "%s; the other devices solved its runs", r[i].why);
		if (user)
			user(N, N, s->progress_user);
		cb_log(CUBIE_LOG_DEBUG, "%zu of %zu devices usable; %zu chunks", usable, G,
		       s->stats.chunks);
	}
	for (size_t i = 0; i < sh.q.held.n; i++)
		free(sh.q.held.r[i].item);
	wq_free(&sh.q);
	pthread_cond_destroy(&sh.cond);
	pthread_mutex_destroy(&sh.lock);
	free(r);
	return rc;
}
