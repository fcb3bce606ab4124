/* The multi-device work queue: a shared counter over the runs, the ranges
 * of a failed device handed out again first, and the ordered release of
 * finished ranges (a streaming writer takes runs in increasing order).
 * Pure bookkeeping, unit-tested in t/workqueue.c; multidev.c locks it. */
#include "config.h"
#include "internal.h"
#include "workqueue.h"

#include <stdlib.h>
#include <string.h>

#define CHUNKS_PER_STREAM 4

void wq_init(struct workqueue *q, size_t runs)
{
	memset(q, 0, sizeof *q);
	q->runs = runs;
}

void wq_free(struct workqueue *q)
{
	free(q->again.r);
	free(q->flight.r);
	free(q->held.r);
	memset(q, 0, sizeof *q);
}

size_t wq_chunk_cap(size_t runs, size_t devices, size_t streams, size_t block, size_t min_runs)
{
	if (block < 1)
		block = 1;
	size_t parts = (devices ? devices : 1) * (streams ? streams : 1) * CHUNKS_PER_STREAM;
	size_t cap = (runs + parts - 1) / parts;
	cap += (block - cap % block) % block;
	if (min_runs > block)
		min_runs -= min_runs % block;
	if (cap < min_runs)
		cap = min_runs;
	return cap < block ? block : cap;
}

/* Insert r keeping the list in increasing first run. */
static int add(struct wq_list *l, struct wq_range r)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct wq_range *p = realloc(l->r, cap * sizeof *p);
		if (!p)
			return -1;
		l->r = p;
		l->cap = cap;
	}
	size_t i = l->n;
	while (i > 0 && l->r[i - 1].first > r.first)
		i--;
	memmove(l->r + i + 1, l->r + i, (l->n - i) * sizeof *l->r);
	l->r[i] = r;
	l->n++;
	return 0;
}

static void drop(struct wq_list *l, size_t i)
{
	memmove(l->r + i, l->r + i + 1, (l->n - i - 1) * sizeof *l->r);
	l->n--;
}

static long find(const struct wq_list *l, size_t first)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->r[i].first == first)
			return (long)i;
	return -1;
}

int wq_take(struct workqueue *q, int dev, size_t max, size_t *first, size_t *n)
{
	struct wq_range r = {0, 0, dev, NULL, 0};
	if (max < 1)
		max = 1;
	if (q->again.n) {
		struct wq_range *a = &q->again.r[0];
		r.first = a->first;
		r.n = a->n < max ? a->n : max;
		if (add(&q->flight, r))
			return -1;
		if (r.n == a->n) {
			drop(&q->again, 0);
		} else { /* a smaller device takes the range in pieces */
			a->first += r.n;
			a->n -= r.n;
		}
	} else if (q->next < q->runs) {
		r.first = q->next;
		r.n = q->runs - q->next < max ? q->runs - q->next : max;
		if (add(&q->flight, r))
			return -1;
		q->next += r.n;
	} else {
		return 0;
	}
	*first = r.first;
	*n = r.n;
	return 1;
}

void wq_finish(struct workqueue *q, size_t first)
{
	long i = find(&q->flight, first);
	if (i >= 0) {
		q->done += q->flight.r[i].n;
		drop(&q->flight, (size_t)i);
	}
}

void wq_give_back(struct workqueue *q, size_t first)
{
	long i = find(&q->flight, first);
	if (i < 0)
		return;
	struct wq_range r = q->flight.r[i];
	drop(&q->flight, (size_t)i);
	r.dev = -1;
	/* the list has room: flight just lost the entry, and again is only
	 * ever as long as ranges were taken; on failure the runs stay lost */
	if (add(&q->again, r))
		cb_log(CUBIE_LOG_ERROR, "out of memory: runs %zu-%zu are lost", r.first,
		       r.first + r.n - 1);
}

int wq_has_work(const struct workqueue *q)
{
	return q->again.n > 0 || q->next < q->runs;
}

int wq_holder(const struct workqueue *q, size_t run)
{
	for (size_t i = 0; i < q->flight.n; i++)
		if (run >= q->flight.r[i].first && run - q->flight.r[i].first < q->flight.r[i].n)
			return q->flight.r[i].dev;
	return -1;
}

int wq_hold(struct workqueue *q, size_t first, size_t n, void *item, size_t bytes)
{
	if (add(&q->held, (struct wq_range){first, n, -1, item, bytes}))
		return -1;
	q->held_bytes += bytes;
	return 0;
}

int wq_ready(struct workqueue *q, struct wq_range *out)
{
	if (!q->held.n || q->held.r[0].first != q->written)
		return 0;
	*out = q->held.r[0];
	drop(&q->held, 0);
	q->held_bytes -= out->bytes;
	return 1;
}

char *wq_missing(const struct workqueue *q)
{
	/* not done: the ranges given back, in flight, and never handed out */
	struct wq_list all = {0};
	sbuf b = {0};
	for (size_t i = 0; i < q->again.n; i++)
		add(&all, q->again.r[i]);
	for (size_t i = 0; i < q->flight.n; i++)
		add(&all, q->flight.r[i]);
	if (q->next < q->runs)
		add(&all, (struct wq_range){q->next, q->runs - q->next, -1, NULL, 0});
	for (size_t i = 0; i < all.n;) {
		size_t a = all.r[i].first, z = a + all.r[i].n;
		for (i++; i < all.n && all.r[i].first == z; i++)
			z += all.r[i].n;
		if (z - a == 1)
			sb_add(&b, "%s%zu", b.s ? ", " : "", a);
		else
			sb_add(&b, "%s%zu-%zu", b.s ? ", " : "", a, z - 1);
	}
	free(all.r);
	return b.s ? b.s : cb_strdup("none");
}
