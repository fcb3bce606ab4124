/* The several-device work queue: ranges handed out from a shared counter,
 * given back by a failed device and handed out again first (in pieces to
 * a device with smaller chunks), released in run order, and the message
 * that names runs not done. */
#include "config.h"
#include "internal.h"
#include "../core/workqueue.h"
#include "tap.h"

static void sizes(void)
{
	/* 2^24 runs, 2 GPUs x 2 streams: 4 chunks per stream, whole blocks */
	is_int((long long)wq_chunk_cap(1 << 24, 2, 2, 128, 65536), 1 << 20,
	       "2^24 runs over 2 devices x 2 streams: chunks of 2^20 runs");
	is_int((long long)wq_chunk_cap(1000, 3, 2, 1, 1), 42, "1000 runs over 3 x 2: 42 runs");
	is_int((long long)wq_chunk_cap(1000, 2, 2, 128, 65536), 65536,
	       "a small batch: no chunk below the floor (one chunk: one device works)");
	is_int((long long)wq_chunk_cap(1000001, 2, 2, 128, 1) % 128, 0, "... whole blocks");
}

static void order_and_failures(void)
{
	struct workqueue q;
	size_t f, n;
	wq_init(&q, 100);
	ok(wq_take(&q, 0, 30, &f, &n) == 1 && f == 0 && n == 30, "device 0 takes 0-29");
	ok(wq_take(&q, 1, 50, &f, &n) == 1 && f == 30 && n == 50, "device 1 takes 30-79 (larger chunks)");
	ok(wq_holder(&q, 35) == 1 && wq_holder(&q, 29) == 0 && wq_holder(&q, 90) == -1,
	   "the holder of a run in flight");
	wq_finish(&q, 30);
	ok(q.done == 50, "30-79 done");
	wq_give_back(&q, 0);
	ok(wq_has_work(&q) && wq_holder(&q, 0) == -1, "device 0 fails: 0-29 goes back");
	ok(wq_take(&q, 1, 20, &f, &n) == 1 && f == 0 && n == 20,
	   "a range given back goes first, in pieces for smaller chunks");
	ok(wq_take(&q, 1, 20, &f, &n) == 1 && f == 20 && n == 10, "... the rest of it");
	ok(wq_take(&q, 1, 50, &f, &n) == 1 && f == 80 && n == 20, "then the counter: 80-99");
	ok(wq_take(&q, 1, 50, &f, &n) == 0 && !wq_has_work(&q), "nothing left to hand out");
	char *m = wq_missing(&q);
	like(m, "0-29, 80-99", "runs not done: %s", m);
	free(m);
	wq_finish(&q, 0);
	wq_finish(&q, 20);
	wq_finish(&q, 80);
	ok(q.done == 100, "every run done");
	m = wq_missing(&q);
	like(m, "none", "none missing");
	free(m);
	wq_free(&q);

	/* release in run order */
	struct wq_range r;
	int a = 1, b = 2, c = 3;
	wq_init(&q, 30);
	wq_hold(&q, 20, 10, &c, 5);
	wq_hold(&q, 10, 10, &b, 5);
	ok(!wq_ready(&q, &r) && q.held_bytes == 10, "runs 10-29 held until 0-9 are written");
	q.written = 10; /* 0-9 written straight away */
	ok(wq_ready(&q, &r) && r.item == &b && !wq_ready(&q, &r), "then 10-19, and not yet 20-29");
	q.written += r.n;
	ok(wq_ready(&q, &r) && r.item == &c && q.held_bytes == 0, "then 20-29");
	(void)a;
	wq_free(&q);
}

int main(void)
{
	sizes();
	order_and_failures();
	done_testing();
	return tap_exit();
}
