/* The pool allocator: a caching allocator over the backend's plain
 * allocation primitives (host->mem_alloc / mem_free), so that repeated solves
 * stop paying for device allocation. Blocks obtained from the backend are
 * kept across solves and reused by size; only trim and destroy give memory
 * back. It uses nothing but mem_alloc and mem_free, so it works on every
 * backend (device memory on cuda, host memory on cpu).
 *
 * Scheme. Every request is rounded up to a size class, and a block is
 * always allocated from the backend at its class size:
 *   - up to 4 KiB: multiples of 512 B (512 B, 1 KiB, ..., 4 KiB);
 *   - above: 8 classes per power of two, for 2^k < n <= 2^(k+1) the class
 *     is n rounded up to a multiple of 2^(k-3) (4.5 KiB, 5 KiB, ... 8 KiB,
 *     9 KiB, ...; 1.125 MiB, 1.25 MiB, ...; 3 MiB; 4.5 MiB, ...).
 * Rounding therefore wastes less than 1/8 of a request above 4 KiB (and
 * under 512 B below it). Each class has its own free list (a stack: the
 * block freed last, likely still mapped and warm, is reused first). A
 * request takes a free block of its own class, else the smallest free block
 * of the next classes no larger than max(its class, 1.25 x the request),
 * else a new block from the backend. Blocks are never split or merged, so
 * a cached block can only serve requests within that factor of its size:
 * a 1 MiB + 1 request gets a 1.125 MiB block, a 3 MiB request a 3 MiB one,
 * and neither is ever carved out of the other.
 *
 * Why this bounds fragmentation: a new block of class c is made only when
 * every cached block of c is in use, so the pool never holds more blocks of
 * a class than the most requests of that class (or of the classes that may
 * reuse it) ever live at once. Workloads whose sizes stay in a range reach
 * a steady state after their first solves and then make no more backend
 * allocations; sizes spread over [S, 2S) touch at most 8 classes.
 *
 * Out of memory: when the backend refuses an allocation, every cached
 * unused block is released (as trim does) and the allocation is tried once
 * more if that released anything.
 *
 * end_solve returns nothing to the backend (that is the point); blocks a
 * solve still holds when it ends are taken back into the free lists, as
 * the default allocator frees them. trim releases every cached unused
 * block; blocks in use are untouched. destroy releases everything.
 *
 * Streams: the stream argument is ignored. The core synchronises a chunk's
 * stream before it frees that chunk's buffers, so a block handed out again
 * is never still in use by the device.
 *
 * Statistics (struct pool_stats) are logged at CUBIE_LOG_DEBUG by
 * end_solve and trim, one line:
 *   pool: 3 blocks, 12.0 MiB held, 0 B in use, peak 12.0 MiB,
 *   3 host allocations, 57 reuses
 *
 * Like the default allocator this is not thread-safe: one solver calls its
 * allocator from one thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cubie/plugin.h>

#define SMALL_STEP 512u  /* class step up to SMALL_MAX */
#define SMALL_MAX 4096u  /* = 2^12: 8 small classes */
#define SMALL_LOG2 12
/* Requests above 2^(MAX_LOG2 + 1) are refused (no class arithmetic may
 * overflow); 2^62 bytes is far beyond any device. */
#define MAX_LOG2 (sizeof(size_t) * 8 - 3)
#define N_CLASSES (8 + (MAX_LOG2 - SMALL_LOG2 + 1) * 8)
#define REUSE_NUM 5      /* reuse a block of at most 5/4 of a request */
#define REUSE_DEN 4

struct block {
	uint64_t ptr;
	size_t size;    /* its class size: what the backend gave */
	unsigned cls;
	struct block *next; /* in its free list */
};

/* Counters kept for logging (and for a statistics hook, should the ABI get
 * one). Bytes are class sizes, i.e. what the backend holds for us. */
struct pool_stats {
	size_t blocks;                 /* blocks held from the backend */
	size_t held;                   /* bytes held from the backend */
	size_t in_use;                 /* bytes of blocks handed out */
	size_t peak_held;              /* most bytes ever held */
	unsigned long long host_allocs; /* successful backend allocations */
	unsigned long long host_frees;  /* blocks given back to the backend */
	unsigned long long reuses;      /* requests served from the cache */
	unsigned long long failures;    /* backend allocations refused */
	unsigned long long trims;       /* trims, asked for or forced by a failure */
};

struct pool {
	const cubie_host *host;
	struct block *free_list[N_CLASSES];
	struct block **used; /* blocks handed out, unordered */
	size_t n_used, cap_used;
	struct pool_stats st;
};

/* floor(log2(n)), n > 0 */
static unsigned ilog2(size_t n)
{
#if defined(__GNUC__)
	return (unsigned)(sizeof(unsigned long long) * 8 - 1) - (unsigned)__builtin_clzll(n);
#else
	unsigned k = 0;
	while (n >>= 1)
		k++;
	return k;
#endif
}

/* Class of a request of n > 0 bytes; N_CLASSES when too large. */
static unsigned class_of(size_t n)
{
	if (n <= SMALL_MAX)
		return (unsigned)((n + SMALL_STEP - 1) / SMALL_STEP) - 1;
	unsigned k = ilog2(n - 1); /* 2^k < n <= 2^(k+1), k >= SMALL_LOG2 */
	if (k > MAX_LOG2)
		return N_CLASSES;
	size_t g = (size_t)1 << (k - 3);
	size_t j = (n - ((size_t)1 << k) + g - 1) / g; /* 1..8 */
	return 8 + (k - SMALL_LOG2) * 8 + (unsigned)(j - 1);
}

static size_t class_size(unsigned c)
{
	if (c < 8)
		return (size_t)(c + 1) * SMALL_STEP;
	unsigned k = SMALL_LOG2 + (c - 8) / 8, j = (c - 8) % 8 + 1;
	return ((size_t)1 << k) + (size_t)j * ((size_t)1 << (k - 3));
}

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

static void log_stats(struct pool *p, int level, const char *what)
{
	if (!p->host->log)
		return;
	char held[32], used[32], peak[32], msg[320];
	fmt_bytes(held, sizeof held, p->st.held);
	fmt_bytes(used, sizeof used, p->st.in_use);
	fmt_bytes(peak, sizeof peak, p->st.peak_held);
	snprintf(msg, sizeof msg,
	         "pool: %s%zu block%s, %s held, %s in use, peak %s, %llu host allocation%s, "
	         "%llu reuse%s",
	         what, p->st.blocks, p->st.blocks == 1 ? "" : "s", held, used, peak,
	         p->st.host_allocs, p->st.host_allocs == 1 ? "" : "s", p->st.reuses,
	         p->st.reuses == 1 ? "" : "s");
	p->host->log(p->host->ctx, level, msg);
}

static void *create(const cubie_host *host, char *errbuf, size_t errlen)
{
	struct pool *p = calloc(1, sizeof *p);
	if (!p || !host || !host->mem_alloc || !host->mem_free) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, p ? "pool allocator: the backend has no allocation primitives"
			                           : "pool allocator: out of host memory");
		free(p);
		return NULL;
	}
	p->host = host;
	return p;
}

/* Give one block back to the backend and forget it. */
static void release_block(struct pool *p, struct block *b)
{
	if (p->host->mem_free(p->host->ctx, b->ptr) != 0 && p->host->log) {
		char msg[96];
		snprintf(msg, sizeof msg, "pool: the backend failed to free a block of %zu bytes", b->size);
		p->host->log(p->host->ctx, CUBIE_LOG_WARN, msg);
	}
	p->st.blocks--;
	p->st.held -= b->size;
	p->st.host_frees++;
	free(b);
}

/* Release every cached unused block; returns the bytes released. */
static size_t release_cached(struct pool *p)
{
	size_t bytes = 0;
	for (unsigned c = 0; c < N_CLASSES; c++) {
		while (p->free_list[c]) {
			struct block *b = p->free_list[c];
			p->free_list[c] = b->next;
			bytes += b->size;
			release_block(p, b);
		}
	}
	return bytes;
}

static int alloc(void *self, size_t bytes, void *stream, uint64_t *ptr)
{
	struct pool *p = self;
	*ptr = 0;
	if (bytes == 0)
		return 0; /* a null pointer, as the backends give for zero bytes */
	unsigned c = class_of(bytes);
	if (c >= N_CLASSES)
		return -1;
	if (p->n_used == p->cap_used) {
		size_t cap = p->cap_used ? 2 * p->cap_used : 16;
		struct block **u = realloc(p->used, cap * sizeof *u);
		if (!u)
			return -1;
		p->used = u;
		p->cap_used = cap;
	}
	/* Best fit among cached blocks: the first non-empty list from the
	 * request's class up to the reuse limit. */
	size_t limit = bytes / REUSE_DEN * REUSE_NUM + bytes % REUSE_DEN * REUSE_NUM / REUSE_DEN;
	if (limit < class_size(c))
		limit = class_size(c);
	struct block *b = NULL;
	for (unsigned k = c; k < N_CLASSES && class_size(k) <= limit; k++) {
		if ((b = p->free_list[k])) {
			p->free_list[k] = b->next;
			p->st.reuses++;
			break;
		}
	}
	if (!b) {
		if (!(b = malloc(sizeof *b)))
			return -1;
		b->size = class_size(c);
		b->cls = c;
		int rc = p->host->mem_alloc(p->host->ctx, b->size, &b->ptr);
		if (rc != 0) {
			p->st.failures++;
			p->st.trims++;
			size_t freed = release_cached(p);
			if (p->host->log) {
				char want[32], got[32], msg[160];
				fmt_bytes(want, sizeof want, b->size);
				fmt_bytes(got, sizeof got, freed);
				snprintf(msg, sizeof msg,
				         "pool: the backend refused %s; released %s cached%s", want, got,
				         freed ? ", retrying" : "");
				p->host->log(p->host->ctx, CUBIE_LOG_INFO, msg);
			}
			if (freed)
				rc = p->host->mem_alloc(p->host->ctx, b->size, &b->ptr);
			if (rc != 0) {
				if (freed)
					p->st.failures++;
				free(b);
				return rc;
			}
		}
		p->st.host_allocs++;
		p->st.blocks++;
		p->st.held += b->size;
		if (p->st.held > p->st.peak_held)
			p->st.peak_held = p->st.held;
	}
	b->next = NULL;
	p->used[p->n_used++] = b;
	p->st.in_use += b->size;
	*ptr = b->ptr;
	return 0;
}

/* Return a block handed out to its free list. */
static void recycle(struct pool *p, size_t i)
{
	struct block *b = p->used[i];
	p->used[i] = p->used[--p->n_used];
	p->st.in_use -= b->size;
	b->next = p->free_list[b->cls];
	p->free_list[b->cls] = b;
}

static int release(void *self, uint64_t ptr, void *stream)
{
	struct pool *p = self;
	if (!ptr)
		return 0;
	/* From the end: buffers tend to be freed soon after they are made. */
	for (size_t i = p->n_used; i-- > 0;) {
		if (p->used[i]->ptr == ptr) {
			recycle(p, i);
			return 0;
		}
	}
	return -1; /* not ours, or freed already */
}

static void end_solve(void *self)
{
	struct pool *p = self;
	size_t left = p->n_used;
	while (p->n_used > 0)
		recycle(p, p->n_used - 1);
	char what[64] = "";
	if (left)
		snprintf(what, sizeof what, "took back %zu block%s left in use; ", left,
		         left == 1 ? "" : "s");
	log_stats(p, CUBIE_LOG_DEBUG, what);
}

static void trim(void *self)
{
	struct pool *p = self;
	size_t before = p->st.blocks;
	size_t bytes = release_cached(p);
	p->st.trims++;
	char what[96], b[32];
	fmt_bytes(b, sizeof b, bytes);
	snprintf(what, sizeof what, "trim released %zu block%s (%s); ", before - p->st.blocks,
	         before - p->st.blocks == 1 ? "" : "s", b);
	log_stats(p, CUBIE_LOG_DEBUG, what);
}

static void destroy(void *self)
{
	struct pool *p = self;
	if (!p)
		return;
	while (p->n_used > 0)
		recycle(p, p->n_used - 1);
	release_cached(p);
	free(p->used);
	free(p);
}

static const cubie_allocator_ops ops = {
	.create = create,
	.alloc = alloc,
	.free = release,
	.end_solve = end_solve,
	.trim = trim,
	.destroy = destroy,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_ALLOCATOR, "pool", CUBIE_VERSION_STRING,
                    "caches blocks by size class and reuses them across solves", &ops)
