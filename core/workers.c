/* A few host threads that split a loop of independent items: the solve's
 * host-side packing and unpacking of chunks, which is memory-bound and on
 * large outputs slower than the GPU work it overlaps. */
#include "config.h"
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct workers {
	pthread_mutex_t lock;
	pthread_cond_t go, done;
	pthread_t *threads;
	int n;          /* threads besides the caller */
	unsigned long job; /* generation: a new job wakes the threads */
	int pending;    /* threads still working on the job */
	int quit;
	void (*fn)(void *ctx, size_t lo, size_t hi);
	void *ctx;
	size_t items;
};

/* Share k of n + 1 of [0, items). */
static void share(const struct workers *w, int k, size_t *lo, size_t *hi)
{
	size_t parts = (size_t)w->n + 1;
	*lo = w->items * (size_t)k / parts;
	*hi = w->items * (size_t)(k + 1) / parts;
}

struct start { struct workers *w; int k; };

static void *worker(void *arg)
{
	struct start *st = arg;
	struct workers *w = st->w;
	int k = st->k;
	unsigned long seen = 0;
	free(st);
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->job == seen && !w->quit)
			pthread_cond_wait(&w->go, &w->lock);
		if (w->quit)
			break;
		seen = w->job;
		pthread_mutex_unlock(&w->lock);
		size_t lo, hi;
		share(w, k, &lo, &hi);
		if (lo < hi)
			w->fn(w->ctx, lo, hi);
		pthread_mutex_lock(&w->lock);
		if (--w->pending == 0)
			pthread_cond_signal(&w->done);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct workers *workers_new(int n)
{
	struct workers *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->go, NULL);
	pthread_cond_init(&w->done, NULL);
	w->threads = calloc(n > 0 ? (size_t)n : 1, sizeof *w->threads);
	for (int k = 1; w->threads && k <= n; k++) {
		struct start *st = malloc(sizeof *st);
		if (!st)
			break;
		st->w = w;
		st->k = k;
		if (pthread_create(&w->threads[w->n], NULL, worker, st)) {
			free(st);
			break; /* fewer threads is still correct */
		}
		w->n++;
	}
	return w;
}

void workers_for(struct workers *w, void (*fn)(void *ctx, size_t lo, size_t hi), void *ctx,
                 size_t items)
{
	if (!w || w->n == 0 || items < 2) {
		fn(ctx, 0, items);
		return;
	}
	pthread_mutex_lock(&w->lock);
	w->fn = fn;
	w->ctx = ctx;
	w->items = items;
	w->pending = w->n;
	w->job++;
	pthread_cond_broadcast(&w->go);
	pthread_mutex_unlock(&w->lock);
	size_t lo, hi;
	share(w, 0, &lo, &hi);
	if (lo < hi)
		fn(ctx, lo, hi);
	pthread_mutex_lock(&w->lock);
	while (w->pending > 0)
		pthread_cond_wait(&w->done, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

void workers_free(struct workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->quit = 1;
	pthread_cond_broadcast(&w->go);
	pthread_mutex_unlock(&w->lock);
	for (int k = 0; k < w->n; k++)
		pthread_join(w->threads[k], NULL);
	pthread_cond_destroy(&w->go);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->lock);
	free(w->threads);
	free(w);
}

int workers_default(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 16 ? 15 : n > 1 ? (int)n - 1 : 0;
}
