/* The allocator plugins (default, pool, async_pool), loaded from the build
 * tree's plugin-dir and driven through a cubie_host whose memory primitives
 * are shims over a real backend: they count calls and bytes, check every
 * free against what they handed out, and can refuse allocations (the next
 * n, or any that would pass a byte limit) to inject out-of-memory. The cpu
 * backend runs everything; where a GPU is usable the pool and async_pool
 * are also driven on the cuda backend. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include "internal.h"
#include "tap.h"

#define MiB ((size_t)1 << 20)
#define KiB ((size_t)1 << 10)

/* ---- the counting host ---- */

struct shim {
	backend *be;
	cubie_host host; /* what the plugins see; ctx is this shim */
	/* outstanding allocations from the backend */
	struct { uint64_t p; size_t n; } *live;
	size_t n_live, cap_live;
	size_t bytes, peak_bytes;
	unsigned long long allocs, frees, async_allocs, async_frees, refused, bad_frees;
	int fail_next; /* refuse the next n allocations */
	size_t limit;  /* refuse allocations that would hold more; 0: none */
	int keep_calls;
	size_t last_keep;
	char log[1024]; /* the last message */
	int n_logs;
};

static void sh_track(struct shim *s, uint64_t p, size_t n)
{
	if (s->n_live == s->cap_live) {
		s->cap_live = s->cap_live ? 2 * s->cap_live : 64;
		s->live = realloc(s->live, s->cap_live * sizeof *s->live);
	}
	s->live[s->n_live].p = p;
	s->live[s->n_live++].n = n;
	s->bytes += n;
	if (s->bytes > s->peak_bytes)
		s->peak_bytes = s->bytes;
}

/* Forget p; 0 when it was ours. */
static int sh_untrack(struct shim *s, uint64_t p)
{
	for (size_t i = 0; i < s->n_live; i++)
		if (s->live[i].p == p) {
			s->bytes -= s->live[i].n;
			s->live[i] = s->live[--s->n_live];
			return 0;
		}
	s->bad_frees++;
	return -1;
}

static int sh_refuse(struct shim *s, size_t bytes)
{
	if (s->fail_next > 0) {
		s->fail_next--;
		return ++s->refused, 1;
	}
	if (s->limit && s->bytes + bytes > s->limit)
		return ++s->refused, 1;
	return 0;
}

static int sh_alloc(void *ctx, size_t bytes, uint64_t *ptr)
{
	struct shim *s = ctx;
	*ptr = 0;
	if (sh_refuse(s, bytes))
		return -1;
	int rc = s->be->ops->mem_alloc(s->be, bytes, ptr);
	if (rc == 0) {
		s->allocs++;
		if (*ptr)
			sh_track(s, *ptr, bytes);
	}
	return rc;
}

static int sh_free(void *ctx, uint64_t ptr)
{
	struct shim *s = ctx;
	if (ptr && sh_untrack(s, ptr))
		return -1; /* never hand the backend a pointer it did not give */
	s->frees++;
	return s->be->ops->mem_free(s->be, ptr);
}

static int sh_alloc_async(void *ctx, size_t bytes, void *stream, uint64_t *ptr)
{
	struct shim *s = ctx;
	*ptr = 0;
	if (sh_refuse(s, bytes))
		return -1;
	int rc = s->be->ops->mem_alloc_async(s->be, bytes, stream, ptr);
	if (rc == 0) {
		s->async_allocs++;
		if (*ptr)
			sh_track(s, *ptr, bytes);
	}
	return rc;
}

static int sh_free_async(void *ctx, uint64_t ptr, void *stream)
{
	struct shim *s = ctx;
	if (ptr && sh_untrack(s, ptr))
		return -1;
	s->async_frees++;
	return s->be->ops->mem_free_async(s->be, ptr, stream);
}

static int sh_keep(void *ctx, size_t bytes)
{
	struct shim *s = ctx;
	s->keep_calls++;
	s->last_keep = bytes;
	return s->be->ops->mem_pool_keep(s->be, bytes);
}

static int sh_pinned_alloc(void *ctx, size_t bytes, void **ptr)
{
	struct shim *s = ctx;
	return s->be->ops->pinned_alloc(s->be, bytes, ptr);
}

static int sh_pinned_free(void *ctx, void *ptr)
{
	struct shim *s = ctx;
	return s->be->ops->pinned_free(s->be, ptr);
}

static void sh_log(void *ctx, int level, const char *msg)
{
	struct shim *s = ctx;
	snprintf(s->log, sizeof s->log, "%s", msg);
	s->n_logs++;
	if (getenv("CUBIE_TEST_VERBOSE"))
		diag("log %d: %s", level, msg);
}

/* A host over be, as core/solver.c builds it, with every primitive shimmed. */
static struct shim *shim_new(backend *be)
{
	struct shim *s = calloc(1, sizeof *s);
	const struct backend_ops *o = be->ops;
	s->be = be;
	s->host = (cubie_host){s, o->name, sh_alloc, sh_free,
	                       o->mem_alloc_async ? sh_alloc_async : NULL,
	                       o->mem_free_async ? sh_free_async : NULL,
	                       o->mem_pool_keep ? sh_keep : NULL,
	                       sh_pinned_alloc, sh_pinned_free, sh_log};
	return s;
}

static void shim_free(struct shim *s)
{
	free(s->live);
	free(s);
}

/* ---- plugins ---- */

static const cubie_allocator_ops *load(const char *name, struct plugin *p)
{
	const char *dir = getenv("CUBIE_BUILDDIR");
	char path[4096];
	cubie_error e = {0};
	snprintf(path, sizeof path, "%s/plugin-dir/allocator/%s.so", dir ? dir : ".", name);
	if (plugin_open(path, p, &e) != 0) {
		printf("Bail out! %s\n", e.msg);
		exit(1);
	}
	if (p->desc->kind != CUBIE_PLUGIN_ALLOCATOR || strcmp(p->desc->name, name)) {
		printf("Bail out! %s is not the allocator '%s'\n", path, name);
		exit(1);
	}
	return p->desc->ops;
}

static void *make(const cubie_allocator_ops *ao, struct shim *s, const char *name)
{
	char err[512] = "";
	void *a = ao->create(&s->host, err, sizeof err);
	if (!a) {
		printf("Bail out! %s create: %s\n", name, err);
		exit(1);
	}
	return a;
}

/* A buffer as a pointer, for like() (which tests its argument for NULL). */
static const char *str(const char *s) { return s; }

/* The number right before the last occurrence of word in s, or -1. */
static long long num_before(const char *s, const char *word)
{
	const char *at = NULL;
	for (const char *q = s; (q = strstr(q, word)); q++)
		at = q;
	if (!at)
		return -1;
	const char *d = at;
	while (d > s && d[-1] >= '0' && d[-1] <= '9')
		d--;
	return d == at ? -1 : strtoll(d, NULL, 10);
}

/* The pool's counters, from its last statistics line. */
static long long pool_reuses(const struct shim *s) { return num_before(s->log, " reuse"); }
static long long pool_host_allocs(const struct shim *s)
{
	return num_before(s->log, " host allocation");
}

/* The pool's size classes, as its header comment states them. */
static size_t class_bytes(size_t n)
{
	if (n <= 4096)
		return (n + 511) / 512 * 512;
	size_t p = 1;
	while (p * 2 < n)
		p *= 2; /* p < n <= 2p */
	size_t g = p / 8;
	return (n + g - 1) / g * g;
}

static uint32_t rng = 12345;
static uint32_t next_rand(void)
{
	rng = rng * 1664525u + 1013904223u;
	return rng >> 8;
}

/* Fill a block (host memory: the cpu backend) and check it. */
static void fill(uint64_t p, size_t n, unsigned char v)
{
	memset((void *)(uintptr_t)p, v, n);
}

static int holds(uint64_t p, size_t n, unsigned char v)
{
	const unsigned char *c = (const void *)(uintptr_t)p;
	for (size_t i = 0; i < n; i++)
		if (c[i] != v)
			return 0;
	return 1;
}

/* One "solve": allocate every size, touch, free, end_solve. */
static int solve_once(const cubie_allocator_ops *ao, void *a, const size_t *sizes, size_t n,
                      int touch)
{
	uint64_t p[16];
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		bad |= ao->alloc(a, sizes[i], NULL, &p[i]) != 0 || !p[i];
		if (!bad && touch)
			fill(p[i], sizes[i], (unsigned char)(i + 1));
	}
	for (size_t i = 0; i < n && !bad; i++)
		bad |= touch && !holds(p[i], sizes[i], (unsigned char)(i + 1));
	for (size_t i = n; i-- > 0;)
		bad |= ao->free(a, p[i], NULL) != 0;
	ao->end_solve(a);
	return !bad;
}

/* ---- default ---- */

static void test_default(backend *be)
{
	struct plugin pl;
	const cubie_allocator_ops *ao = load("default", &pl);
	struct shim *s = shim_new(be);
	void *a = make(ao, s, "default");
	uint64_t p[4];
	size_t sz[4] = {1000, 2 * MiB, 17, 300 * KiB};
	int okall = 1;
	for (int i = 0; i < 4; i++) {
		okall &= ao->alloc(a, sz[i], NULL, &p[i]) == 0 && p[i];
		if (p[i])
			fill(p[i], sz[i], 0x5a);
	}
	ok(okall, "default: four allocations");
	ok(ao->free(a, p[1], NULL) == 0 && ao->free(a, p[3], NULL) == 0, "default: free two of them");
	is_int(s->n_live, 2, "default: freed ones went back to the backend at once");
	ao->end_solve(a);
	is_int(s->n_live, 0, "default: end_solve frees what the solve still held");
	ok(ao->free(a, p[0], NULL) != 0, "default: a buffer freed by end_solve is no longer known");
	for (int r = 0; r < 3; r++)
		solve_once(ao, a, sz, 4, 1);
	is_int(s->allocs, 16, "default: every solve allocates afresh (4 + 3 x 4)");
	is_int(s->n_live, 0, "default: nothing outstanding after the solves");
	ok(ao->free(a, 0xdead000, NULL) != 0, "default: freeing an unknown pointer fails");
	ok(ao->alloc(a, 64, NULL, &p[0]) == 0, "default: one left in use");
	ao->destroy(a);
	is_int(s->n_live, 0, "default: destroy frees what is in use");
	is_int(s->bad_frees, 0, "default: never freed a pointer the backend did not give");
	shim_free(s);
	plugin_close(&pl);
}

/* ---- pool on the cpu backend ---- */

static void test_pool_repeat(const cubie_allocator_ops *ao, backend *be)
{
	struct shim *s = shim_new(be);
	void *a = make(ao, s, "pool");
	const size_t sz[5] = {1000, 3 * 4096 + 5, MiB, 5 * MiB + 123, 40};
	size_t want = 0;
	for (int i = 0; i < 5; i++)
		want += class_bytes(sz[i]);
	int okall = 1, reuse_ok = 1, stable = 1;
	for (int r = 0; r < 10; r++) {
		okall &= solve_once(ao, a, sz, 5, 1);
		stable &= s->allocs == 5 && s->n_live == 5 && s->bytes == want;
		reuse_ok &= pool_host_allocs(s) == 5 && pool_reuses(s) == 5LL * r;
	}
	ok(okall, "pool: 10 solves of 5 buffers, each written and read back");
	ok(stable, "pool: the backend allocations stay at 5 after the first solve, all kept");
	if (!stable)
		diag("backend allocations %llu, outstanding %zu (%zu bytes, want %zu)", s->allocs,
		     s->n_live, s->bytes, want);
	ok(reuse_ok, "pool: its statistics count 5 host allocations and 5 more reuses a solve");
	like(s->log, "pool: 5 blocks, ", "pool: end_solve logs the statistics");
	is_int(s->bytes, want, "pool: holds exactly the class sizes (%zu bytes)", want);
	ao->trim(a);
	is_int(s->n_live, 0, "pool: trim with nothing in use gives everything back");
	like(s->log, "trim released 5 blocks", "pool: trim logs what it released");
	like(s->log, "0 blocks, 0 B held, 0 B in use", "pool: and what is left");
	okall = solve_once(ao, a, sz, 5, 1);
	ok(okall && s->allocs == 10, "pool: after trim the next solve allocates again");
	ao->destroy(a);
	is_int(s->n_live, 0, "pool: destroy gives everything back");
	is_int(s->bad_frees, 0, "pool: never freed a pointer the backend did not give");
	shim_free(s);
}

static void test_pool_trim_in_use(const cubie_allocator_ops *ao, backend *be)
{
	struct shim *s = shim_new(be);
	void *a = make(ao, s, "pool");
	uint64_t x, y, z;
	ao->alloc(a, 3 * MiB, NULL, &x);
	ao->alloc(a, 100 * KiB, NULL, &y);
	ao->alloc(a, 200, NULL, &z);
	fill(x, 3 * MiB, 0xa5);
	ao->free(a, y, NULL);
	ao->trim(a);
	is_int(s->n_live, 2, "pool: trim keeps the blocks in use");
	ok(s->n_live == 2 && holds(x, 3 * MiB, 0xa5), "pool: a block in use keeps its contents");
	ok(ao->free(a, x, NULL) == 0, "pool: a block in use across trim frees normally");
	is_int(s->n_live, 2, "pool: freed into the cache, not to the backend");
	uint64_t x2;
	ao->alloc(a, 3 * MiB - 1000, NULL, &x2);
	ok(x2 == x && s->allocs == 3, "pool: a close smaller request reuses the cached block");
	ao->free(a, x2, NULL);
	/* a block a solve forgot to free */
	ao->end_solve(a);
	like(s->log, "took back 1 block left in use", "pool: end_solve takes back unfreed blocks");
	ok(ao->free(a, z, NULL) != 0, "pool: ... which are then no longer known");
	ao->alloc(a, 300, NULL, &z);
	is_int(s->allocs, 3, "pool: and reuses them");
	ao->free(a, z, NULL);
	ao->trim(a);
	is_int(s->n_live, 0, "pool: trim then releases everything");
	ao->destroy(a);
	is_int(s->bad_frees, 0, "pool: never freed a pointer the backend did not give");
	shim_free(s);
}

/* Alternating sizes that a power-of-two or first-fit scheme would waste
 * memory on, and many slightly different sizes. */
static void test_pool_fragment(const cubie_allocator_ops *ao, backend *be)
{
	struct shim *s = shim_new(be);
	void *a = make(ao, s, "pool");
	const size_t A = MiB + 1, B = 3 * MiB;
	for (int r = 0; r < 100; r++) {
		size_t one = r % 2 ? A : B;
		solve_once(ao, a, &one, 1, 0);
	}
	/* A has class 1.125 MiB, B class 3 MiB: neither may serve the other
	 * (3 MiB > 1.25 x (1 MiB + 1); 1.125 MiB < 3 MiB), one block each. */
	size_t bound = class_bytes(A) + class_bytes(B);
	is_int(s->allocs, 2, "pool: 1 MiB + 1 and 3 MiB alternating, 100 solves: 2 backend allocations");
	ok(s->peak_bytes <= bound, "pool: ... holding at most %zu bytes (held at most %zu)", bound,
	   s->peak_bytes);
	for (int r = 0; r < 100; r++) {
		size_t two[2] = {r % 2 ? A : B, r % 2 ? B : A};
		solve_once(ao, a, two, 2, 0);
	}
	is_int(s->allocs, 2, "pool: both at once, in either order: still 2");
	ao->trim(a);

	/* Three buffers a solve, sizes random in (1 MiB, 2 MiB]: at most 8
	 * classes (1.125 MiB .. 2 MiB) and at most 3 blocks of each, since a
	 * block is made only when all cached ones of its class are in use. */
	unsigned long long before = s->allocs;
	size_t classes = 0;
	for (size_t c = MiB + MiB / 8; c <= 2 * MiB; c += MiB / 8)
		classes += c;
	bound = 3 * classes; /* 37.5 MiB; exact-size caching could reach 300 blocks */
	size_t max_req = 0, peak_at_50 = 0;
	unsigned long long allocs_at_50 = 0;
	for (int r = 0; r < 100; r++) {
		size_t three[3];
		for (int i = 0; i < 3; i++) {
			three[i] = MiB + 1 + next_rand() % MiB;
			max_req = three[i] > max_req ? three[i] : max_req;
		}
		solve_once(ao, a, three, 3, 0);
		if (r == 49)
			allocs_at_50 = s->allocs, peak_at_50 = s->peak_bytes;
	}
	ok(s->allocs - before <= 24, "pool: 300 requests of random sizes in (1, 2] MiB: "
	   "%llu backend allocations (at most 3 x 8 classes)", s->allocs - before);
	ok(s->peak_bytes <= bound, "pool: ... held at most %zu bytes (bound %zu)", s->peak_bytes,
	   bound);
	ok(pool_reuses(s) >= 300 - 24, "pool: ... and reused blocks for the rest (%lld reuses)",
	   pool_reuses(s));
	diag("random sizes: %llu allocations by solve 50, %llu by 100; peak %zu then %zu bytes",
	     allocs_at_50 - before, s->allocs - before, peak_at_50, s->peak_bytes);
	ao->trim(a);

	/* A periodic mix over four octaves settles: no new backend allocation
	 * in the second half. */
	const size_t mix[7] = {70 * KiB, 200 * KiB + 3, 1500 * KiB, 333, 2 * MiB + 7, 90 * KiB,
	                       600 * KiB};
	before = s->allocs;
	for (int r = 0; r < 100; r++) {
		size_t two[2] = {mix[r % 7], mix[(3 * r + 1) % 7]};
		solve_once(ao, a, two, 2, 0);
		if (r == 49)
			allocs_at_50 = s->allocs;
	}
	ok(s->allocs == allocs_at_50, "pool: a periodic mix of 7 sizes settles "
	   "(%llu allocations by solve 50, none after)", allocs_at_50 - before);
	ao->destroy(a);
	is_int(s->n_live, 0, "pool: destroy gives everything back");
	shim_free(s);
}

static void test_pool_failure(const cubie_allocator_ops *ao, backend *be)
{
	struct shim *s = shim_new(be);
	void *a = make(ao, s, "pool");
	uint64_t x, y;
	ao->alloc(a, 4 * MiB, NULL, &x);
	ao->free(a, x, NULL); /* cached */
	s->limit = 6 * MiB;   /* a device of 6 MiB */
	int rc = ao->alloc(a, 5 * MiB, NULL, &y);
	ok(rc == 0 && y, "pool: an allocation refused by the backend succeeds after a trim");
	is_int(s->refused, 1, "pool: ... the backend refused once");
	ok(s->n_live == 1 && s->bytes == 5 * MiB, "pool: ... the cached 4 MiB went back first");
	like(s->log, "retrying", "pool: ... and said so");
	if (rc == 0)
		fill(y, 5 * MiB, 7);
	uint64_t z = 1;
	rc = ao->alloc(a, 8 * MiB, NULL, &z);
	ok(rc != 0 && z == 0, "pool: a request beyond the device fails, with a null pointer");
	is_int(s->refused, 2, "pool: ... without a retry when nothing cached could be released");
	ok(rc == 0 || (s->n_live == 1 && holds(y, 5 * MiB, 7)), "pool: ... and leaves the block in use alone");
	ok(ao->free(a, y, NULL) == 0, "pool: which frees normally");
	s->limit = 0;
	s->fail_next = 1; /* one transient refusal, 5 MiB cached */
	rc = ao->alloc(a, 200 * KiB, NULL, &z);
	ok(rc == 0 && z && s->refused == 3 && s->n_live == 1,
	   "pool: an injected failure triggers a trim and a retry that succeeds");
	ao->free(a, z, NULL);
	ao->end_solve(a);
	like(s->log, "1 block, 208.0 KiB held", "pool: statistics after the failures");
	ao->destroy(a);
	is_int(s->n_live, 0, "pool: destroy gives everything back");
	is_int(s->bad_frees, 0, "pool: never freed a pointer the backend did not give");
	shim_free(s);
}

static void test_pool_misc(const cubie_allocator_ops *ao, backend *be)
{
	struct shim *s = shim_new(be);
	void *a = make(ao, s, "pool");
	uint64_t p;
	ok(ao->alloc(a, 0, NULL, &p) == 0 && p == 0 && s->allocs == 0,
	   "pool: zero bytes is a null pointer, no backend allocation");
	is_int(ao->free(a, 0, NULL), 0, "pool: freeing a null pointer is a no-op");
	ok(ao->free(a, 0xdead000, NULL) != 0, "pool: freeing an unknown pointer fails");
	ao->alloc(a, 1000, NULL, &p);
	ok(ao->free(a, p, NULL) == 0 && ao->free(a, p, NULL) != 0, "pool: a second free of a block fails");
	ok(ao->free(a, p + 8, NULL) != 0, "pool: a pointer inside a block is not a block");
	is_int(s->bad_frees, 0, "pool: none of these reached the backend");
	ao->trim(a);

	/* Writable, distinct, never overlapping, also after reuse. */
	enum { N = 64 };
	uint64_t ptr[N];
	size_t len[N];
	int okall = 1;
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++) {
			if (round && i % 2 == round % 2)
				continue; /* kept from the last round */
			if (round)
				ao->free(a, ptr[i], NULL);
			len[i] = 1 + next_rand() % (300 * KiB);
			okall &= ao->alloc(a, len[i], NULL, &ptr[i]) == 0 && ptr[i];
			fill(ptr[i], len[i], (unsigned char)(i + 1));
		}
		for (int i = 0; i < N; i++)
			okall &= holds(ptr[i], len[i], (unsigned char)(i + 1));
		for (int i = 0; i < N; i++)
			for (int j = i + 1; j < N; j++)
				okall &= ptr[i] + len[i] <= ptr[j] || ptr[j] + len[j] <= ptr[i];
	}
	ok(okall, "pool: 64 live blocks over 3 rounds of reuse: writable, disjoint, intact");
	ao->end_solve(a);
	ok(pool_reuses(s) > 0, "pool: the rounds reused cached blocks (%lld)", pool_reuses(s));
	ao->destroy(a);
	is_int(s->n_live, 0, "pool: destroy gives everything back, blocks in use included");
	shim_free(s);
}

/* ---- async_pool on the cpu backend ---- */

static void test_async_cpu(backend *be)
{
	struct plugin pl;
	const cubie_allocator_ops *ao = load("async_pool", &pl);
	struct shim *s = shim_new(be);
	char err[512] = "";
	void *a = ao->create(&s->host, err, sizeof err);
	ok(a == NULL, "async_pool: create fails on the cpu backend");
	is_int(strcmp(err, "async_pool needs the cuda backend (stream-ordered allocation); use "
	                   "allocator = pool on the cpu backend"), 0,
	       "async_pool: ... saying why and what to use instead");
	if (strcmp(err, "async_pool needs the cuda backend (stream-ordered allocation); use "
	                "allocator = pool on the cpu backend"))
		diag("got: %s", err);
	is_int(s->allocs + s->keep_calls, 0, "async_pool: ... touching nothing");
	cubie_host h = s->host;
	h.backend = "cuda"; /* a GPU without memory pools */
	*err = 0;
	a = ao->create(&h, err, sizeof err);
	ok(a == NULL, "async_pool: create fails without stream-ordered primitives");
	like(str(err), "use allocator = pool", "async_pool: ... pointing to the pool");
	shim_free(s);
	plugin_close(&pl);
}

/* ---- on a GPU ---- */

#define CUDA_TESTS 16

static int roundtrip(backend *be, uint64_t p, size_t n, void *stream, unsigned char v)
{
	cubie_error e = {0};
	unsigned char *h = malloc(n), *back = malloc(n);
	memset(h, v, n);
	memset(back, 0, n);
	int good = be->ops->copy_h2d(be, p, h, n, stream, &e) == 0 &&
	           be->ops->copy_d2h(be, back, p, n, stream, &e) == 0 &&
	           be->ops->stream_sync(be, stream, &e) == 0 && memcmp(h, back, n) == 0;
	free(h);
	free(back);
	return good;
}

static void test_cuda(const cubie_allocator_ops *pool_ops)
{
	backend *be = NULL;
	cubie_error e = {0};
	if (backend_cuda_open(0, 0, &be, &e) != 0) {
		diag("cuda backend: %s", e.msg);
		for (int i = 0; i < CUDA_TESTS; i++)
			skip("no CUDA device");
		return;
	}
	diag("cuda: %s", be->device);
	int n0 = tap_n;

	/* pool over cuMemAlloc */
	struct shim *s = shim_new(be);
	void *a = make(pool_ops, s, "pool");
	void *stream = NULL;
	be->ops->stream_create(be, &stream, &e);
	const size_t sz[3] = {3 * MiB + 5, 64 * KiB, 40 * MiB};
	int good = 1;
	for (int r = 0; r < 10; r++) {
		uint64_t p[3];
		for (int i = 0; i < 3; i++)
			good &= pool_ops->alloc(a, sz[i], stream, &p[i]) == 0 &&
			        roundtrip(be, p[i], sz[i], stream, (unsigned char)(r * 3 + i));
		for (int i = 0; i < 3; i++)
			good &= pool_ops->free(a, p[i], stream) == 0;
		pool_ops->end_solve(a);
	}
	ok(good, "cuda pool: 10 solves of 3 device buffers, copied in and out");
	is_int(s->allocs, 3, "cuda pool: 3 device allocations in all");
	is_int(pool_reuses(s), 27, "cuda pool: 27 reuses");
	pool_ops->trim(a);
	is_int(s->n_live, 0, "cuda pool: trim frees the device memory");
	pool_ops->destroy(a);
	shim_free(s);

	/* async_pool */
	struct plugin pl;
	const cubie_allocator_ops *ao = load("async_pool", &pl);
	s = shim_new(be);
	char err[512] = "";
	a = ao->create(&s->host, err, sizeof err);
	if (!a) {
		ok(0, "cuda async_pool: create: %s", err);
		goto out;
	}
	ok(s->keep_calls == 1 && s->last_keep == SIZE_MAX,
	   "cuda async_pool: create keeps all freed memory in the pool");
	good = 1;
	for (int r = 0; r < 10; r++) {
		uint64_t p[3];
		for (int i = 0; i < 3; i++)
			good &= ao->alloc(a, sz[i], stream, &p[i]) == 0 &&
			        roundtrip(be, p[i], sz[i], stream, (unsigned char)(r * 3 + i + 1));
		for (int i = 0; i < 3; i++)
			good &= ao->free(a, p[i], stream) == 0;
		ao->end_solve(a);
	}
	ok(good, "cuda async_pool: 10 solves of 3 buffers on a stream, copied in and out");
	ok(s->async_allocs == 30 && s->async_frees == 30 && s->allocs == 0,
	   "cuda async_pool: all stream-ordered, each freed (%llu, %llu)", s->async_allocs,
	   s->async_frees);
	like(s->log, "30 allocations, 30 frees, 0 B in use", "cuda async_pool: statistics logged");
	ok(ao->free(a, 0xdead000, stream) != 0, "cuda async_pool: freeing an unknown pointer fails");

	/* The threshold at work: freed memory stays reserved until trim and a
	 * synchronisation. */
	size_t f0, f1, f2, tot, big = 1024 * MiB;
	be->ops->stream_sync(be, stream, &e);
	be->ops->mem_info(be, &f0, &tot);
	uint64_t p;
	good = ao->alloc(a, big, stream, &p) == 0 && roundtrip(be, p, 4096, stream, 9) &&
	       ao->free(a, p, stream) == 0;
	ao->end_solve(a);
	be->ops->stream_sync(be, stream, &e);
	be->ops->mem_info(be, &f1, &tot);
	ok(good && f1 + big / 2 < f0, "cuda async_pool: 1 GiB freed and synchronised stays in "
	   "the pool (free %zu MiB, was %zu MiB)", f1 / MiB, f0 / MiB);
	ao->trim(a);
	ok(s->last_keep == 0, "cuda async_pool: trim lowers the release threshold to 0");
	be->ops->stream_sync(be, stream, &e);
	be->ops->mem_info(be, &f2, &tot);
	ok(f2 > f1 + big / 2, "cuda async_pool: released at the next synchronisation "
	   "(free %zu MiB)", f2 / MiB);
	good = ao->alloc(a, MiB, stream, &p) == 0;
	ok(good && s->last_keep == SIZE_MAX, "cuda async_pool: the next allocation keeps memory again");
	/* left in use: end_solve frees it */
	ao->end_solve(a);
	be->ops->stream_sync(be, stream, &e);
	is_int(s->n_live, 0, "cuda async_pool: end_solve frees what a solve left allocated");
	ao->destroy(a);
	ok(s->last_keep == 0, "cuda async_pool: the last one destroyed restores the threshold");
	is_int(s->bad_frees, 0, "cuda async_pool: never freed a pointer the driver did not give");
out:
	if (tap_n - n0 != CUDA_TESTS)
		diag("CUDA_TESTS is %d, ran %d", CUDA_TESTS, tap_n - n0);
	shim_free(s);
	plugin_close(&pl);
	be->ops->stream_destroy(be, stream);
	be->ops->close(be);
}

/* The cpu backend keeps large freed blocks for the next solve (fresh
 * pages fault and clear): the same sizes again get the same blocks. */
static void test_cpu_kept(backend *cpu)
{
	const struct backend_ops *o = cpu->ops;
	const size_t big = (size_t)3 << 20;
	uint64_t a = 0, b = 0, a2 = 0, b2 = 0, small = 0;
	o->mem_alloc(cpu, big, &a);
	o->mem_alloc(cpu, 2 * big, &b);
	memset((void *)(uintptr_t)b, 1, 2 * big);
	o->mem_free(cpu, a);
	o->mem_free(cpu, b);
	o->mem_alloc(cpu, 4096, &small); /* small blocks are malloc's to reuse */
	o->mem_alloc(cpu, 2 * big, &b2);
	o->mem_alloc(cpu, big, &a2);
	ok(a && b && a2 == a && b2 == b, "cpu: the same sizes again get the same blocks");
	ok(b2 && ((unsigned char *)(uintptr_t)b2)[2 * big - 1] == 1, "... as they were left");
	o->mem_free(cpu, a2);
	o->mem_free(cpu, b2);
	o->mem_free(cpu, small);
}

int main(void)
{
	backend *cpu = NULL;
	cubie_error e = {0};
	if (backend_cpu_open(0, &cpu, &e) != 0) {
		printf("Bail out! cpu backend: %s\n", e.msg);
		return 1;
	}
	test_default(cpu);
	test_cpu_kept(cpu);
	struct plugin pl;
	const cubie_allocator_ops *pool = load("pool", &pl);
	test_pool_repeat(pool, cpu);
	test_pool_trim_in_use(pool, cpu);
	test_pool_fragment(pool, cpu);
	test_pool_failure(pool, cpu);
	test_pool_misc(pool, cpu);
	test_async_cpu(cpu);
	test_cuda(pool);
	plugin_close(&pl);
	cpu->ops->close(cpu);
	done_testing();
	return tap_exit();
}
