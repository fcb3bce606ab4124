/* Solve an INI text through the public API, for tests; compare results,
 * watch progress, compile a kernel with NVRTC. */
#ifndef CUBIE_T_SOLVE_H
#define CUBIE_T_SOLVE_H
#include <cubie/cubie.h>
#include "tap.h"

/* What solve_job does around the solve, each part optional (zero: not). */
struct solve_job {
	const char *out;            /* stream to this file (cubie_solve_write) */
	char **plan;                /* cubie_solver_describe, before the solve */
	cubie_progress_fn progress; /* with progress_user, during the solve */
	void *progress_user;
	cubie_stats *stats;         /* cubie_solver_stats after the solve, failed or not */
};

/* Returns the result (NULL on error, message in *e); overrides are
 * "section.key=value" strings, NULL-terminated (or none: NULL); job may
 * be NULL. */
TAP_FN cubie_result *solve_job(const char *ini, const char *const *overrides,
                               const struct solve_job *job, cubie_error *e)
{
	char *p = write_tmp("solve", ini);
	cubie_config *c = NULL;
	cubie_solver *s = NULL;
	cubie_result *r = NULL;
	int rc = cubie_config_load(p, &c, e);
	for (size_t i = 0; !rc && overrides && overrides[i]; i++)
		rc = cubie_config_set(c, overrides[i], e);
	if (!rc && !(rc = cubie_solver_create(c, &s, e))) {
		if (job && job->plan)
			*job->plan = cubie_solver_describe(s);
		if (job && job->progress)
			cubie_solver_set_progress(s, job->progress, job->progress_user);
		rc = job && job->out ? cubie_solve_write(s, job->out, &r, e) : cubie_solve(s, &r, e);
		if (job && job->stats)
			cubie_solver_stats(s, job->stats);
	}
	cubie_solver_free(s);
	cubie_config_free(c);
	unlink(p);
	free(p);
	if (rc) {
		cubie_result_free(r);
		r = NULL;
	}
	return r;
}

TAP_FN cubie_result *solve_text(const char *ini, const char *const *overrides, cubie_error *e)
{
	return solve_job(ini, overrides, NULL, e);
}

/* Every array of a in b, with the same shape and the same bytes. */
TAP_FN int same_result(const cubie_result *a, const cubie_result *b)
{
	if (!a || !b)
		return 0;
	for (size_t i = 0; i < cubie_result_count(a); i++) {
		const cubie_array *x = cubie_result_array(a, i), *y = cubie_result_find(b, x->name);
		size_t n = 1, sz = x->dtype == CUBIE_DTYPE_FLOAT64 ? 8 : 4;
		for (int d = 0; d < x->ndim; d++)
			n *= x->shape[d];
		if (!y || memcmp(x->shape, y->shape, sizeof x->shape) || memcmp(x->data, y->data, n * sz))
			return 0;
	}
	return 1;
}

/* The runs of ini (with overrides, as solve_job) solved as the sweep the
 * device works out (args.h), then as the same table given through
 * cubie_solver_set_inputs: 1 when both give the same bytes. */
TAP_FN int sweep_is_table(const char *ini, const char *const *overrides, cubie_error *e)
{
	char *p = write_tmp("sweep", ini);
	cubie_config *c = NULL;
	cubie_solver *s = NULL;
	cubie_result *r1 = NULL, *r2 = NULL;
	int rc = cubie_config_load(p, &c, e), same = 0;
	for (size_t i = 0; !rc && overrides && overrides[i]; i++)
		rc = cubie_config_set(c, overrides[i], e);
	if (!rc && !(rc = cubie_solver_create(c, &s, e)) && !(rc = cubie_solve(s, &r1, e))) {
		const cubie_array *in = cubie_result_find(r1, "inputs");
		rc = cubie_solver_set_inputs(s, in->data, in->shape[1], e) || cubie_solve(s, &r2, e);
		same = !rc && same_result(r1, r2);
	}
	cubie_result_free(r1);
	cubie_result_free(r2);
	cubie_solver_free(s);
	cubie_config_free(c);
	unlink(p);
	free(p);
	return same;
}

/* Inputs worked out on the device (linspace by fma, lists and logspace
 * from the pool) are the table's, bit for bit: over a grid, zipped, in
 * float64; ini is a model with a state x and a parameter rho. */
TAP_FN void sweep_checks(const char *ini, const char *backend)
{
	static const char *const sweeps[][3] = {
		{"initial.x=1, 2, 0.25", "parameters.rho=linspace(-3, 21, 1001)", NULL},
		{"initial.x=logspace(-1, 1, 700)", "parameters.rho=linspace(0, 1/3, 700)",
		 "runs.combine=zip"},
		{"solve.precision=float64", "parameters.rho=linspace(28, 0.1, 999)", NULL},
	};
	cubie_error e = {0};
	for (int i = 0; i < 3; i++) {
		const char *o[] = {backend, "memory.chunk_runs=512", sweeps[i][0], sweeps[i][1],
		                   sweeps[i][2], NULL};
		if (!ok(sweep_is_table(ini, o, &e), "%s: sweep %d = its table, bit for bit", backend, i))
			diag("%s", e.msg);
	}
}

/* A progress callback's reports, for cubie_solver_set_progress: start it
 * as {0, 0, 0, 1}; monotonic stays 1 while every report rises. */
struct seen { size_t calls, last, runs; int monotonic; };
TAP_FN void on_progress(size_t done, size_t runs, void *user)
{
	struct seen *v = user;
	v->monotonic &= done > v->last || v->calls == 0;
	v->calls++, v->last = done, v->runs = runs;
}

/* The kernel of ini (with the override o1, or none) compiles with NVRTC
 * for sm_90, no GPU needed, and its report contains want; skipped where
 * cubie has no NVRTC. */
TAP_FN void nvrtc_compiles(const char *ini, const char *o1, const char *want, const char *what)
{
	char *p = write_tmp("nvrtc", ini);
	cubie_config *c = NULL;
	cubie_error e = {0};
	char *report = NULL;
	if (!cubie_config_load(p, &c, &e) && (!o1 || !cubie_config_set(c, o1, &e)))
		report = cubie_compile_check(c, "sm_90", &e);
	if (!report && (strstr(e.msg, "NVRTC") || strstr(e.msg, "without CUDA")))
		skip("no NVRTC");
	else if (!ok(report && strstr(report, want), "NVRTC compiles %s", what))
		diag("%s", report ? report : e.msg);
	free(report);
	cubie_config_free(c);
	unlink(p);
	free(p);
}

/* values[save][var][run] as double, whatever the precision */
TAP_FN double value_at(const cubie_result *r, size_t save, size_t var, size_t run)
{
	const cubie_array *a = cubie_result_find(r, "values");
	size_t i = (save * a->shape[1] + var) * a->shape[2] + run;
	return a->dtype == CUBIE_DTYPE_FLOAT32 ? ((const float *)a->data)[i]
	                                       : ((const double *)a->data)[i];
}
#endif
