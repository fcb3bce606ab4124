/* A solve's result: named arrays, one whatever the chunking. The large
 * ones live in a store that the solver keeps for its next solve once the
 * result is freed (see take_store in pipeline.c); the inputs are the
 * solver's run table, shared, not copied. */
#include "config.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Large result arrays are first touched by the unpacking threads; in 2 MiB
 * pages that is 512 times fewer page faults (where the kernel allows). */
static void *big_alloc(size_t bytes)
{
	const size_t huge = (size_t)2 << 20;
	void *p = NULL;
	if (bytes < 32 * huge)
		return malloc(bytes ? bytes : 1);
	if (posix_memalign(&p, huge, bytes))
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, bytes, MADV_HUGEPAGE);
#endif
	return p;
}

static char **copy_names(char *const *names, size_t n)
{
	char **v = calloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; v && i < n; i++)
		if (!(v[i] = cb_strdup(names[i]))) {
			cfg_free_names(v, i);
			return NULL;
		}
	return v;
}

static void set_array(cubie_array *a, const char *name, int dtype, const void *data, int ndim,
                      size_t d0, size_t d1, size_t d2)
{
	a->name = name;
	a->dtype = dtype;
	a->data = data;
	a->ndim = ndim;
	a->shape[0] = d0;
	a->shape[1] = d1;
	a->shape[2] = d2;
}

struct result_store *store_new(size_t values_bytes, size_t ints_bytes)
{
	struct result_store *st = calloc(1, sizeof *st);
	if (!st)
		return NULL;
	st->values = big_alloc(values_bytes);
	st->ints = big_alloc(ints_bytes);
	st->values_bytes = values_bytes;
	st->ints_bytes = ints_bytes;
	if (!st->values || !st->ints) {
		store_free(st);
		return NULL;
	}
	return st;
}

void store_free(struct result_store *st)
{
	if (!st)
		return;
	store_unpin(st);
	free(st->values);
	free(st->ints);
	free(st);
}

void store_pin(struct result_store *st, backend *be)
{
	const struct backend_ops *o = be->ops;
	if (st->pinned_by || !o->host_register)
		return;
	if (o->host_register(be, st->values, st->values_bytes) == 0) {
		if (o->host_register(be, st->ints, st->ints_bytes) == 0) {
			st->pinned_by = be;
			return;
		}
		o->host_unregister(be, st->values);
	}
	cb_log(CUBIE_LOG_DEBUG, "result arrays could not be pinned; copies will be slower");
}

void store_unpin(struct result_store *st)
{
	if (!st->pinned_by)
		return;
	st->pinned_by->ops->host_unregister(st->pinned_by, st->values);
	st->pinned_by->ops->host_unregister(st->pinned_by, st->ints);
	st->pinned_by = NULL;
}

cubie_result *result_new(struct result_store *st, struct run_table *runs,
                         const struct result_shape *sh)
{
	cubie_result *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	size_t n_runs = runs->n_runs, n_inputs = runs->n_inputs, k = 0;
	const int real = sh->precision == 32 ? CUBIE_DTYPE_FLOAT32 : CUBIE_DTYPE_FLOAT64;
	r->n_runs = n_runs;
	r->store = st;
	r->var_names = copy_names(sh->vars, sh->n_vars);
	r->input_names = copy_names(sh->inputs, n_inputs);
	r->metric_names = copy_names(sh->metrics, sh->n_metrics);
	r->n_ev_names = sh->events ? sh->events->n_arrays : 0;
	r->ev_names = copy_names(sh->events ? sh->events->array_names : NULL, r->n_ev_names);
	r->time = calloc((sh->n_saves ? sh->n_saves : 1) * (sh->time_per_run && n_runs ? n_runs : 1),
	                 sizeof *r->time);
	r->out.n_vars = sh->n_vars;
	r->out.n_inputs = n_inputs;
	r->out.n_metrics = sh->n_metrics;
	r->out.version = CUBIE_VERSION_STRING;
	if (!r->var_names || !r->input_names || !r->metric_names || !r->ev_names || !r->time ||
	    runs_share(runs, &r->inputs)) {
		cubie_result_free(r);
		return NULL;
	}
	r->values = sh->values ? st->values : NULL;
	r->status = st->ints;
	r->steps = sh->steps ? st->ints + n_runs : NULL;
	r->reached = (double *)((char *)st->ints + run_block_reached(sh->steps ? 3 : 1, n_runs));
	if (sh->time_per_run)
		set_array(&r->arrays[k++], "time", CUBIE_DTYPE_FLOAT64, r->time, 2, sh->n_saves, n_runs, 0);
	else
		set_array(&r->arrays[k++], "time", CUBIE_DTYPE_FLOAT64, r->time, 1, sh->n_saves, 0, 0);
	if (sh->values)
		set_array(&r->arrays[k++], "values", real, r->values, 3, sh->n_saves, sh->n_vars, n_runs);
	if (sh->values && sh->n_metrics)
		set_array(&r->arrays[k++], "summaries", real,
		          (char *)r->values + sh->n_saves * sh->n_vars * n_runs * (real == CUBIE_DTYPE_FLOAT32 ? 4 : 8),
		          3, sh->n_windows, sh->n_metrics, n_runs);
	if (sh->values && r->n_ev_names) /* the last rows of the values' store */
		k += events_arrays(sh->events, r->ev_names,
		                   (char *)st->values + st->values_bytes -
		                           sh->events->rows * n_runs * (real == CUBIE_DTYPE_FLOAT32 ? 4 : 8),
		                   n_runs, real, &r->arrays[k]);
	set_array(&r->arrays[k++], "status", CUBIE_DTYPE_INT32, r->status, 1, n_runs, 0, 0);
	set_array(&r->arrays[k++], "reached", CUBIE_DTYPE_FLOAT64, r->reached, 1, n_runs, 0, 0);
	set_array(&r->arrays[k++], "inputs", CUBIE_DTYPE_FLOAT64, r->inputs.v, 2, n_inputs, n_runs, 0);
	if (sh->steps)
		set_array(&r->arrays[k++], "steps", CUBIE_DTYPE_INT32, r->steps, 2, 2, n_runs, 0);
	r->out.n_arrays = k;
	r->out.arrays = r->arrays;
	r->out.var_names = (const char *const *)r->var_names;
	r->out.input_names = (const char *const *)r->input_names;
	r->out.metric_names = (const char *const *)r->metric_names;
	return r;
}

void cubie_result_free(cubie_result *r)
{
	if (!r)
		return;
	cfg_free_names(r->var_names, r->out.n_vars);
	cfg_free_names(r->input_names, r->out.n_inputs);
	cfg_free_names(r->metric_names, r->out.n_metrics);
	cfg_free_names(r->ev_names, r->n_ev_names);
	free(r->time);
	free(r->settings);
	runs_free(&r->inputs);
	if (r->store && r->store->kept)
		r->store->in_use = 0; /* back to its solver, for the next solve */
	else
		store_free(r->store);
	free(r);
}

size_t cubie_result_runs(const cubie_result *r)
{
	return r->n_runs;
}

size_t cubie_result_count(const cubie_result *r)
{
	return r->out.n_arrays;
}

const cubie_array *cubie_result_array(const cubie_result *r, size_t i)
{
	return i < r->out.n_arrays ? &r->arrays[i] : NULL;
}

const cubie_array *cubie_result_find(const cubie_result *r, const char *name)
{
	for (size_t i = 0; i < r->out.n_arrays; i++)
		if (!strcmp(r->arrays[i].name, name))
			return &r->arrays[i];
	return NULL;
}

const char *const *cubie_result_names(const cubie_result *r, const char *array, size_t *n)
{
	if (!strcmp(array, "values")) {
		*n = r->out.n_vars;
		return r->out.var_names;
	}
	if (!strcmp(array, "inputs")) {
		*n = r->out.n_inputs;
		return r->out.input_names;
	}
	if (!strcmp(array, "summaries")) {
		*n = r->out.n_metrics;
		return r->out.metric_names;
	}
	*n = 0;
	return NULL;
}

size_t cubie_result_failed(const cubie_result *r)
{
	return r->n_failed;
}
