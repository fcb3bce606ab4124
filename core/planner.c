/* The memory plan: how many runs go into a chunk, over how many streams,
 * from the bytes one run needs and the budget the backend allows. */
#include "config.h"
#include "solver.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Chunks smaller than this would cost more in launch tails than their
 * overlapped copies save. */
#define OVERLAP_RUNS 65536
/* A chunk's buffers on the cpu backend: larger ones gain no speed. */
#define HOST_CHUNK_BYTES ((size_t)64 << 20)

void host_mem_info(size_t *avail_b, size_t *total_b)
{
	/* MemAvailable is what can be had without swapping */
	unsigned long long tot = 0, avail = 0, v;
	char key[64];
	FILE *f = fopen("/proc/meminfo", "r");
	while (f && fscanf(f, "%63s %llu kB", key, &v) == 2) {
		if (!strcmp(key, "MemTotal:"))
			tot = v * 1024;
		else if (!strcmp(key, "MemAvailable:"))
			avail = v * 1024;
	}
	if (f)
		fclose(f);
	if (!tot) {
		long pages = sysconf(_SC_PHYS_PAGES), avp = sysconf(_SC_AVPHYS_PAGES);
		long ps = sysconf(_SC_PAGESIZE);
		tot = (unsigned long long)pages * (unsigned long long)ps;
		avail = (unsigned long long)avp * (unsigned long long)ps;
	}
	*avail_b = (size_t)avail;
	*total_b = (size_t)tot;
}

int plan_compute(size_t free_b, size_t total_b, double proportion, int host_memory,
                 size_t reserve, size_t bytes_per_run, size_t streams, size_t runs,
                 size_t block, size_t forced, struct plan *p)
{
	double cap = proportion * (double)(host_memory ? free_b : total_b);
	double avail = host_memory || cap < (double)free_b ? cap : (double)free_b;
	p->budget = avail > (double)reserve ? (size_t)(avail - (double)reserve) : 0;
	p->overlap = !host_memory;
	/* On the cpu backend "device" buffers are host memory beside the result:
	 * bounded chunks keep the peak near the result itself. */
	p->max_chunk_bytes = host_memory ? HOST_CHUNK_BYTES : 0;
	return plan_chunks(bytes_per_run, streams, runs, block, forced, p);
}

int plan_chunks(size_t bytes_per_run, size_t streams, size_t runs, size_t block, size_t forced,
                struct plan *p)
{
	if (streams < 1)
		streams = 1;
	if (block < 1)
		block = 1;
	if (runs == 0) {
		p->chunk_runs = p->chunks = 0;
		p->streams = 1;
		return p->budget >= bytes_per_run ? 0 : -1;
	}
	size_t chunk;
	if (forced) {
		chunk = forced;
	} else {
		if (p->budget / bytes_per_run < streams) /* fewer streams, at least one run each */
			streams = p->budget / bytes_per_run;
		if (streams == 0)
			return -1;
		chunk = p->budget / (streams * bytes_per_run);
		if (chunk >= runs && p->overlap && streams > 1 && runs >= streams * OVERLAP_RUNS) {
			/* It all fits, but in one chunk per stream the copies of one
			 * chunk run under the kernel of another. */
			chunk = (runs + streams - 1) / streams;
			chunk += (block - chunk % block) % block;
		} else if (chunk >= runs) {
			chunk = runs;
		} else if (chunk >= block) {
			chunk -= chunk % block;
		}
	}
	if (!forced && p->max_chunk_bytes && chunk > p->max_chunk_bytes / bytes_per_run) {
		chunk = p->max_chunk_bytes / bytes_per_run;
		chunk = chunk >= block ? chunk - chunk % block : chunk ? chunk : 1;
	}
	if (chunk > runs)
		chunk = runs;
	p->chunk_runs = chunk;
	p->chunks = (runs + chunk - 1) / chunk;
	p->streams = p->chunks < streams ? p->chunks : streams;
	return 0;
}

int solver_plan(cubie_solver *s, cubie_error *e)
{
	size_t r = real_size(s), free_b, total_b;
	/* inputs, saved values, event times and counts, status, the time
	 * reached and, when kept, two step counts per run (per-run spans: in
	 * double) */
	s->bytes_per_run = (s->runs.n_inputs + s->n_saves * s->n_save + s->events.rows) * r +
	                   int_rows(s) * sizeof(int32_t) + sizeof(double) +
	                   (s->runs.spans ? RUNS_SPANS * (sizeof(double) - r) + 8 : 0);
	if (s->be->ops->mem_info(s->be, &free_b, &total_b))
		return cb_fail(e, CUBIE_ERR_RUNTIME, "cannot query the %s backend's memory",
		               s->be->ops->name);
	const double gib = 1073741824.0, mib = 1048576.0;
	/* a sweep's value lists go to the device once, beside the chunks */
	const size_t lists = s->runs.sweep ? s->runs.sweep->bytes : 0;
	char of_lists[64] = "";
	if (lists >= 1048576)
		snprintf(of_lists, sizeof of_lists, " - %.1f MiB for the sweep's values", lists / mib);
	if (s->be->host_memory)
		snprintf(s->budget_from, sizeof s->budget_from,
		         "%.2f x available host memory %.2f GiB%s", s->mem_proportion, free_b / gib,
		         of_lists);
	else
		snprintf(s->budget_from, sizeof s->budget_from,
		         "min(free %.2f GiB, %.2f x total %.2f GiB) - %.1f MiB for the kernel%s",
		         free_b / gib, s->mem_proportion, total_b / gib, s->be->reserve / mib, of_lists);
	size_t block = s->be->block_size > 0 ? (size_t)s->be->block_size : 1;
	if (plan_compute(free_b, total_b, s->mem_proportion, s->be->host_memory, s->be->reserve + lists,
	                 s->bytes_per_run, s->streams_wanted, s->runs.n_runs, block, s->forced_chunk,
	                 &s->plan))
		return cb_fail(e, CUBIE_ERR_CONFIG,
		               "%s: one run needs %zu bytes but the budget is %zu bytes (%s): save "
		               "fewer variables or times ([output] save, save_every) or raise "
		               "[memory] mem_proportion",
		               s->cfg->path, s->bytes_per_run, s->plan.budget, s->budget_from);
	return 0;
}
