/* The default allocator: every request is a fresh allocation from the
 * backend, nothing is cached; whatever a solve still holds when it ends is
 * freed then, so memory never outlives the solve that asked for it. */
#include <stdio.h>
#include <stdlib.h>
#include <cubie/plugin.h>

struct alloc {
	const cubie_host *host;
	uint64_t *held; /* live allocations, to free at end_solve */
	size_t n, cap;
};

static void *create(const cubie_host *host, char *errbuf, size_t errlen)
{
	struct alloc *a = calloc(1, sizeof *a);
	if (!a) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "default allocator: out of host memory");
		return NULL;
	}
	a->host = host;
	return a;
}

static int alloc(void *self, size_t bytes, void *stream, uint64_t *ptr)
{
	struct alloc *a = self;
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 16;
		uint64_t *held = realloc(a->held, cap * sizeof *held);
		if (!held)
			return -1;
		a->held = held;
		a->cap = cap;
	}
	int rc = a->host->mem_alloc(a->host->ctx, bytes, ptr);
	if (rc == 0)
		a->held[a->n++] = *ptr;
	return rc;
}

static int release(void *self, uint64_t ptr, void *stream)
{
	struct alloc *a = self;
	if (!ptr)
		return 0;
	/* From the end: buffers tend to be freed soon after they are made. */
	for (size_t i = a->n; i-- > 0;) {
		if (a->held[i] == ptr) {
			a->held[i] = a->held[--a->n];
			return a->host->mem_free(a->host->ctx, ptr);
		}
	}
	return -1; /* not ours */
}

static void end_solve(void *self)
{
	struct alloc *a = self;
	while (a->n > 0)
		a->host->mem_free(a->host->ctx, a->held[--a->n]);
}

static void trim(void *self)
{
	(void)self; /* nothing is cached */
}

static void destroy(void *self)
{
	struct alloc *a = self;
	if (!a)
		return;
	end_solve(a);
	free(a->held);
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

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_ALLOCATOR, "default", CUBIE_VERSION_STRING,
                    "a fresh allocation per request, all freed when the solve ends", &ops)
