/* The run table: one column per run, one row per input (initial states,
 * then parameters), built from [initial], [parameters] and [runs]. */
#include "config.h"
#include "internal.h"
#include "settings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* After the model's inputs, the time span of each run: [solve] t0,
 * duration and settling_time, swept like parameters (spans.c). */
const char *const runs_span_keys[RUNS_SPANS] = {"t0", "duration", "settling_time"};

static const char *input_name(const struct model *m, size_t i)
{
	return i < m->n_states ? m->states[i] : i < m->n_states + m->n_params
	       ? m->params[i - m->n_states] : runs_span_keys[i - m->n_states - m->n_params];
}

static int index_of(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return (int)i;
	return -1;
}

/* Reject [initial] keys that are not states and [parameters] keys that
 * are not parameters: a typo must not silently use a default. */
static int check_keys(const cubie_config *c, const char *sec, char **names, size_t n,
                      const char *what, cubie_error *e)
{
	size_t ne;
	const struct cfg_entry **en = cfg_section(c, sec, &ne);
	int rc = 0;
	char loc[600];
	for (size_t i = 0; en && i < ne && !rc; i++)
		if (index_of(names, n, en[i]->key) < 0)
			rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: '%s' in [%s] is not a %s of the model",
			             cfg_loc(en[i], loc, sizeof loc), en[i]->key, sec, what);
	free(en);
	return rc;
}

/* One CSV field as a number; the rest of the field must be blank. */
static int csv_number(const char *s, const char *end, double *v)
{
	char buf[64];
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	if (end == s || (size_t)(end - s) >= sizeof buf)
		return -1;
	memcpy(buf, s, (size_t)(end - s));
	buf[end - s] = 0;
	char err[8];
	return expr_eval_const(buf, v, err, sizeof err);
}

/* [runs] file: a header naming inputs, then one row per run. Inputs
 * without a column keep their single value from the INI file (col -1). */
static int read_csv(const cubie_config *c, const struct cfg_entry *en, const struct model *m,
                    double **vals, size_t *len, struct run_table *rt, cubie_error *e)
{
	char loc[600], *path = cfg_path(c, en);
	const size_t ni = m->n_states + m->n_params + RUNS_SPANS;
	FILE *f = path ? fopen(path, "r") : NULL;
	char *line = NULL;
	size_t cap = 0, runs = 0, rows_cap = 0, ncol = 0;
	int *col = NULL, rc = 0, lineno = 1;
	double *rows = NULL; /* [run][ncol] while reading */
	if (!f) {
		rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [runs] file: %s: %s", cfg_loc(en, loc, sizeof loc),
		             path ? path : en->value, strerror(errno));
		goto out;
	}
	ssize_t got = getline(&line, &cap, f);
	if (got < 0) {
		rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s:1: empty: expected a header naming inputs", path);
		goto out;
	}
	if ((size_t)got != strlen(line)) {
		rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s:1: NUL byte in the line: is this a text file?",
		             path);
		goto out;
	}
	if (!(col = malloc((strlen(line) + 1) * sizeof *col))) {
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		goto out;
	}
	for (char *p = line, *q; p; p = q ? q + 1 : NULL) {
		q = strchr(p, ',');
		char *end = q ? q : p + strcspn(p, "\r\n");
		while (*p == ' ' || *p == '\t')
			p++;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		int k = -1;
		for (size_t i = 0; i < ni && k < 0; i++) {
			const char *name = input_name(m, i);
			if (strlen(name) == (size_t)(end - p) && !strncmp(name, p, (size_t)(end - p)))
				k = (int)i;
		}
		for (size_t j = 0; j < ncol && k >= 0; j++)
			if (col[j] == k)
				k = -2;
		if (k < 0) {
			rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s:1: column '%.*s' %s", path, (int)(end - p), p,
			             k == -2 ? "appears twice"
			                     : "is neither a state nor a parameter (nor t0, duration, settling_time)");
			goto out;
		}
		col[ncol++] = k;
	}
	for (size_t i = 0; i < ni && !rc; i++) {
		size_t j = 0;
		while (j < ncol && col[j] != (int)i)
			j++;
		if (j == ncol && len[i] == 0)
			rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s:1: no column for '%s', and no value for it in "
			             "[%s]", path, input_name(m, i), i < m->n_states ? "initial" : "parameters");
	}
	while (!rc && (got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if ((size_t)got != strlen(line)) {
			rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s:%d: NUL byte in the line: is this a text "
			             "file?", path, lineno);
			break;
		}
		if (line[strspn(line, " \t\r\n")] == 0)
			continue;
		if (runs == rows_cap) {
			rows_cap = rows_cap ? 2 * rows_cap : 1024;
			double *r = realloc(rows, rows_cap * ncol * sizeof *r);
			if (!r) {
				rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory reading %s", path);
				break;
			}
			rows = r;
		}
		size_t j = 0;
		for (char *p = line, *q; p && !rc; p = q ? q + 1 : NULL, j++) {
			q = strchr(p, ',');
			if (j == ncol || csv_number(p, q ? q : p + strcspn(p, "\n"), &rows[runs * ncol + j]))
				rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s:%d: %s", path, lineno,
				             j == ncol ? "more values than columns" : "not a number");
		}
		if (!rc && j < ncol)
			rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s:%d: %zu values for %zu columns", path, lineno,
			             j, ncol);
		runs++;
	}
	if (!rc && runs == 0)
		rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s:%d: no runs: the file has a header but no rows",
		             path, lineno);
	if (rc)
		goto out;
	rt->v = malloc((ni ? ni : 1) * (runs ? runs : 1) * sizeof *rt->v);
	if (!rt->v) {
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory for %zu runs", runs);
		goto out;
	}
	rt->n_runs = runs;
	rt->n_inputs = ni;
	for (size_t i = 0; i < ni; i++)
		for (size_t r = 0; r < runs && len[i]; r++)
			rt->v[i * runs + r] = vals[i][0];
	for (size_t j = 0; j < ncol; j++)
		for (size_t r = 0; r < runs; r++)
			rt->v[(size_t)col[j] * runs + r] = rows[r * ncol + j];
out:
	if (f)
		fclose(f);
	free(line);
	free(col);
	free(rows);
	free(path);
	return rc;
}

/* Where input i got its values (its [initial] or [parameters] line, or
 * the span's [solve] key). */
static const struct cfg_entry *input_entry(const cubie_config *c, const struct settings *st,
                                           const struct model *m, size_t i)
{
	static const struct cfg_entry none = {.file = "(no file)"};
	const size_t nm = m->n_states + m->n_params;
	const struct cfg_entry *en = i < nm ? cfg_get(c, i < m->n_states ? "initial" : "parameters",
	                                              input_name(m, i))
	                                    : st->solve.span_at[i - nm];
	return en ? en : &none;
}

/* Is v[0..n) linspace(v[0], v[n-1], n), bit for bit? */
static int is_linspace(const double *v, size_t n)
{
	for (size_t k = 0; n > 1 && k < n; k++) {
		double u = cb_linspace(v[0], v[n - 1], k, n);
		if (memcmp(&u, &v[k], sizeof u))
			return 0;
	}
	return n > 1;
}

/* The model's inputs (the first nm) as a sweep (args.h): a linspace the
 * device works out, other values from the pool. -1: out of memory. */
static int make_sweep(struct run_table *rt, size_t nm, double **vals, const size_t *len,
                      const size_t *inner)
{
	size_t pool = 0;
	int *lin = malloc((nm ? nm : 1) * sizeof *lin);
	if (!lin)
		return -1;
	for (size_t i = 0; i < nm; i++)
		if (!(lin[i] = is_linspace(vals[i], len[i])))
			pool += len[i];
	static unsigned ids;
	const size_t bytes = nm * sizeof(struct cubie_axis) + pool * sizeof(double);
	struct run_sweep *sw = malloc(sizeof *sw + bytes);
	if (!sw) {
		free(lin);
		return -1;
	}
	*sw = (struct run_sweep){1, bytes, __atomic_add_fetch(&ids, 1, __ATOMIC_RELAXED)};
	rt->sweep = sw;
	double *p = (double *)(sw->axes + nm);
	for (size_t i = 0, off = 0; i < nm; i++) {
		const size_t n = len[i];
		sw->axes[i] = (struct cubie_axis){vals[i][0], vals[i][n - 1], (long long)n,
		                                  (long long)inner[i], (long long)off, lin[i]};
		if (!lin[i]) {
			memcpy(p + off, vals[i], n * sizeof *p);
			off += n;
		}
	}
	free(lin);
	return 0;
}

int runs_build(const cubie_config *c, const struct settings *st, const struct model *m,
               struct run_table *rt, cubie_error *e)
{
	memset(rt, 0, sizeof *rt);
	const size_t nm = m->n_states + m->n_params, ni = nm + RUNS_SPANS;
	double **vals = calloc(ni ? ni : 1, sizeof *vals);
	size_t *len = calloc(ni ? ni : 1, sizeof *len), *inner = calloc(ni ? ni : 1, sizeof *inner);
	int rc = 0;
	if (!vals || !len || !inner) {
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		goto out;
	}
	if ((rc = check_keys(c, "initial", m->states, m->n_states, "state", e)) ||
	    (rc = check_keys(c, "parameters", m->params, m->n_params, "parameter", e)))
		goto out;
	const struct cfg_entry *file = st->runs.at.file;
	for (size_t i = 0; i < ni; i++) {
		int is_state = i < m->n_states;
		const char *name = input_name(m, i);
		const struct cfg_entry *en = i < nm ? cfg_get(c, is_state ? "initial" : "parameters", name)
		                                    : st->solve.span_at[i - nm];
		if (!en && i >= nm) { /* a span not set: its default, one value */
			if (!(vals[i] = malloc(sizeof *vals[i]))) {
				rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
				goto out;
			}
			vals[i][0] = st->solve.span_def[i - nm];
			len[i] = 1;
			continue;
		}
		if (!en && file)
			continue; /* the CSV may have its column */
		if (!en) {
			rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: no value for %s '%s': add it to [%s]",
			             c->path, is_state ? "state" : "parameter", name,
			             is_state ? "initial" : "parameters");
			goto out;
		}
		if ((rc = cfg_values_names(en, model_constant, (void *)m, &vals[i], &len[i], e)))
			goto out;
	}
	if (file) {
		char loc[600];
		const struct cfg_entry *comb = st->runs.at.combine;
		for (size_t i = 0; i < ni && !rc; i++)
			if (len[i] > 1)
				rc = cb_fail(e, CUBIE_ERR_CONFIG,
				             "%s: [runs] file gives the runs, so '%s' may have one value only",
				             cfg_loc(file, loc, sizeof loc), input_name(m, i));
		if (!rc && comb)
			rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [runs] combine does not apply with [runs] file",
			             cfg_loc(comb, loc, sizeof loc));
		if (!rc && !(rc = read_csv(c, file, m, vals, len, rt, e)))
			spans_fold(rt, nm);
		goto out;
	}

	size_t n = 1;
	if (st->runs.combine == COMBINE_ZIP) {
		size_t first = 0;
		for (size_t i = 0; i < ni; i++) {
			if (len[i] == 1)
				continue;
			if (n > 1 && len[i] != n) {
				const char *a = input_name(m, first), *b = input_name(m, i);
				char loc[600];
				rc = cb_fail(e, CUBIE_ERR_CONFIG,
				             "%s: combine = zip needs equal lengths, but '%s' has %zu "
				             "values and '%s' has %zu",
				             settings_loc(st, st->runs.at.combine, loc, sizeof loc), a,
				             len[first], b, len[i]);
				goto out;
			}
			n = len[i];
			first = i;
		}
	} else {
		for (size_t i = 0; i < ni; i++) {
			if (n > ((size_t)1 << 40) / len[i]) {
				char loc[600];
				rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: with the %zu values of '%s' the grid "
				             "has more than 2^40 runs", cfg_loc(input_entry(c, st, m, i), loc,
				             sizeof loc), len[i], input_name(m, i));
				goto out;
			}
			n *= len[i];
		}
	}
	/* the table is [inputs][runs] doubles: refuse before allocating */
	if (ni && n > cb_memory_bytes() / sizeof *rt->v / ni) {
		size_t big = 0;
		char loc[600];
		for (size_t i = 1; i < ni; i++)
			big = len[i] > len[big] ? i : big;
		rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: %zu runs of %zu inputs need %.3g bytes, more "
		             "than this machine's memory (%.3g bytes)",
		             cfg_loc(input_entry(c, st, m, big), loc, sizeof loc), n, ni,
		             (double)n * (double)ni * sizeof *rt->v, (double)cb_memory_bytes());
		goto out;
	}

	rt->v = malloc((ni ? ni : 1) * n * sizeof *rt->v);
	if (!rt->v) {
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory for %zu runs", n);
		goto out;
	}
	rt->n_runs = n;
	rt->n_inputs = ni;
	/* grid: the first input varies slowest, as in C-order nested loops;
	 * input i of run r is vals[i][r / inner[i] % len[i]] */
	for (size_t i = 0, in = n; i < ni; i++) {
		double *row = rt->v + i * n;
		inner[i] = len[i] == 1 || st->runs.combine == COMBINE_ZIP ? 1 : (in /= len[i]);
		if (len[i] == 1)
			for (size_t r = 0; r < n; r++)
				row[r] = vals[i][0];
		else if (inner[i] == 1 && len[i] == n)
			memcpy(row, vals[i], n * sizeof *row);
		else
			for (size_t r = 0; r < n; r++)
				row[r] = vals[i][(r / inner[i]) % len[i]];
	}
	spans_fold(rt, nm);
	if (!rt->spans && make_sweep(rt, nm, vals, len, inner))
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
out:
	for (size_t i = 0; vals && i < ni; i++)
		free(vals[i]);
	free(vals);
	free(len);
	free(inner);
	return rc;
}

struct run_sweep *runs_sweep_keep(struct run_sweep *sw)
{
	if (sw)
		__atomic_add_fetch(&sw->refs, 1, __ATOMIC_RELAXED);
	return sw;
}

void runs_sweep_drop(struct run_sweep *sw)
{
	if (sw && __atomic_sub_fetch(&sw->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(sw);
}

int runs_share(struct run_table *rt, struct run_table *copy)
{
	if (!rt->refs) {
		if (!(rt->refs = malloc(sizeof *rt->refs)))
			return -1;
		*rt->refs = 1;
	}
	++*rt->refs;
	*copy = *rt;
	runs_sweep_keep(rt->sweep);
	return 0;
}

void runs_free(struct run_table *rt)
{
	if (!rt->refs || --*rt->refs == 0) {
		free(rt->refs);
		free(rt->v);
	}
	runs_sweep_drop(rt->sweep);
	memset(rt, 0, sizeof *rt);
}
