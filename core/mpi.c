/* One solve split across the ranks of an MPI job: `mpirun -n R cubie run`
 * (or srun). Every rank has compiled the same kernel for its own device;
 * the run table is the same everywhere (built from the same file).
 *
 * Work: rank 0 hands out blocks of runs, in order, one at a time to each
 * rank that asks, so that fast and slow ranks finish together. A rank
 * solves a block as a solve of its own (solver_set_runs with the block's
 * inputs, then cubie_solve): the same kernel on the same inputs
 * gives the same bits as the one-process solve.
 *
 * The output, with a writer that offers join (npy): rank 0 lays out the
 * output's temporary before handing out blocks and broadcasts its path;
 * every rank (rank 0's solving thread too) joins it and writes the blocks
 * it solves there, in any order, and sends rank 0 only what the summary
 * keeps (status, steps, reached); a worker reports its handle closed
 * before rank 0 commits. Otherwise, the finished blocks go back to rank 0,
 * which writes them. Every writer can take them that way (csv and the
 * streaming writers need runs in increasing order: rank 0 holds a block
 * until those before it are written; a writer that does not stream gets
 * the whole result at the end), so the file is the same, byte for byte,
 * as one process writes.
 * Rank 0 solves blocks too, on its main thread, while a second thread does
 * all of its MPI traffic and the writing (MPI_THREAD_SERIALIZED: one
 * thread calls MPI at a time); where MPI gives no threads, rank 0 only
 * hands out and writes.
 *
 * Commit: the output is renamed into place by rank 0 only when every block
 * has arrived; then rank 0 tells every rank how it ended. A rank that
 * fails sends its error, which stops the job, naming the rank and its
 * runs. A rank that dies ends the job through the launcher (Open MPI stops
 * the others): the output was never renamed, and rank 0's signal handler
 * removes its temporary and names the blocks that were in progress. */
#define _GNU_SOURCE /* on_exit */
#include "config.h"
#include "ranks.h"

#include <dlfcn.h>
#include <limits.h>
#include <mpi.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { TAG_REQ = 1, TAG_DATA, TAG_FAIL, TAG_BLOCK, TAG_CLOSED, MSG = 1024 };

static int inited, rank, size = 1, local_rank, local_size = 1, threads_ok;
static int job_over; /* this rank has been through mpi_solve_write */

static void finalize(void)
{
	int done = 0;
	MPI_Finalized(&done);
	if (!done)
		MPI_Finalize();
}

#ifdef __GLIBC__
/* A rank that fails before the job's solve (a GPU it cannot open, a
 * compile that fails there only) would leave the others waiting for it
 * where the launcher does not stop a job for one exit status (srun
 * without --kill-on-bad-exit): it takes the job down instead. */
static void leave(int status, void *arg)
{
	if (status && size > 1 && !job_over)
		MPI_Abort(MPI_COMM_WORLD, status);
	finalize();
}
#endif

/* Started by an MPI launcher? ($CUBIE_MPI=0 or 1 says so instead.) */
static int launched(void)
{
	static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
	                                   "PMI_SIZE", "PMI_FD"};
	const char *force = getenv("CUBIE_MPI");
	if (force && *force)
		return *force != '0';
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
		if (getenv(vars[i]))
			return 1;
	return 0;
}

static void init(void)
{
	int flag = 0, provided = MPI_THREAD_SINGLE;
	if (inited)
		return;
	inited = 1;
	MPI_Initialized(&flag);
	if (flag) { /* the program's own MPI (e.g. mpi4py): use it, leave it */
		MPI_Query_thread(&provided);
	} else {
		if (!launched() ||
		    MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS)
			return;
#ifdef __GLIBC__
		on_exit(leave, NULL);
#else
		atexit(finalize);
#endif
	}
	threads_ok = provided >= MPI_THREAD_SERIALIZED;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	MPI_Comm node;
	if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
	    MPI_SUCCESS) {
		MPI_Comm_rank(node, &local_rank);
		MPI_Comm_size(node, &local_size);
		MPI_Comm_free(&node);
	}
	if (size > 1)
		cb_log(CUBIE_LOG_DEBUG, "MPI: rank %d of %d, %d of %d on this host", rank, size,
		       local_rank, local_size);
}

int mpi_size(void)
{
	init();
	return size;
}

/* The host's CUDA devices, asked of the driver directly (0: none). */
static int cuda_devices(void)
{
	int n = 0;
	void *lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return 0;
	int (*cu_init)(unsigned) = (int (*)(unsigned))dlsym(lib, "cuInit");
	int (*cu_count)(int *) = (int (*)(int *))dlsym(lib, "cuDeviceGetCount");
	if (!cu_init || !cu_count || cu_init(0) || cu_count(&n))
		n = 0;
	return n; /* the library stays loaded: the backend opens it again */
}

int mpi_gpu(int gpu)
{
	init();
	if (size < 2 || local_size < 2)
		return gpu;
	int n = cuda_devices();
	return n > 0 ? (gpu + local_rank) % n : gpu + local_rank;
}

int mpi_threads(int threads)
{
	init();
	if (threads || size < 2 || local_size < 2)
		return threads;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cores / local_size > 1 ? (int)(cores / local_size) : 1;
}

/* ---- the job's state on rank 0 ---- */

/* A finished block: runs [first, first + n), packed as the output's arrays
 * (all but "time"), each [rows][n], one after another, each starting on 8
 * bytes (writers read the doubles in place). */
struct piece {
	size_t first, n;
	unsigned char *buf; /* 2 uint64 (first, n), then the arrays */
	struct piece *next;
};

struct job {
	cubie_solver *s;
	size_t N, block, next; /* next run to hand out */
	pthread_mutex_t lock;
	struct piece *ready;   /* rank 0's own blocks, for the writing thread */
	struct piece *pending; /* blocks waiting for earlier ones, by first */
	size_t written, done;  /* runs written in order; runs arrived */
	int workers_left, local_done;
	int asked; /* ranks that asked for their first block */
	/* the first failure */
	int failed, code;
	char msg[MSG];
	/* the output */
	cubie_result *sum;
	cubie_array arr[CB_MAX_ARRAYS]; /* the parts' arrays, whole ("time" with its data) */
	size_t n_arr;
	const cubie_writer_ops *wo;
	const char *writer;
	int streams; /* the writer streams: blocks go to it in order */
	int joins;   /* every rank writes its own blocks (the writer's join) */
	void *w;     /* the open streaming writer; joined: rank 0's layout */
	void *mine;  /* joined: this rank's handle, for the blocks it solves */
	cubie_progress_fn progress;
	void *progress_user;
};

/* Blocks in progress, by rank, for the message when the job is killed. */
static volatile size_t *inflight; /* [2 * size]: first, n (0: none) */
static volatile sig_atomic_t job_active;

/* "time" shared by every run ([saves]), written whole; with per-run spans
 * it is [saves][runs] and cut by runs like the rest */
static int shared_time(const cubie_array *a)
{
	return !strcmp(a->name, "time") && a->ndim == 1;
}

static size_t array_rows(const cubie_array *a) /* rows of elements, per run */
{
	size_t rows = 1;
	for (int d = 0; d + 1 < a->ndim; d++)
		rows *= a->shape[d];
	return rows;
}

static size_t dtype_bytes(int dtype)
{
	return dtype == CUBIE_DTYPE_FLOAT64 ? 8 : 4;
}

static size_t pad8(size_t bytes)
{
	return (bytes + 7) & ~(size_t)7;
}

/* Bytes of a packed block, per run, about (pad8 adds up to 7 an array). */
static size_t run_bytes(const cubie_solver *s)
{
	return out_rows(s) * real_size(s) + int_rows(s) * 4 + 8 + s->runs.n_inputs * 8;
}

/* The summary's array that keeps a's runs (status, steps, reached, and the
 * values where the writer takes the whole result); NULL: none. */
static const cubie_array *kept(const struct job *j, const cubie_array *a)
{
	const cubie_array *to = strcmp(a->name, "inputs") ? cubie_result_find(j->sum, a->name) : NULL;
	return to && to->data ? to : NULL;
}

/* Is a packed block's array sent to rank 0? Joined, only what the summary
 * keeps: the rest is in the file. */
static int carried(const struct job *j, const cubie_array *a)
{
	return !shared_time(a) && (!j->joins || kept(j, a));
}

/* Runs [first, first + n) to the writer's handle w, each array's data at
 * data[i] (in j->arr's order; "time" shared by every run is the job's). */
static int write_part(const struct job *j, void *w, size_t first, size_t n,
                      const void *const *data, char *msg, size_t len)
{
	cubie_array part[CB_MAX_ARRAYS];
	for (size_t i = 0; i < j->n_arr; i++) {
		part[i] = j->arr[i];
		if (shared_time(&part[i]))
			continue;
		part[i].shape[part[i].ndim - 1] = n;
		part[i].data = data[i];
	}
	cubie_output out = j->sum->out;
	out.arrays = part;
	out.n_arrays = j->n_arr;
	out.settings = NULL;
	return j->wo->write_runs(w, &out, first, msg, len);
}

/* A packed (whole) block of n runs to the writer's handle w. */
static int write_block(const struct job *j, void *w, const unsigned char *buf, size_t n,
                       char *msg, size_t len)
{
	const void *data[CB_MAX_ARRAYS];
	const unsigned char *p = buf + 16;
	uint64_t first;
	memcpy(&first, buf, 8);
	for (size_t i = 0; i < j->n_arr; i++)
		if (!shared_time(&j->arr[i])) {
			data[i] = p;
			p += pad8(array_rows(&j->arr[i]) * n * dtype_bytes(j->arr[i].dtype));
		}
	return write_part(j, w, (size_t)first, n, data, msg, len);
}

static void fail_once(struct job *j, int code, const char *fmt, ...) CB_PRINTF(3, 4);
static void fail_once(struct job *j, int code, const char *fmt, ...)
{
	pthread_mutex_lock(&j->lock);
	if (!j->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(j->msg, sizeof j->msg, fmt, ap);
		va_end(ap);
		j->failed = 1;
		j->code = code ? code : CUBIE_ERR_RUNTIME;
	}
	pthread_mutex_unlock(&j->lock);
}

/* The next block to hand out, or 0 when none is left (or the job failed). */
static int take(struct job *j, int to, size_t *first, size_t *n)
{
	pthread_mutex_lock(&j->lock);
	int got = !j->failed && j->next < j->N;
	if (got) {
		*first = j->next;
		*n = j->N - j->next < j->block ? j->N - j->next : j->block;
		j->next += *n;
		inflight[2 * to] = *first;
		inflight[2 * to + 1] = *n;
	}
	pthread_mutex_unlock(&j->lock);
	return got;
}

/* A rank's seconds, logged at the end (cubie run -v): where its time went. */
struct rank_times {
	size_t blocks;
	double solve, write, wait;
};

/* Solve runs [first, first + n) of the full table. Joined, the block goes
 * into the file from the result's own arrays; what rank 0 is sent (or, on
 * rank 0, given) is packed: every array, or joined only what the summary
 * keeps. */
static int solve_block(struct job *j, const struct run_table *full, size_t first, size_t n,
                       unsigned char **out, size_t *bytes, struct rank_times *tm, cubie_error *e)
{
	/* Tests: $CUBIE_TEST_MPI_KILL=R[:K] kills rank R as it starts its
	 * K-th block (default 1), as a crash or the OOM killer would. */
	static int blocks;
	const char *kill_at = getenv("CUBIE_TEST_MPI_KILL");
	if (kill_at && *kill_at && atoi(kill_at) == rank &&
	    ++blocks == (strchr(kill_at, ':') ? atoi(strchr(kill_at, ':') + 1) : 1))
		raise(SIGKILL);
	cubie_result *r = NULL;
	double t0 = cb_now();
	int rc = solver_set_block(j->s, full, first, n, e);
	if (!rc)
		rc = cubie_solve(j->s, &r, e);
	if (rc)
		return rc;
	double t1 = cb_now();
	/* Tests: $CUBIE_TEST_MPI_WRITE_FAIL=R: rank R cannot write, as on a
	 * full disk. */
	const char *wf = getenv("CUBIE_TEST_MPI_WRITE_FAIL");
	if (j->joins) { /* result_new's order, as solver_stream_arrays lists them */
		const void *data[CB_MAX_ARRAYS];
		char msg[MSG] = "";
		for (size_t i = 0; i < j->n_arr; i++)
			data[i] = cubie_result_array(r, i)->data;
		if (!j->mine)
			rc = cb_fail(e, CUBIE_ERR_RUNTIME, "no output to write into");
		else if (wf && *wf && atoi(wf) == rank)
			rc = cb_fail(e, CUBIE_ERR_RUNTIME, "writer %s: no space left (injected)", j->writer);
		else if (write_part(j, j->mine, first, n, data, msg, sizeof msg))
			rc = cb_fail(e, CUBIE_ERR_RUNTIME, "writer %s: %s", j->writer,
			             *msg ? msg : "cannot write");
	}
	if (rc) {
		cubie_result_free(r);
		return rc;
	}
	double t2 = cb_now();
	*bytes = 16;
	for (size_t i = 0; i < cubie_result_count(r); i++) {
		const cubie_array *a = cubie_result_array(r, i);
		if (carried(j, a))
			*bytes += pad8(array_rows(a) * n * dtype_bytes(a->dtype));
	}
	unsigned char *p = *out = calloc(1, *bytes);
	if (!p) {
		cubie_result_free(r);
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	}
	uint64_t head[2] = {first, n};
	memcpy(p, head, 16);
	p += 16;
	for (size_t i = 0; i < cubie_result_count(r); i++) {
		const cubie_array *a = cubie_result_array(r, i);
		if (!carried(j, a))
			continue;
		size_t b = array_rows(a) * n * dtype_bytes(a->dtype);
		memcpy(p, a->data, b);
		p += pad8(b);
	}
	cubie_result_free(r);
	double t3 = cb_now();
	cb_log(CUBIE_LOG_DEBUG, "MPI: rank %d, runs [%zu, %zu): solve %.1f ms, write %.1f ms, "
	       "pack %.1f ms", rank, first, first + n, (t1 - t0) * 1e3, (t2 - t1) * 1e3,
	       (t3 - t2) * 1e3);
	tm->solve += t1 - t0 + t3 - t2, tm->write += t2 - t1, tm->blocks++;
	size_t packed = (size_t)(p - *out);
	if (packed != *bytes) {
		free(*out);
		*out = NULL; /* the callers free it on failure too */
		return cb_fail(e, CUBIE_ERR_RUNTIME, "internal error: a block of %zu runs packs to "
		               "%zu bytes, not %zu", n, packed, *bytes);
	}
	return 0;
}

/* A block into the summary (status, steps, reached; the values too when
 * the writer takes the whole result), then to a streaming writer once
 * every block before it is written. Writing thread only. */
static void deliver(struct job *j, struct piece *pc)
{
	const unsigned char *p = pc->buf + 16;
	for (size_t i = 0; i < j->n_arr; i++) {
		const cubie_array *a = &j->arr[i];
		if (!carried(j, a))
			continue;
		size_t es = dtype_bytes(a->dtype), rows = array_rows(a), b = rows * pc->n * es;
		const cubie_array *to = kept(j, a);
		for (size_t r = 0; to && r < rows; r++)
			memcpy((char *)(uintptr_t)to->data + (r * j->N + pc->first) * es,
			       p + r * pc->n * es, pc->n * es);
		p += pad8(b);
	}
	j->done += pc->n;
	if (j->progress)
		j->progress(j->done, j->N, j->progress_user);
	if (!j->streams) {
		free(pc->buf);
		free(pc);
		return;
	}
	struct piece **at = &j->pending;
	while (*at && (*at)->first < pc->first)
		at = &(*at)->next;
	pc->next = *at;
	*at = pc;
	while ((pc = j->pending) && pc->first == j->written) {
		j->pending = pc->next;
		pthread_mutex_lock(&j->lock);
		int failed = j->failed;
		pthread_mutex_unlock(&j->lock);
		if (!failed && j->w) {
			char msg[MSG] = "";
			if (write_block(j, j->w, pc->buf, pc->n, msg, sizeof msg))
				fail_once(j, CUBIE_ERR_RUNTIME, "writer %s: %s", j->writer,
				          *msg ? msg : "cannot write");
		}
		j->written += pc->n;
		free(pc->buf);
		free(pc);
	}
}

/* Send rank `to` its next block, or the end (n 0). */
static void hand_out(struct job *j, int to)
{
	uint64_t b[2] = {0, 0};
	size_t first, n;
	if (take(j, to, &first, &n))
		b[0] = first, b[1] = n;
	else if (!j->joins) /* joined, it is done once it closed its handle */
		j->workers_left--;
	MPI_Send(b, 2, MPI_UINT64_T, to, TAG_BLOCK, MPI_COMM_WORLD);
}

/* Rank 0's traffic and writing, until every rank is told to stop, every
 * block arrived and rank 0's own solving ended. */
static void *serve(void *arg)
{
	struct job *j = arg;
	for (;;) {
		int flag = 0, more;
		MPI_Status st;
		pthread_mutex_lock(&j->lock);
		struct piece *mine = j->ready;
		j->ready = NULL;
		more = j->workers_left > 0 || !j->local_done;
		pthread_mutex_unlock(&j->lock);
		while (mine) {
			struct piece *next = mine->next;
			deliver(j, mine);
			mine = next;
		}
		if (!more)
			break;
		if (j->workers_left > 0)
			MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
		if (!flag) {
			nanosleep(&(struct timespec){0, 200000}, NULL);
			continue;
		}
		int from = st.MPI_SOURCE, count = 0;
		MPI_Get_count(&st, MPI_BYTE, &count);
		unsigned char *buf = malloc(count > 16 ? (size_t)count : 16);
		if (!buf) { /* cannot take it in: stop the job */
			fail_once(j, CUBIE_ERR_RUNTIME, "rank 0: out of memory for a block of %d bytes",
			          count);
			MPI_Abort(MPI_COMM_WORLD, 3);
		}
		MPI_Recv(buf, count, MPI_BYTE, from, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		if (st.MPI_TAG == TAG_FAIL) {
			buf[count > 0 ? count - 1 : 0] = 0;
			/* the code first, then the message */
			if (inflight[2 * from + 1])
				fail_once(j, count > 0 && buf[0] ? buf[0] : CUBIE_ERR_RUNTIME,
				          "rank %d, runs [%zu, %zu): %s", from, inflight[2 * from],
				          inflight[2 * from] + inflight[2 * from + 1],
				          count > 1 ? (char *)buf + 1 : "failed");
			else
				fail_once(j, count > 0 && buf[0] ? buf[0] : CUBIE_ERR_RUNTIME,
				          "rank %d: %s", from, count > 1 ? (char *)buf + 1 : "failed");
			inflight[2 * from + 1] = 0;
			j->workers_left--;
			free(buf);
			continue;
		}
		if (st.MPI_TAG == TAG_CLOSED) { /* joined: its blocks are all in the file */
			j->workers_left--;
			free(buf);
			continue;
		}
		struct piece *pc = NULL;
		if (st.MPI_TAG == TAG_REQ) {
			pthread_mutex_lock(&j->lock);
			j->asked++;
			pthread_mutex_unlock(&j->lock);
		}
		if (st.MPI_TAG == TAG_DATA) {
			uint64_t head[2];
			memcpy(head, buf, 16);
			pc = malloc(sizeof *pc);
			size_t want = 16;
			for (size_t i = 0; i < j->n_arr; i++)
				if (carried(j, &j->arr[i]))
					want += pad8(array_rows(&j->arr[i]) * head[1] *
					             dtype_bytes(j->arr[i].dtype));
			if (!pc || (size_t)count != want ||
			    head[0] != inflight[2 * from]) {
				fail_once(j, CUBIE_ERR_RUNTIME, "rank %d sent a malformed block", from);
				free(pc);
				free(buf);
				pc = NULL, buf = NULL;
			} else {
				*pc = (struct piece){head[0], head[1], buf, NULL};
			}
			inflight[2 * from + 1] = 0;
		} else {
			free(buf);
		}
		hand_out(j, from); /* first, so that it solves while this is written */
		if (pc)
			deliver(j, pc);
	}
	return NULL;
}

/* What rank 0 tells every rank at the end. */
struct ending {
	int32_t rc, code;
	char msg[MSG];
};

/* A worker's failure, to rank 0: the code first, then the message. */
static void send_fail(int rc, const char *msg)
{
	char m[MSG];
	m[0] = (char)(rc > 0 && rc < 128 ? rc : CUBIE_ERR_RUNTIME);
	size_t len = strnlen(msg, sizeof m - 2);
	memcpy(m + 1, msg, len);
	m[1 + len] = 0;
	MPI_Send(m, (int)len + 2, MPI_BYTE, 0, TAG_FAIL, MPI_COMM_WORLD);
}

/* Joined: this rank's handle closed (its blocks are in the file); 0 or -1.
 * Tests: $CUBIE_TEST_MPI_CLOSE_FAIL=R: rank R's close fails after closing,
 * as where its last write-back finds the disk full. */
static int close_own(struct job *j, cubie_error *e)
{
	char msg[MSG] = "";
	void *w = j->mine;
	const char *cf = getenv("CUBIE_TEST_MPI_CLOSE_FAIL");
	j->mine = NULL;
	if (w && j->wo->close(w, 0, msg, sizeof msg))
		return cb_fail(e, CUBIE_ERR_RUNTIME, "writer %s: %s", j->writer,
		               *msg ? msg : "cannot finish the output");
	if (w && cf && *cf && atoi(cf) == rank)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "writer %s: cannot finish the output (injected)",
		               j->writer);
	return 0;
}

static void log_times(const struct rank_times *t)
{
	cb_log(CUBIE_LOG_DEBUG, "MPI: rank %d: %zu blocks; solving %.1f ms, writing %.1f ms, "
	       "waiting on rank 0 %.1f ms", rank, t->blocks, t->solve * 1e3, t->write * 1e3,
	       t->wait * 1e3);
}

static int worker(struct job *j, const struct run_table *full, cubie_error *e)
{
	uint64_t b[2];
	int rc = 0;
	struct rank_times tm = {0};
	double t0 = cb_now();
	MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_REQ, MPI_COMM_WORLD);
	for (;;) { /* waiting: for a block, and sending the last */
		MPI_Recv(b, 2, MPI_UINT64_T, 0, TAG_BLOCK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		tm.wait += cb_now() - t0;
		if (!b[1])
			break;
		unsigned char *buf = NULL;
		size_t bytes = 0;
		if (j->failed) /* its join */
			rc = cb_fail(e, j->code, "%s", j->msg);
		else
			rc = solve_block(j, full, b[0], b[1], &buf, &bytes, &tm, e);
		if (rc) {
			free(buf);
			send_fail(rc, e->msg);
			break;
		}
		t0 = cb_now();
		MPI_Send(buf, (int)bytes, MPI_BYTE, 0, TAG_DATA, MPI_COMM_WORLD);
		free(buf);
	}
	log_times(&tm);
	if (j->joins && !rc) {
		if (j->failed)
			rc = cb_fail(e, j->code, "%s", j->msg);
		else
			rc = close_own(j, e);
		if (rc)
			send_fail(rc, e->msg);
		else
			MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_CLOSED, MPI_COMM_WORLD);
	}
	close_own(j, e); /* after a failure: nothing more to say */
	return rc;
}

/* The whole output's shapes and names, with no data but shared "time"'s,
 * as a streaming writer takes it; j->sum keeps status, steps, reached. */
static void describe(struct job *j, cubie_output *whole)
{
	*whole = j->sum->out;
	whole->arrays = j->arr;
	whole->n_arrays = j->n_arr = solver_stream_arrays(j->s, j->sum, j->N, j->arr);
	whole->settings = j->sum->settings = cubie_config_describe(j->s->cfg);
	whole->compression = solver_compression(j->s);
}

/* A writer with join: rank 0 lays out the output's temporary before any
 * block is handed out and sends its path; then every rank, rank 0 too,
 * joins it to write the blocks it solves, so that no rank's link or
 * writing thread carries every block. Every rank, collectively. */
static void join_all(struct job *j, const char *path)
{
	char tmp[PATH_MAX + 1] = "", msg[MSG] = "";
	cubie_output whole = {0};
	if (!(j->sum = solver_new_result(j->s, 0)))
		fail_once(j, CUBIE_ERR_RUNTIME, "rank %d: out of memory for the result's summary", rank);
	else
		describe(j, &whole);
	if (rank == 0 && j->sum) {
		tmp_begin(path); /* the writer's temporaries: see tmpfiles.c */
		if (!(j->w = j->wo->join(&j->s->host, &whole, path, tmp, sizeof tmp, msg, sizeof msg)))
			fail_once(j, CUBIE_ERR_RUNTIME, "writer %s: %s", j->writer,
			          *msg ? msg : "cannot open");
	}
	MPI_Bcast(tmp, sizeof tmp, MPI_CHAR, 0, MPI_COMM_WORLD);
	/* Tests: $CUBIE_TEST_MPI_JOIN_FAIL=R: rank R cannot open the temporary,
	 * as where it is not on a file system that rank shares. */
	const char *jf = getenv("CUBIE_TEST_MPI_JOIN_FAIL");
	const char *who = rank ? "" : "rank 0: "; /* rank 0 names a worker's rank */
	if (*tmp && jf && *jf && atoi(jf) == rank)
		fail_once(j, CUBIE_ERR_RUNTIME, "%swriter %s: cannot open %s (injected)", who, j->writer,
		          tmp);
	else if (*tmp && j->sum &&
	         !(j->mine = j->wo->join(&j->s->host, &whole, path, tmp, sizeof tmp, msg, sizeof msg)))
		fail_once(j, CUBIE_ERR_RUNTIME, "%swriter %s: %s", who, j->writer,
		          *msg ? msg : "cannot open");
	if (rank == 0 && *tmp)
		cb_log(CUBIE_LOG_DEBUG, "MPI: every rank writes its own runs into %s (writer %s's join)",
		       tmp, j->writer);
}

/* Rank 0: open the output, solve and serve, commit or remove the output. */
static int leader(struct job *j, const struct plugin *wp, const char *path,
                  const struct run_table *full, cubie_error *e)
{
	cubie_solver *s = j->s;
	int rc = 0;
	char msg[MSG] = "";
	cubie_output whole = {0};
	/* joined, join_all made the summary and the output */
	if (!j->joins && !(j->sum = solver_new_result(s, !j->streams)))
		fail_once(j, CUBIE_ERR_RUNTIME, "out of memory for the result of %zu runs", j->N);
	else if (j->streams) {
		describe(j, &whole);
		tmp_begin(path); /* the writer's temporaries: see tmpfiles.c */
		if (!(j->w = j->wo->open(&s->host, &whole, path, msg, sizeof msg)))
			fail_once(j, CUBIE_ERR_RUNTIME, "writer %s: %s", wp->desc->name,
			          *msg ? msg : "cannot open");
	} else if (!j->joins) {
		j->n_arr = j->sum->out.n_arrays;
		memcpy(j->arr, j->sum->arrays, j->n_arr * sizeof *j->arr);
	}
	pthread_t th;
	int threaded = threads_ok && !j->failed && pthread_create(&th, NULL, serve, j) == 0;
	if (!threaded)
		j->local_done = 1; /* rank 0 only hands out and writes */
	/* Tests that kill a rank or fail its writes: every rank gets a block,
	 * however slow its start, since rank 0 begins its own only when every
	 * rank has asked. */
	const char *kill_at = getenv("CUBIE_TEST_MPI_KILL"), *wf = getenv("CUBIE_TEST_MPI_WRITE_FAIL");
	const int every = (kill_at && *kill_at) || (wf && *wf);
	for (int asked = 0; threaded && every && asked < size - 1;) {
		nanosleep(&(struct timespec){0, 1000000}, NULL);
		pthread_mutex_lock(&j->lock);
		asked = j->failed ? size : j->asked;
		pthread_mutex_unlock(&j->lock);
	}
	struct rank_times tm = {0};
	while (threaded) {
		size_t first, n, bytes;
		unsigned char *buf = NULL;
		cubie_error be = {0};
		if (!take(j, 0, &first, &n))
			break;
		if (solve_block(j, full, first, n, &buf, &bytes, &tm, &be)) {
			free(buf);
			fail_once(j, be.code, "rank 0, runs [%zu, %zu): %s", first, first + n, be.msg);
			break;
		}
		struct piece *pc = malloc(sizeof *pc);
		if (!pc) {
			free(buf);
			fail_once(j, CUBIE_ERR_RUNTIME, "out of memory");
			break;
		}
		*pc = (struct piece){first, n, buf, NULL};
		pthread_mutex_lock(&j->lock);
		struct piece **at = &j->ready;
		while (*at)
			at = &(*at)->next;
		*at = pc;
		inflight[1] = 0;
		pthread_mutex_unlock(&j->lock);
	}
	log_times(&tm);
	cubie_error ce = {0};
	if (close_own(j, &ce)) /* rank 0's own blocks are in the file */
		fail_once(j, ce.code, "rank 0: %s", ce.msg);
	if (threaded) {
		pthread_mutex_lock(&j->lock);
		j->local_done = 1;
		inflight[1] = 0;
		pthread_mutex_unlock(&j->lock);
		pthread_join(th, NULL);
	} else {
		serve(j);
	}
	for (struct piece *pc = j->pending; pc;) { /* left by a failure */
		struct piece *next = pc->next;
		free(pc->buf);
		free(pc);
		pc = next;
	}
	j->pending = NULL;
	if (!j->failed && j->done != j->N)
		fail_once(j, CUBIE_ERR_RUNTIME, "internal error: %zu of %zu runs arrived", j->done,
		          j->N);
	if (j->sum && !j->failed)
		for (size_t i = 0; i < j->N; i++)
			j->sum->n_failed += CUBIE_STATUS_FAILED(j->sum->status[i]) != 0;
	/* Every block is in: commit (the writer's one rename), or remove. */
	if (j->streams || j->joins) {
		*msg = 0;
		if (j->w && j->wo->close(j->w, !j->failed, msg, sizeof msg) && !j->failed)
			fail_once(j, CUBIE_ERR_RUNTIME, "writer %s: %s", wp->desc->name,
			          *msg ? msg : "cannot finish the output");
		if (j->sum)
			tmp_end();
	} else if (j->sum && !j->failed) {
		cubie_error we = {0};
		if ((rc = cubie_result_write(j->sum, s, path, &we)))
			fail_once(j, rc, "%s", we.msg);
	}
	if (j->failed)
		rc = cb_fail(e, j->code, "%s", j->msg);
	return rc;
}

int mpi_solve_write(cubie_solver *s, const struct plugin *wp, const char *path,
                    cubie_result **summary, cubie_error *e)
{
	init();
	struct job j = {.s = s, .N = s->runs.n_runs, .workers_left = size - 1};
	const cubie_writer_ops *wo = wp->desc->ops;
	int streams = wp->desc->abi_minor >= 1 && wo->open;
	j.wo = wo;
	j.writer = wp->desc->name;
	j.joins = wp->desc->abi_minor >= 3 && wo->join;
	j.streams = streams && !j.joins;
	pthread_mutex_init(&j.lock, NULL);
	/* Blocks: eight a rank, so that uneven ranks finish together, each of
	 * at least 4096 runs (a GPU's worth), at most 1 GiB packed (one MPI
	 * message); $CUBIE_MPI_BLOCK sets the runs a block. */
	size_t per_run = run_bytes(s), cap = ((size_t)1 << 30) / per_run;
	const char *env = getenv("CUBIE_MPI_BLOCK");
	j.block = env && atol(env) > 0 ? (size_t)atol(env) : (j.N + 8 * (size_t)size - 1) / (8 * (size_t)size);
	if (!(env && atol(env) > 0) && j.block < 4096)
		j.block = 4096;
	j.block = j.block > cap ? cap : j.block ? j.block : 1;
	/* the solver's own run table: each block is a solve of its own */
	struct run_table full;
	struct ending end = {0};
	struct plan plan = s->plan;
	cubie_progress_fn progress = s->progress;
	void *progress_user = s->progress_user;
	int rc = 0;
	if (summary)
		*summary = NULL;
	if (runs_share(&s->runs, &full))
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory"); /* before any traffic: MPI ends it */
	s->progress = NULL; /* rank 0 counts the blocks of every rank instead */
	inflight = calloc(2 * (size_t)size, sizeof *inflight);
	if (!inflight)
		MPI_Abort(MPI_COMM_WORLD, CUBIE_ERR_RUNTIME);
	if (j.joins)
		join_all(&j, path);
	else if (rank == 0)
		cb_log(CUBIE_LOG_DEBUG, "MPI: rank 0 writes every rank's runs (writer %s has no join)",
		       j.writer);
	if (rank == 0) {
		j.progress = progress, j.progress_user = progress_user;
		job_active = 1;
		rc = leader(&j, wp, path, &full, e);
		job_active = 0;
		end.rc = rc;
		end.code = rc ? e->code : 0;
		snprintf(end.msg, sizeof end.msg, "%s", rc ? e->msg : "");
	} else {
		cubie_error we = {0};
		worker(&j, &full, &we);
		cubie_result_free(j.sum);
	}
	MPI_Bcast(&end, sizeof end, MPI_BYTE, 0, MPI_COMM_WORLD);
	job_over = 1;
	/* back to the whole run table and its plan, for what the caller does
	 * next: no copy, the table is still the one it was */
	runs_free(&s->runs);
	s->runs = full;
	s->runs_gen++;
	s->plan = plan;
	s->progress = progress;
	free((void *)inflight);
	inflight = NULL;
	pthread_mutex_destroy(&j.lock);
	if (rank == 0) {
		if (!rc && summary)
			*summary = j.sum;
		else
			cubie_result_free(j.sum);
		return rc;
	}
	if (end.rc) { /* rank 0 reports it */
		e->code = end.code ? end.code : CUBIE_ERR_RUNTIME;
		e->msg[0] = 0;
		return e->code;
	}
	return 0;
}

/* Async-signal-safe: write(2) and hand-made numbers only. */
static size_t put_num(char *p, size_t v)
{
	char t[24];
	size_t n = 0, k = 0;
	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		p[k++] = t[--n];
	return k;
}

void mpi_report_unfinished(void)
{
	if (!job_active || rank != 0 || !inflight)
		return;
	for (int r = 0; r < size; r++) {
		size_t first = inflight[2 * r], n = inflight[2 * r + 1];
		if (!n)
			continue;
		char line[160], *p = line;
		static const char a[] = "cubie: the job was stopped with runs [", b[] = ") of rank ",
		                  c[] = " unfinished\n";
		memcpy(p, a, sizeof a - 1), p += sizeof a - 1;
		p += put_num(p, first);
		*p++ = ',', *p++ = ' ';
		p += put_num(p, first + n);
		memcpy(p, b, sizeof b - 1), p += sizeof b - 1;
		p += put_num(p, (size_t)r);
		memcpy(p, c, sizeof c - 1), p += sizeof c - 1;
		if (write(2, line, (size_t)(p - line)) < 0)
			break;
	}
}
