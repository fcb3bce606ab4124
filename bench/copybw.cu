/* The host's copy ceiling, which bounds a final-state solve's wall: pinned
 * host <-> device bandwidth on each GPU alone and on every GPU at once.
 * Built and run by bench/device.sh (CUBIE_BENCH=copybw):
 *   nvcc -O2 -o copybw bench/copybw.cu && ./copybw [MIB] */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAXG 8
#define REPEATS 5

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void ck(cudaError_t rc, const char *what)
{
	if (rc != cudaSuccess) {
		fprintf(stderr, "copybw: %s: %s\n", what, cudaGetErrorString(rc));
		exit(1);
	}
}

/* Copies of n bytes on the GPUs [g0, g1) at once; best GB/s of REPEATS. */
static double copy(void **h, void **d, cudaStream_t *st, int g0, int g1, size_t n, int d2h)
{
	double best = 0;
	for (int r = 0; r < REPEATS; r++) {
		double t = now();
		for (int g = g0; g < g1; g++) {
			ck(cudaSetDevice(g), "cudaSetDevice");
			ck(d2h ? cudaMemcpyAsync(h[g], d[g], n, cudaMemcpyDeviceToHost, st[g])
			       : cudaMemcpyAsync(d[g], h[g], n, cudaMemcpyHostToDevice, st[g]), "copy");
		}
		for (int g = g0; g < g1; g++) {
			ck(cudaSetDevice(g), "cudaSetDevice");
			ck(cudaStreamSynchronize(st[g]), "sync");
		}
		double bw = (g1 - g0) * n / (now() - t) * 1e-9;
		best = bw > best ? bw : best;
	}
	return best;
}

int main(int argc, char **argv)
{
	size_t n = (size_t)(argc > 1 ? atoi(argv[1]) : 256) << 20;
	int G;
	void *h[MAXG], *d[MAXG];
	cudaStream_t st[MAXG];
	ck(cudaGetDeviceCount(&G), "cudaGetDeviceCount");
	G = G > MAXG ? MAXG : G;
	for (int g = 0; g < G; g++) {
		ck(cudaSetDevice(g), "cudaSetDevice");
		ck(cudaHostAlloc(&h[g], n, cudaHostAllocPortable), "cudaHostAlloc");
		ck(cudaMalloc(&d[g], n), "cudaMalloc");
		ck(cudaStreamCreate(&st[g]), "cudaStreamCreate");
		for (size_t i = 0; i < n; i += 4096) /* touched: resident */
			((char *)h[g])[i] = 1;
	}
	printf("pinned copies of %zu MiB, best of %d\n", n >> 20, REPEATS);
	for (int g = 0; g < G; g++)
		printf("gpu %d alone: H2D %.1f GB/s, D2H %.1f GB/s\n", g,
		       copy(h, d, st, g, g + 1, n, 0), copy(h, d, st, g, g + 1, n, 1));
	if (G > 1)
		printf("%d GPUs at once: H2D %.1f GB/s, D2H %.1f GB/s in all\n", G,
		       copy(h, d, st, 0, G, n, 0), copy(h, d, st, 0, G, n, 1));
	return 0;
}
