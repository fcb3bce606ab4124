/* The async_pool allocator: stream-ordered allocation (cuMemAllocAsync /
 * cuMemFreeAsync, through host->mem_alloc_async / mem_free_async) on the
 * stream the core names, from the device's default CUDA memory pool. The
 * caching is the driver's: memory freed on a stream returns to the pool and
 * is handed out again to later allocations ordered after that free, with no
 * device-wide synchronisation and no call into the OS.
 *
 * Keeping memory across solves. By default the pool's release threshold is
 * 0: at every stream, event or context synchronisation the driver gives all
 * unused pool memory back to the OS, so each solve would allocate afresh.
 * create() raises the threshold to "keep everything" (host->mem_pool_keep
 * with SIZE_MAX), so freed memory stays reserved in the pool between
 * solves; end_solve therefore does nothing but log. The default pool
 * belongs to the device, not to this allocator: the threshold is shared
 * with every async_pool of the process (and with any library in it that
 * uses the default pool). The last async_pool destroyed lowers it back to
 * the driver's default, 0.
 *
 * trim lowers the threshold to 0. The driver does not release memory at
 * that moment: it releases the pool's unused memory at the next stream,
 * event or context synchronisation (freed memory whose free has not yet
 * been observed by such a synchronisation still counts as in use). So the
 * core must synchronise after trim and before it measures free memory or
 * retries. The next allocation raises the threshold again.
 *
 * An allocation the driver refuses is reported as it is: retrying at once
 * cannot help, since the pool already reuses whatever memory of its own
 * the stream order allows, and lowering the threshold releases nothing
 * before a synchronisation. The core's out-of-memory path (trim,
 * synchronise, replan) is what recovers.
 *
 * Only the cuda backend has these primitives: on the cpu backend create()
 * refuses and points to the pool allocator.
 *
 * Allocations are tracked (pointer, size) so that an unknown or repeated
 * free is refused, whatever a solve still holds at end_solve is freed (on
 * the default stream: the solve is over and its streams synchronised), and
 * counters can be logged at CUBIE_LOG_DEBUG by end_solve and trim. Not
 * thread-safe, like the other allocators: a solver calls its allocator from
 * one thread. */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cubie/plugin.h>

/* Release threshold while an async_pool exists: never release. */
#define KEEP_ALL SIZE_MAX

/* Live async_pool instances of the process: the last one destroyed puts
 * the default pool's threshold back. */
static atomic_int instances;

struct live {
	uint64_t ptr;
	size_t size;
};

struct apool_stats {
	size_t live;                  /* allocations not yet freed */
	size_t in_use;                /* their bytes */
	size_t peak_in_use;           /* most bytes in use at once */
	unsigned long long allocs;    /* successful stream-ordered allocations */
	unsigned long long frees;
	unsigned long long failures;  /* allocations refused by the driver */
	unsigned long long trims;
};

struct apool {
	const cubie_host *host;
	struct live *live;
	size_t n, cap;
	int lowered; /* trim lowered the threshold; raise it at the next alloc */
	struct apool_stats st;
};

static void fmt_bytes(char *buf, size_t len, size_t n)
{
	if (n >= (size_t)1 << 30)
		snprintf(buf, len, "%.1f GiB", n / 1073741824.0);
	else if (n >= (size_t)1 << 20)
		snprintf(buf, len, "%.1f MiB", n / 1048576.0);
	else if (n >= 1024)
		snprintf(buf, len, "%.1f KiB", n / 1024.0);
	else
		snprintf(buf, len, "%zu B", n);
}

static void say(struct apool *a, int level, const char *msg)
{
	if (a->host->log)
		a->host->log(a->host->ctx, level, msg);
}

static void log_stats(struct apool *a, const char *what)
{
	char used[32], peak[32], msg[320];
	fmt_bytes(used, sizeof used, a->st.in_use);
	fmt_bytes(peak, sizeof peak, a->st.peak_in_use);
	snprintf(msg, sizeof msg,
	         "async_pool: %s%llu allocation%s, %llu free%s, %s in use, peak %s in use, "
	         "%llu failed",
	         what, a->st.allocs, a->st.allocs == 1 ? "" : "s", a->st.frees,
	         a->st.frees == 1 ? "" : "s", used, peak, a->st.failures);
	say(a, CUBIE_LOG_DEBUG, msg);
}

static void *create(const cubie_host *host, char *errbuf, size_t errlen)
{
	const char *why = NULL;
	if (!host || !host->backend || strcmp(host->backend, "cuda"))
		why = "async_pool needs the cuda backend (stream-ordered allocation); "
		      "use allocator = pool on the cpu backend";
	else if (!host->mem_alloc_async || !host->mem_free_async || !host->mem_pool_keep)
		why = "async_pool needs stream-ordered memory pools, which this GPU or driver "
		      "does not support; use allocator = pool";
	else if (host->mem_pool_keep(host->ctx, KEEP_ALL) != 0)
		why = "async_pool: cannot set the release threshold of the device's memory pool";
	struct apool *a = why ? NULL : calloc(1, sizeof *a);
	if (!why && !a)
		why = "async_pool: out of host memory";
	if (why) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%s", why);
		return NULL;
	}
	a->host = host;
	atomic_fetch_add(&instances, 1);
	return a;
}

static int alloc(void *self, size_t bytes, void *stream, uint64_t *ptr)
{
	struct apool *a = self;
	*ptr = 0;
	if (bytes == 0)
		return 0;
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 16;
		struct live *l = realloc(a->live, cap * sizeof *l);
		if (!l)
			return -1;
		a->live = l;
		a->cap = cap;
	}
	if (a->lowered && a->host->mem_pool_keep(a->host->ctx, KEEP_ALL) == 0)
		a->lowered = 0;
	int rc = a->host->mem_alloc_async(a->host->ctx, bytes, stream, ptr);
	if (rc != 0) {
		a->st.failures++;
		*ptr = 0;
		return rc;
	}
	a->live[a->n++] = (struct live){*ptr, bytes};
	a->st.allocs++;
	a->st.live++;
	a->st.in_use += bytes;
	if (a->st.in_use > a->st.peak_in_use)
		a->st.peak_in_use = a->st.in_use;
	return 0;
}

/* Free live[i] on stream and forget it. */
static int drop(struct apool *a, size_t i, void *stream)
{
	struct live l = a->live[i];
	a->live[i] = a->live[--a->n];
	a->st.frees++;
	a->st.live--;
	a->st.in_use -= l.size;
	return a->host->mem_free_async(a->host->ctx, l.ptr, stream);
}

static int release(void *self, uint64_t ptr, void *stream)
{
	struct apool *a = self;
	if (!ptr)
		return 0;
	for (size_t i = a->n; i-- > 0;)
		if (a->live[i].ptr == ptr)
			return drop(a, i, stream);
	return -1; /* not ours, or freed already */
}

/* Whatever is still allocated: the solve is over and the core has
 * synchronised its streams, so the default stream orders the frees. */
static size_t drop_all(struct apool *a)
{
	size_t left = a->n;
	while (a->n > 0)
		drop(a, a->n - 1, NULL);
	return left;
}

static void end_solve(void *self)
{
	struct apool *a = self;
	size_t left = drop_all(a);
	char what[64] = "";
	if (left)
		snprintf(what, sizeof what, "freed %zu allocation%s left in use; ", left,
		         left == 1 ? "" : "s");
	log_stats(a, what);
}

static void trim(void *self)
{
	struct apool *a = self;
	a->st.trims++;
	if (a->host->mem_pool_keep(a->host->ctx, 0) != 0) {
		say(a, CUBIE_LOG_WARN, "async_pool: cannot lower the memory pool's release threshold");
		return;
	}
	a->lowered = 1;
	log_stats(a, "trim: release threshold 0, unused pool memory goes back to the driver at "
	             "the next synchronisation; ");
}

static void destroy(void *self)
{
	struct apool *a = self;
	if (!a)
		return;
	drop_all(a);
	if (atomic_fetch_sub(&instances, 1) == 1)
		a->host->mem_pool_keep(a->host->ctx, 0); /* the driver's default */
	free(a->live);
	free(a);
}

static const cubie_allocator_ops ops = {
	.create = create,
	.alloc = alloc,
	.free = release,
	.end_solve = end_solve,
	.trim = trim,
	.destroy = destroy,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_ALLOCATOR, "async_pool", CUBIE_VERSION_STRING,
                    "stream-ordered allocation from the CUDA memory pool, kept across solves (cuda only)", &ops)
