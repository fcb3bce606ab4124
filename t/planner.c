/* The planner's arithmetic: budget, chunk size, streams, chunks. */
#include "config.h"
#include "internal.h"
#include "tap.h"

#define GiB (1024.0 * 1024 * 1024)
#define MiB (1024.0 * 1024)

struct row {
	const char *what;
	double free_b, total_b, proportion;
	int host;
	double reserve;
	size_t bpr, streams, runs, block, forced;
	int rc;
	double budget;
	size_t chunk, used_streams, chunks;
};

static const struct row rows[] = {
	{"everything fits on a GPU: one chunk per stream, so copies overlap kernels", 79 * GiB,
	 80 * GiB, 0.7, 0, 100 * MiB, 44, 2, 1 << 22, 128, 0, 0, 0.7 * 80 * GiB - 100 * MiB, 1 << 21,
	 2, 2},
	{"... rounded up to whole blocks", 79 * GiB, 80 * GiB, 0.7, 0, 0, 44, 3, 1000000, 128, 0, 0,
	 0.7 * 80 * GiB, 333440, 3, 3},
	{"everything fits, a small batch: one chunk on one stream", 79 * GiB, 80 * GiB, 0.7, 0, 0,
	 44, 2, 100000, 128, 0, 0, 0.7 * 80 * GiB, 100000, 1, 1},
	{"everything fits in host memory: one chunk", 79 * GiB, 80 * GiB, 0.7, 1, 0, 44, 2, 1 << 20,
	 1, 0, 0, 0.7 * 79 * GiB, 1 << 20, 1, 1},
	{"host memory: chunks of at most 64 MiB, so the peak stays near the result", 79 * GiB,
	 80 * GiB, 0.7, 1, 0, 44, 2, 1 << 22, 1, 0, 0, 0.7 * 79 * GiB, (64 << 20) / 44, 2, 3},
	{"everything fits on one stream: one chunk", 79 * GiB, 80 * GiB, 0.7, 0, 0, 44, 1, 1 << 22,
	 128, 0, 0, 0.7 * 80 * GiB, 1 << 22, 1, 1},
	{"tight: budget / (streams x bytes) rounded down to whole blocks", 1 * GiB, 1 * GiB, 0.5, 0,
	 0, 1000, 2, 1000000, 128, 0, 0, 0.5 * GiB, 268416, 2, 4},
	{"free memory below the proportion bounds the budget", 1 * GiB, 10 * GiB, 0.9, 0, 0,
	 1024, 4, 1 << 22, 256, 0, 0, 1 * GiB, 262144, 4, 16},
	{"the reserve comes off the budget", 2 * GiB, 2 * GiB, 1.0, 0, 1 * GiB, 1024, 1, 1 << 21,
	 128, 0, 0, 1 * GiB, 1 << 20, 1, 2},
	{"host memory: proportion x available (and 64 MiB chunks)", 8 * GiB, 16 * GiB, 0.5, 1, 0, 1024,
	 2, 1 << 22, 1, 0, 0, 4 * GiB, 65536, 2, 64},
	{"a budget of 2.5 runs uses 2 streams of one run", 2500, 1e12, 1.0, 1, 0, 1000, 4, 10, 1, 0,
	 0, 2500, 1, 2, 10},
	{"less than a block per chunk is kept, not rounded to zero", 100 * 1000, 1e12, 1.0, 1, 0,
	 1000, 1, 1000, 128, 0, 0, 100000, 100, 1, 10},
	{"forced chunk_runs", 80 * GiB, 80 * GiB, 0.7, 0, 0, 44, 2, 2500, 128, 1000, 0,
	 0.7 * 80 * GiB, 1000, 2, 3},
	{"forced chunk larger than the batch: one chunk", 80 * GiB, 80 * GiB, 0.7, 0, 0, 44, 4, 10,
	 128, 1000, 0, 0.7 * 80 * GiB, 10, 1, 1},
	{"one run does not fit", 1000, 1e12, 1.0, 1, 0, 1001, 1, 5, 1, 0, -1, 1000, 0, 0, 0},
	{"the reserve eats the budget", 1 * GiB, 1 * GiB, 0.5, 0, 1 * GiB, 8, 1, 5, 1, 0, -1, 0, 0, 0, 0},
};

int main(void)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		struct plan p;
		int rc = plan_compute((size_t)r->free_b, (size_t)r->total_b, r->proportion, r->host,
		                      (size_t)r->reserve, r->bpr, r->streams, r->runs, r->block, r->forced,
		                      &p);
		int good = rc == r->rc && fabs((double)p.budget - r->budget) <= 1;
		if (rc == 0)
			good = good && p.chunk_runs == r->chunk && p.streams == r->used_streams &&
			       p.chunks == r->chunks;
		if (!ok(good, "%s", r->what))
			diag("rc %d budget %zu chunk %zu streams %zu chunks %zu", rc, p.budget, p.chunk_runs,
			     p.streams, p.chunks);
	}
	done_testing();
	return tap_exit();
}
