/* The runs of a solve over several devices (workqueue.c): ranges handed to
 * whichever device asks first, ranges of a failed device handed again, and
 * finished ranges released in run order for a streaming writer. No locks:
 * the caller holds one around every call. */
#ifndef CUBIE_WORKQUEUE_H
#define CUBIE_WORKQUEUE_H
#include <stddef.h>

struct wq_range {
	size_t first, n;
	int dev;    /* in flight: the device; again: -1 */
	void *item; /* held: the caller's copy of the finished range */
	size_t bytes;
};
struct wq_list { struct wq_range *r; size_t n, cap; }; /* by first run */
struct workqueue {
	size_t runs;   /* all runs */
	size_t next;   /* first run never handed out */
	size_t done;   /* runs finished (delivered or held) */
	size_t written; /* runs [0, written) released in order */
	struct wq_list again, flight, held;
	size_t held_bytes;
};

void wq_init(struct workqueue *q, size_t runs);
void wq_free(struct workqueue *q); /* held items are the caller's to free first */
/* Largest chunk on a device when several share the runs: enough chunks per
 * stream of every device that a faster one takes more and the last chunks
 * end close together, whole blocks, never below min_runs (nor a block). */
size_t wq_chunk_cap(size_t runs, size_t devices, size_t streams, size_t block, size_t min_runs);
/* Hand dev at most max runs: a range given back first (lowest first), else
 * the next runs. 0 when nothing is left to hand out now. -1: out of memory. */
int wq_take(struct workqueue *q, int dev, size_t max, size_t *first, size_t *n);
/* The range from first (as taken) finished, or failed and goes again. */
void wq_finish(struct workqueue *q, size_t first);
void wq_give_back(struct workqueue *q, size_t first);
int wq_has_work(const struct workqueue *q); /* something to hand out */
/* The device that has run in flight, or -1. */
int wq_holder(const struct workqueue *q, size_t run);
/* Keep a finished range that cannot be released yet (0, or -1). */
int wq_hold(struct workqueue *q, size_t first, size_t n, void *item, size_t bytes);
/* The held range that is next in run order (removed), or 0 when none. */
int wq_ready(struct workqueue *q, struct wq_range *out);
/* The runs not done, as "a-b, c-d" (inclusive, malloc'd), for messages. */
char *wq_missing(const struct workqueue *q);
#endif
