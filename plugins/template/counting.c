/* An allocator plugin: every request goes straight to the backend through
 * the host's memory primitives, and the allocator counts what passes, to
 * report it through the host's log when a solve ends (cubie run -v shows
 * it). A real policy (a pool, say) would keep freed blocks for reuse and
 * give them back in trim. */
#include <stdio.h>
#include <stdlib.h>
#include <cubie/plugin.h>

struct counting {
	const cubie_host *host;
	size_t allocs, live, peak; /* this solve: requests, blocks held, most held */
	unsigned long long bytes;  /* this solve: bytes requested */
};

static void *create(const cubie_host *host, char *errbuf, size_t errlen)
{
	struct counting *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(errbuf, errlen, "counting allocator: out of host memory");
		return NULL;
	}
	c->host = host;
	return c;
}

/* free() gets only the pointer back, so blocks are counted, not bytes. */
static int alloc(void *self, size_t bytes, void *stream, uint64_t *ptr)
{
	struct counting *c = self;
	(void)stream; /* plain allocations are not stream-ordered */
	int rc = c->host->mem_alloc(c->host->ctx, bytes, ptr);
	if (rc == 0) {
		c->allocs++;
		c->bytes += bytes;
		if (++c->live > c->peak)
			c->peak = c->live;
	}
	return rc;
}

static int release(void *self, uint64_t ptr, void *stream)
{
	struct counting *c = self;
	(void)stream;
	if (!ptr)
		return 0;
	c->live--;
	return c->host->mem_free(c->host->ctx, ptr);
}

static void end_solve(void *self)
{
	struct counting *c = self;
	char msg[200];
	snprintf(msg, sizeof msg, "counting: %zu allocations, %llu bytes, at most %zu at once (%s)",
	         c->allocs, c->bytes, c->peak, c->host->backend);
	c->host->log(c->host->ctx, CUBIE_LOG_INFO, msg);
	c->allocs = c->peak = 0;
	c->bytes = 0;
}

static void trim(void *self)
{
	(void)self; /* nothing is cached */
}

static void destroy(void *self)
{
	free(self);
}

static const cubie_allocator_ops ops = {
	.create = create,
	.alloc = alloc,
	.free = release,
	.end_solve = end_solve,
	.trim = trim,
	.destroy = destroy,
};

static const cubie_plugin plugin = {
	.abi_major = CUBIE_ABI_MAJOR,
	.abi_minor = CUBIE_ABI_MINOR,
	.kind = CUBIE_PLUGIN_ALLOCATOR,
	.name = "counting", /* installed as allocator/counting.so */
	.version = "1.0",
	.summary = "forwards to the backend and counts allocations (template)",
	.ops = &ops,
};

const cubie_plugin *cubie_plugin_describe(void)
{
	return &plugin;
}
