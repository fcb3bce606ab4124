/* The run table: one column per run, one row per input (initial states,
 * then parameters), built from [initial], [parameters] and [runs]. */
#include "config.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>

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

int runs_build(const cubie_config *c, const struct model *m, struct run_table *rt,
               cubie_error *e)
{
	memset(rt, 0, sizeof *rt);
	const size_t ni = m->n_states + m->n_params;
	double **vals = calloc(ni ? ni : 1, sizeof *vals);
	size_t *len = calloc(ni ? ni : 1, sizeof *len);
	int rc = 0;
	if (!vals || !len) {
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		goto out;
	}
	if ((rc = check_keys(c, "initial", m->states, m->n_states, "state", e)) ||
	    (rc = check_keys(c, "parameters", m->params, m->n_params, "parameter", e)))
		goto out;
	for (size_t i = 0; i < ni; i++) {
		int is_state = i < m->n_states;
		const char *name = is_state ? m->states[i] : m->params[i - m->n_states];
		const struct cfg_entry *en = cfg_get(c, is_state ? "initial" : "parameters", name);
		if (!en) {
			rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: no value for %s '%s': add it to [%s]",
			             c->path, is_state ? "state" : "parameter", name,
			             is_state ? "initial" : "parameters");
			goto out;
		}
		if ((rc = cfg_values(en, &vals[i], &len[i], e)))
			goto out;
	}

	const char *combine = cfg_str(c, "runs", "combine");
	size_t n = 1;
	if (!strcmp(combine, "zip")) {
		size_t first = 0;
		for (size_t i = 0; i < ni; i++) {
			if (len[i] == 1)
				continue;
			if (n > 1 && len[i] != n) {
				const char *a = first < m->n_states ? m->states[first]
				                                    : m->params[first - m->n_states];
				const char *b = i < m->n_states ? m->states[i] : m->params[i - m->n_states];
				const struct cfg_entry *en = cfg_get(c, "runs", "combine");
				char loc[600];
				rc = cb_fail(e, CUBIE_ERR_CONFIG,
				             "%s: combine = zip needs equal lengths, but '%s' has %zu "
				             "values and '%s' has %zu",
				             en ? cfg_loc(en, loc, sizeof loc) : c->path, a, len[first], b,
				             len[i]);
				goto out;
			}
			n = len[i];
			first = i;
		}
	} else {
		for (size_t i = 0; i < ni; i++) {
			if (n > ((size_t)1 << 40) / len[i]) {
				rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: the grid has more than 2^40 runs",
				             c->path);
				goto out;
			}
			n *= len[i];
		}
	}

	rt->v = malloc((ni ? ni : 1) * n * sizeof *rt->v);
	if (!rt->v) {
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory for %zu runs", n);
		goto out;
	}
	rt->n_runs = n;
	rt->n_inputs = ni;
	/* grid: the first input varies slowest, as in C-order nested loops */
	size_t inner = n;
	for (size_t i = 0; i < ni; i++) {
		double *row = rt->v + i * n;
		if (len[i] == 1) {
			for (size_t r = 0; r < n; r++)
				row[r] = vals[i][0];
		} else if (!strcmp(combine, "zip")) {
			memcpy(row, vals[i], n * sizeof *row);
		} else {
			inner /= len[i];
			for (size_t r = 0; r < n; r++)
				row[r] = vals[i][(r / inner) % len[i]];
		}
	}
out:
	for (size_t i = 0; vals && i < ni; i++)
		free(vals[i]);
	free(vals);
	free(len);
	return rc;
}

void runs_free(struct run_table *rt)
{
	free(rt->v);
	memset(rt, 0, sizeof *rt);
}
