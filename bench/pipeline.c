/* Benchmark of the chunked pipeline (issue: memory). Lorenz, rk4, float32,
 * N runs, save_every = 0.01 (101 saves of 3 states). Times each stage
 * alone — kernels, host<->device copies, host packing and unpacking —
 * then the whole solve in C chunks over 1, 2 and 4 streams, and the
 * allocators over repeated solves.
 * usage: pipeline-bench FILE.ini LOG2N CHUNKS */
#include "config.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const cubie_error *e)
{
	fprintf(stderr, "pipeline-bench: %s: %s\n", what, e->msg);
	exit(3);
}

static cubie_solver *solver(const char *file, const char *const *sets)
{
	cubie_error e = {0};
	cubie_config *c;
	cubie_solver *s;
	if (cubie_config_load(file, &c, &e))
		die("config", &e);
	for (size_t i = 0; sets[i]; i++)
		if (cubie_config_set(c, sets[i], &e))
			die(sets[i], &e);
	if (cubie_solver_create(c, &s, &e))
		die("solver", &e);
	/* the solver keeps a pointer to its configuration: leak it here */
	return s;
}

/* Median wall time of reps solves (after one warm-up); *kernel = kernel s. */
static double time_solves(cubie_solver *s, int reps, double *kernel, size_t *chunks)
{
	double t[32];
	cubie_stats st;
	for (int r = -1; r < reps; r++) {
		cubie_result *res;
		cubie_error e = {0};
		if (cubie_solve(s, &res, &e))
			die("solve", &e);
		cubie_solver_stats(s, &st);
		if (r >= 0)
			t[r] = st.solve_s;
		cubie_result_free(res);
	}
	for (int i = 0; i < reps; i++) /* insertion sort: few values */
		for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
			double x = t[j];
			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	*kernel = st.kernel_s;
	*chunks = st.chunks;
	return t[reps / 2];
}

struct unpack { char *result; const char *from; size_t N, chunk, first; };

static void unpack_rows(void *ctx, size_t lo, size_t hi)
{
	const struct unpack *u = ctx;
	for (size_t k = lo; k < hi; k++)
		memcpy(u->result + (k * u->N + u->first) * 4, u->from + k * u->chunk * 4, u->chunk * 4);
}

static void log_stdout(int level, const char *msg, void *user)
{
	if (level <= CUBIE_LOG_DEBUG && strncmp(msg, "cuda: ", 6))
		printf("  %s\n", msg);
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: pipeline-bench FILE.ini LOG2N CHUNKS\n");
		return 2;
	}
	const char *file = argv[1];
	size_t N = (size_t)1 << atoi(argv[2]), C = (size_t)atoi(argv[3]), chunk = N / C;
	char rho[96], cr[64];
	snprintf(rho, sizeof rho, "parameters.rho=linspace(0, 21, %zu)", N);
	snprintf(cr, sizeof cr, "memory.chunk_runs=%zu", chunk);
	size_t saves = 101, vars = 3, inputs = 4;
	double out_bytes = (double)(saves * vars * 4) * (double)N, in_bytes = (double)(inputs * 4) * (double)N;
	printf("Lorenz rk4 float32, N = %zu, %zu saves x %zu states: %.2f GB out, %.3f GB in; %zu chunks of %zu\n",
	       N, saves, vars, out_bytes / 1e9, in_bytes / 1e9, C, chunk);

	/* -- stages alone -- */
	cubie_error e = {0};
	backend *b;
	if (backend_cuda_open(0, 0, &b, &e))
		die("cuda", &e);
	printf("device: %s\n", b->device);
	size_t cin = inputs * 4 * chunk, cout = saves * vars * 4 * chunk;
	uint64_t din, dout;
	void *hin, *hout, *stream;
	if (b->ops->mem_alloc(b, cin, &din) || b->ops->mem_alloc(b, cout, &dout) ||
	    b->ops->pinned_alloc(b, cin, &hin) || b->ops->pinned_alloc(b, cout, &hout) ||
	    b->ops->stream_create(b, &stream, &e))
		die("buffers", &e);
	memset(hout, 1, cout);
	double t = now();
	for (size_t c = 0; c < C; c++)
		if (b->ops->copy_h2d(b, din, hin, cin, stream, &e) ||
		    b->ops->copy_d2h(b, hout, dout, cout, stream, &e))
			die("copy", &e);
	b->ops->stream_sync(b, stream, &e);
	double copy_s = now() - t;
	/* host unpacking: chunk rows into a fresh result array, over the same
	 * host threads as the solve uses */
	struct workers *w = workers_new(workers_default());
	t = now();
	struct unpack u = {NULL, hout, N, chunk, 0};
	if (posix_memalign((void **)&u.result, (size_t)2 << 20, (size_t)out_bytes))
		die("memory", &e);
#ifdef MADV_HUGEPAGE
	madvise(u.result, (size_t)out_bytes, MADV_HUGEPAGE); /* as the result does */
#endif
	for (u.first = 0; u.first < N; u.first += chunk)
		workers_for(w, unpack_rows, &u, saves * vars);
	double unpack_s = now() - t;
	free(u.result);
	workers_free(w);
	/* host packing: float64 run table to float32 staging */
	double *table = malloc(inputs * N * sizeof *table);
	for (size_t i = 0; i < inputs * N; i++)
		table[i] = (double)i;
	t = now();
	for (size_t c = 0; c < C; c++)
		for (size_t i = 0; i < inputs; i++)
			for (size_t j = 0; j < chunk; j++)
				((float *)hin)[i * chunk + j] = (float)table[i * N + c * chunk + j];
	double pack_s = now() - t;
	free(table);
	b->ops->mem_free(b, din);
	b->ops->mem_free(b, dout);
	b->ops->pinned_free(b, hin);
	b->ops->pinned_free(b, hout);
	b->ops->stream_destroy(b, stream);
	b->ops->close(b);

	const char *base[] = {rho, cr, "output.save_every=0.01", "memory.streams=1", NULL};
	cubie_solver *s = solver(file, base);
	double kernel_s;
	size_t chunks;
	double one = time_solves(s, 3, &kernel_s, &chunks);
	cubie_solver_free(s);
	double slowest = kernel_s;
	const char *slow = "kernels";
	if (copy_s > slowest)
		slowest = copy_s, slow = "copies";
	if (unpack_s + pack_s > slowest)
		slowest = unpack_s + pack_s, slow = "host pack + unpack";
	printf("stages alone: kernels %.1f ms | H2D+D2H %.1f ms (%.1f GB/s) | host unpack %.1f ms, "
	       "pack %.1f ms\n", kernel_s * 1e3, copy_s * 1e3, (in_bytes + out_bytes) / copy_s / 1e9,
	       unpack_s * 1e3, pack_s * 1e3);
	printf("slowest stage: %s, %.1f ms\n", slow, slowest * 1e3);
	printf("pipeline, 1 stream: %.1f ms (%zu chunks) = %.2f x slowest\n", one * 1e3, chunks,
	       one / slowest);
	for (int S = 2; S <= 4; S *= 2) {
		char ss[32];
		snprintf(ss, sizeof ss, "memory.streams=%d", S);
		const char *sets[] = {rho, cr, "output.save_every=0.01", ss, NULL};
		s = solver(file, sets);
		double w = time_solves(s, 3, &kernel_s, &chunks);
		cubie_solver_free(s);
		printf("pipeline, %d streams: %.1f ms (%zu chunks) = %.2f x slowest, %.2f x one stream\n", S,
		       w * 1e3, chunks, w / slowest, w / one);
	}

	/* one traced solve over 2 streams: when each copy and kernel ran */
	setenv("CUBIE_TIMELINE", "1", 1);
	cubie_set_log(log_stdout, NULL);
	const char *sets[] = {rho, cr, "output.save_every=0.01", "memory.streams=2", NULL};
	s = solver(file, sets);
	printf("timeline, 2 streams (ms since the backend opened):\n");
	time_solves(s, 1, &kernel_s, &chunks);
	cubie_solver_free(s);
	cubie_set_log(NULL, NULL);
	unsetenv("CUBIE_TIMELINE");

	/* allocators over 20 repeated solves, final state only */
	static const char *const allocs[] = {"default", "pool", "async_pool"};
	for (int lg = 14; lg <= 22; lg += 8) {
		char r2[96];
		snprintf(r2, sizeof r2, "parameters.rho=linspace(0, 21, %d)", 1 << lg);
		for (int a = 0; a < 3; a++) {
			char al[64];
			snprintf(al, sizeof al, "memory.allocator=%s", allocs[a]);
			const char *sets2[] = {r2, al, NULL};
			s = solver(file, sets2);
			double total = 0;
			for (int r = 0; r < 21; r++) {
				cubie_result *res;
				cubie_stats st;
				if (cubie_solve(s, &res, &e))
					die("solve", &e);
				cubie_solver_stats(s, &st);
				if (r > 0) /* the first solve fills the pool */
					total += st.solve_s;
				cubie_result_free(res);
			}
			cubie_solver_free(s);
			printf("allocator %-10s N = 2^%d: %.3f ms per solve (mean of 20 after one)\n", allocs[a],
			       lg, total / 20 * 1e3);
		}
	}
	return 0;
}
