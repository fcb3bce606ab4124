/* The model: [model], [constants] and [equations] read and checked (names,
 * missing equations, cycles), then turned into device code that is valid
 * C99 and CUDA C++ in either precision. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "drivers.h"

enum { K_STATE, K_PARAM, K_TIME, K_CONST, K_AUX, K_DRIVER };
static const char *const kinds[] = {"state", "parameter", "time", "constant", "auxiliary",
                                    "driver"};
#define A_(k) (kinds[k][0] == 'a' ? "an" : "a")

struct def {                    /* one [constants] or [equations] entry */
	const struct cfg_entry *en; /* where it came from (during model_build only) */
	char *loc;                  /* "FILE:LINE", for messages after the build */
	char *name;                 /* the key: "dx" for a derivative */
	int kind;                   /* K_CONST, K_AUX, or K_STATE for a derivative */
	struct expr *x;
	double v;                   /* a constant's value */
	int mark;                   /* depth-first walks: 0 new, 1 open, 2 done */
};
struct sym {
	const char *name;
	int kind;
	size_t i; /* index in states or parameters, or of the def */
};
struct priv {
	struct def *d; /* constants, then equations, in file order */
	struct sym *s; /* states, parameters, constants, auxiliaries, t */
	size_t nd, ns;
	size_t *order, no; /* auxiliaries, dependencies first */
	size_t *deriv;     /* the def of each state's derivative */
};

static const struct sym *lookup(const struct priv *P, const char *name)
{
	for (size_t i = 0; i < P->ns; i++)
		if (!strcmp(P->s[i].name, name))
			return &P->s[i];
	return NULL;
}

static int valid_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	while (isalnum((unsigned char)*s) || *s == '_')
		s++;
	return !*s;
}

/* Every user name is a C identifier and unique across kinds, so the
 * prefixed spellings cannot meet each other, C keywords or ours. */
static int add_sym(struct priv *P, const char *name, int kind, size_t i, const char *loc,
                   cubie_error *e)
{
	const struct sym *s = lookup(P, name);
	if (!valid_name(name))
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: '%s' is not a valid name", loc, name);
	if (!strcmp(name, "t"))
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: 't' is reserved for time", loc);
	if (s && s->kind == K_STATE && kind == K_AUX)
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: '%s' is a state: its equation is 'd%s'",
		               loc, name, name);
	if (s)
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: '%s' is already %s %s", loc, name,
		               A_(s->kind), kinds[s->kind]);
	P->s[P->ns++] = (struct sym){name, kind, i};
	return 0;
}

/* A constant's value; pi and e unless the model defines those names. */
static int const_value(const char *name, double *v, void *ctx)
{
	const struct priv *P = ctx;
	const struct sym *s = lookup(P, name);
	if (!s)
		return expr_builtin(name, v);
	if (s->kind != K_CONST)
		return 0;
	*v = P->d[s->i].v;
	return 1;
}

int model_constant(const char *name, double *v, void *model)
{
	return const_value(name, v, ((struct model *)model)->priv);
}

/* ---- checks ---- */

struct check {
	struct priv *P;
	const struct def *D;
	const char **names; /* every known name, for hints */
	cubie_error *e;
	int kind; /* of the walk: K_CONST or K_AUX */
	size_t *stack, depth;
	size_t *order, n;
};

static int check_name(const char *name, void *ctx)
{
	struct check *c = ctx;
	const struct sym *s = lookup(c->P, name);
	char loc[512];
	double v;
	cfg_loc(c->D->en, loc, sizeof loc);
	if (!s && expr_builtin(name, &v))
		return 0;
	if (!s) {
		const char *h = expr_hint(name, c->names, c->P->ns);
		return cb_fail(c->e, CUBIE_ERR_CONFIG, "%s: unknown name '%s' in %s%s%s%s", loc,
		               name, c->D->name, h ? " (did you mean '" : "", h ? h : "", h ? "'?)" : "");
	}
	if (c->D->kind == K_CONST && s->kind != K_CONST)
		return cb_fail(c->e, CUBIE_ERR_CONFIG,
		               "%s: constant %s uses %s '%s'; constants may use only numbers and "
		               "other constants", loc, c->D->name, kinds[s->kind], name);
	return 0;
}

/* The defs of the walk's kind that one def uses, in source order. */
struct deps {
	struct check *c;
	size_t *v, n, cap;
	int oom;
};

static int dep(const char *name, void *ctx)
{
	struct deps *ds = ctx;
	const struct sym *s = lookup(ds->c->P, name);
	if (!s || s->kind != ds->c->kind)
		return 0;
	if (ds->n == ds->cap) {
		size_t cap = ds->cap ? 2 * ds->cap : 4, *v = realloc(ds->v, cap * sizeof *v);
		if (!v)
			return ds->oom = 1;
		ds->v = v, ds->cap = cap;
	}
	ds->v[ds->n++] = s->i;
	return 0;
}

/* "FILE:LINE: cycle among ...: a -> b -> a", the path from d's place on
 * the stack of open defs back to d. */
static int cycle(struct check *c, size_t d)
{
	size_t j = 0;
	char loc[512];
	sbuf b = {0};
	while (c->stack[j] != d)
		j++;
	for (size_t k = j; k < c->depth; k++)
		sb_add(&b, "%s -> ", c->P->d[c->stack[k]].name);
	sb_add(&b, "%s", c->P->d[d].name);
	int rc = cb_fail(c->e, CUBIE_ERR_CONFIG, "%s: cycle among %s: %s",
	                 cfg_loc(c->P->d[c->stack[j]].en, loc, sizeof loc),
	                 c->kind == K_CONST ? "constants" : "auxiliaries", b.s);
	free(b.s);
	return rc;
}

/* Depth first along the dependencies of one kind: dependencies enter
 * c->order before their users; a way back to an open def is a cycle.
 * Iterative, with the open defs in c->stack and what each still has to
 * visit in deps[]: a chain of definitions may be as long as the model. */
static int visit(struct check *c, size_t root)
{
	struct deps *deps = calloc(c->P->nd + 1, sizeof *deps);
	size_t *next = calloc(c->P->nd + 1, sizeof *next);
	int rc = 0;
	if (!deps || !next)
		rc = cb_fail(c->e, CUBIE_ERR_RUNTIME, "out of memory");
	for (size_t d = root; !rc;) {
		struct def *D = d != (size_t)-1 ? &c->P->d[d] : NULL;
		if (D && D->mark == 1) {
			rc = cycle(c, d);
		} else if (D && D->mark == 0) { /* open it */
			struct deps *ds = &deps[c->depth];
			*ds = (struct deps){.c = c};
			if (expr_names(D->x, dep, ds) || ds->oom) {
				rc = cb_fail(c->e, CUBIE_ERR_RUNTIME, "out of memory");
				break;
			}
			D->mark = 1;
			next[c->depth] = 0;
			c->stack[c->depth++] = d;
		}
		if (rc || c->depth == 0)
			break;
		/* the top def's next dependency, or close it */
		size_t top = c->depth - 1;
		if (next[top] < deps[top].n) {
			d = deps[top].v[next[top]++];
			if (c->P->d[d].mark == 2)
				d = (size_t)-1;
		} else {
			c->P->d[c->stack[top]].mark = 2;
			c->order[c->n++] = c->stack[top];
			free(deps[top].v);
			deps[top].v = NULL;
			c->depth--;
			d = (size_t)-1;
		}
	}
	for (size_t k = 0; deps && k <= c->P->nd; k++)
		free(deps[k].v);
	c->depth = 0;
	free(deps);
	free(next);
	return rc;
}

/* Names first, then order; constants are evaluated in that order. */
static int check_kind(struct check *c, int kind)
{
	int rc = 0;
	c->kind = kind;
	for (size_t d = 0; d < c->P->nd && !rc; d++)
		if ((kind == K_CONST) == (c->P->d[d].kind == K_CONST)) {
			c->D = &c->P->d[d];
			rc = expr_names(c->D->x, check_name, c);
		}
	c->n = 0;
	for (size_t d = 0; d < c->P->nd && !rc; d++)
		if (c->P->d[d].kind == kind)
			rc = visit(c, d);
	for (size_t k = 0; k < c->n && !rc && kind == K_CONST; k++) {
		struct def *D = &c->P->d[c->order[k]];
		char loc[512];
		expr_eval(D->x, const_value, c->P, &D->v);
		if (!isfinite(D->v))
			rc = cb_fail(c->e, CUBIE_ERR_CONFIG, "%s: constant %s is not finite (%g)",
			             cfg_loc(D->en, loc, sizeof loc), D->name, D->v);
	}
	return rc;
}

/* ---- reading ---- */

/* "FILE:LINE" of a [model] key, or the file where the key is unset. */
static const char *model_loc(const cubie_config *c, const char *key, char *buf, size_t len)
{
	const struct cfg_entry *en = cfg_get(c, "model", key);
	if (en)
		return cfg_loc(en, buf, len);
	snprintf(buf, len, "%s", c->path ? c->path : "model");
	return buf;
}

/* The entries of [constants] (ce) and [equations] (ee), in file order. */
static int read_defs(struct model *m, const struct cfg_entry **ce, size_t nc,
                     const struct cfg_entry **ee, size_t ne, cubie_error *e)
{
	struct priv *P = m->priv;
	int rc = 0;
	for (size_t i = 0; !rc && i < nc + ne; i++) {
		const struct cfg_entry *en = i < nc ? ce[i] : ee[i - nc];
		struct def *D = &P->d[P->nd++];
		const struct sym *s;
		char loc[512], err[256];
		cfg_loc(en, loc, sizeof loc);
		D->en = en;
		D->loc = cb_strdup(loc);
		D->kind = i < nc ? K_CONST : K_AUX;
		if (!(D->name = cb_strdup(en->key))) {
			rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		} else if (D->kind == K_AUX && en->key[0] == 'd' && (s = lookup(P, en->key + 1)) &&
		           s->kind == K_STATE) {
			D->kind = K_STATE;
			if (P->deriv[s->i] != (size_t)-1)
				rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: '%s' is defined twice", loc, D->name);
			P->deriv[s->i] = P->nd - 1;
		} else {
			rc = add_sym(P, D->name, D->kind, P->nd - 1, loc, e);
		}
		if (!rc && expr_parse(en->value, &D->x, err, sizeof err))
			rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: syntax error in %s: %s", loc, D->name, err);
	}
	return rc;
}

static int read_model(const cubie_config *c, struct model *m, cubie_error *e)
{
	static const char *const keys[] = {"states", "parameters", "observables"};
	char ***lists[] = {&m->states, &m->params, &m->obs};
	size_t *ns[] = {&m->n_states, &m->n_params, &m->n_obs};
	int rc = 0;
	for (int k = 0; k < 3 && !rc; k++)
		rc = cfg_names(c, "model", keys[k], lists[k], ns[k], e);
	char loc[600];
	if (!rc && !m->n_states)
		rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [model] states: the model needs at least one state",
		             model_loc(c, "states", loc, sizeof loc));
	return rc;
}

static int mark_used(const char *name, void *ctx)
{
	const struct priv *P = ((struct model *)ctx)->priv;
	const struct sym *s = lookup(P, name);
	if (s && s->kind == K_AUX)
		P->d[s->i].mark = 3; /* used (the marks are reset below) */
	return 0;
}

/* An equation nothing uses does nothing: `dz = ...` without z in states is
 * the likely mistake (an error, with the fix); any other is a warning. */
static int check_unused(struct model *m, cubie_error *e)
{
	struct priv *P = m->priv;
	int rc = 0;
	for (size_t d = 0; d < P->nd; d++)
		if (P->d[d].kind != K_CONST)
			expr_names(P->d[d].x, mark_used, m);
	for (size_t i = 0; i < m->n_obs; i++)
		mark_used(m->obs[i], m);
	for (size_t d = 0; d < P->nd && !rc; d++) {
		struct def *D = &P->d[d];
		char loc[512];
		if (D->kind == K_AUX && D->mark != 3) {
			cfg_loc(D->en, loc, sizeof loc);
			if (D->name[0] == 'd' && D->name[1]) {
				const char *h = expr_hint(D->name + 1, (const char *const *)m->states,
				                          m->n_states);
				rc = cb_fail(e, CUBIE_ERR_CONFIG,
				             "%s: '%s' is not the equation of a state ('%s' is not in [model] "
				             "states%s%s%s) and nothing uses it: add '%s' to states%s", loc,
				             D->name, D->name + 1, h ? "; did you mean 'd" : "", h ? h : "",
				             h ? "'?" : "", D->name + 1,
				             ", or list it as an observable");
			} else {
				cb_log(CUBIE_LOG_WARN, "%s: '%s' is computed but not used (not in any "
				       "equation and not an observable)", loc, D->name);
			}
		}
		D->mark = 0;
	}
	for (size_t d = 0; d < P->nd; d++)
		P->d[d].mark = 0;
	return rc;
}

/* Every state has an equation and every observable is one. */
static int check_model(const cubie_config *c, struct model *m, cubie_error *e)
{
	struct priv *P = m->priv;
	char loc[512];
	model_loc(c, "states", loc, sizeof loc);
	for (size_t i = 0; i < m->n_states; i++)
		if (P->deriv[i] == (size_t)-1)
			return cb_fail(e, CUBIE_ERR_CONFIG,
			               "%s: state '%s' has no equation (d%s in [equations])", loc,
			               m->states[i], m->states[i]);
	model_loc(c, "observables", loc, sizeof loc);
	for (size_t i = 0; i < m->n_obs; i++) {
		const struct sym *s = lookup(P, m->obs[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(m->obs[i], m->obs[j]))
				return cb_fail(e, CUBIE_ERR_CONFIG, "%s: observable '%s' is listed twice",
				               loc, m->obs[i]);
		if (!s)
			return cb_fail(e, CUBIE_ERR_CONFIG,
			               "%s: observable '%s' has no equation in [equations]", loc, m->obs[i]);
		if (s->kind != K_AUX)
			return cb_fail(e, CUBIE_ERR_CONFIG, "%s: observable '%s' is %s %s, not an equation",
			               loc, m->obs[i], A_(s->kind), kinds[s->kind]);
	}
	return 0;
}

int model_build(const cubie_config *c, struct model **out, cubie_error *e)
{
	struct model *m = calloc(1, sizeof *m);
	struct priv *P = calloc(1, sizeof *P);
	struct check chk = {.P = P, .e = e};
	const struct cfg_entry **ce = NULL, **ee = NULL;
	const char *name = cfg_str(c, "model", "name");
	size_t nc = 0, ne = 0, nsym;
	char loc[512];
	int rc;

	*out = NULL;
	if (!m || !P || !(m->name = cb_strdup(name ? name : "model"))) {
		free(P);
		model_free(m);
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	}
	m->priv = P;
	if (!(rc = read_model(c, m, e))) {
		ce = cfg_section(c, "constants", &nc);
		ee = cfg_section(c, "equations", &ne);
		if (!(rc = drivers_read(c, m->params, m->n_params, &m->drv, e)))
			nsym = m->n_states + m->n_params + (m->drv ? m->drv->n : 0) + nc + ne + 1;
		else
			nsym = 1;
		P->d = calloc(nc + ne + 1, sizeof *P->d);
		P->s = calloc(nsym, sizeof *P->s);
		P->deriv = malloc(m->n_states * sizeof *P->deriv);
		P->order = chk.order = malloc((nc + ne + 1) * sizeof *P->order);
		chk.stack = malloc((nc + ne + 1) * sizeof *chk.stack);
		chk.names = malloc(nsym * sizeof *chk.names);
		if (!P->d || !P->s || !P->deriv || !P->order || !chk.stack || !chk.names)
			rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	}
	for (size_t i = 0; !rc && i < m->n_states; i++)
		P->deriv[i] = (size_t)-1;
	for (size_t i = 0; !rc && i < m->n_states + m->n_params; i++) {
		int st = i < m->n_states;
		model_loc(c, st ? "states" : "parameters", loc, sizeof loc);
		rc = add_sym(P, st ? m->states[i] : m->params[i - m->n_states], st ? K_STATE : K_PARAM,
		             st ? i : i - m->n_states, loc, e);
	}
	for (size_t i = 0; !rc && m->drv && i < m->drv->n; i++)
		rc = add_sym(P, m->drv->d[i].name, K_DRIVER, i, m->drv->d[i].loc, e);
	if (!rc && !(rc = read_defs(m, ce, nc, ee, ne, e))) {
		P->s[P->ns++] = (struct sym){"t", K_TIME, 0};
		for (size_t i = 0; i < P->ns; i++)
			chk.names[i] = P->s[i].name;
		if (!(rc = check_model(c, m, e)) && !(rc = check_unused(m, e)) &&
		    !(rc = check_kind(&chk, K_CONST)))
			rc = check_kind(&chk, K_AUX);
		P->no = chk.n;
	}
	free(ce);
	free(ee);
	free(chk.stack);
	free(chk.names);
	if (rc)
		model_free(m);
	else
		*out = m;
	return rc;
}

void model_free(struct model *m)
{
	struct priv *P;
	if (!m)
		return;
	if ((P = m->priv)) {
		for (size_t i = 0; i < P->nd; i++) {
			free(P->d[i].name);
			free(P->d[i].loc);
			expr_free(P->d[i].x);
		}
		free(P->d);
		free(P->s);
		free(P->order);
		free(P->deriv);
		free(P);
	}
	cfg_free_names(m->states, m->n_states);
	cfg_free_names(m->params, m->n_params);
	cfg_free_names(m->obs, m->n_obs);
	drivers_free(m->drv);
	free(m->name);
	free(m);
}

int model_var(const struct model *m, const char *name)
{
	for (size_t i = 0; i < m->n_states; i++)
		if (!strcmp(m->states[i], name))
			return (int)i;
	for (size_t i = 0; i < m->n_obs; i++)
		if (!strcmp(m->obs[i], name))
			return (int)(m->n_states + i);
	return -1;
}

/* ---- code generation ---- */

struct gen {
	const struct priv *P;
	char *used; /* per symbol: needed by the function being written */
};

/* Marks a name and, for an auxiliary, everything it needs. */
static int use(const char *name, void *ctx)
{
	struct gen *g = ctx;
	const struct sym *s = lookup(g->P, name);
	if (!s) /* pi, e: folded */
		return 0;
	size_t k = (size_t)(s - g->P->s);
	if (!g->used[k]) {
		g->used[k] = 1;
		if (s->kind == K_AUX)
			expr_names(g->P->d[s->i].x, use, g);
	}
	return 0;
}

/* Constants never get here: they are folded into literals. A name that
 * starts with '#' is a derivative of an auxiliary (see model_jacobian),
 * which no user name can spell. */
static void emit_name(sbuf *b, const char *name, void *ctx)
{
	static const char *const prefix[] = {"s_", "p_", "t_", "c_", "a_", "d_"};
	if (*name == '#') {
		sb_add(b, "jd_%s", name + 1);
		return;
	}
	const struct sym *s = lookup(ctx, name);
	sb_add(b, "%s%s", prefix[s->kind], s->kind == K_TIME ? "" : name);
}

/* The drivers the function uses, each with its derivative jd_v<name>
 * (which only the Jacobian's d f / d t reads; the compiler drops it
 * elsewhere). */
static void emit_drivers(sbuf *b, const struct priv *P, const char *used)
{
	for (size_t i = 0; i < P->ns; i++)
		if (used[i] && P->s[i].kind == K_DRIVER)
			sb_add(b, "\tcubie_real jd_v%s;\n\tconst cubie_real d_%s = cubie_drv_%zu(t, p, "
			       "&jd_v%s);\n", P->s[i].name, P->s[i].name, P->s[i].i, P->s[i].name);
}

/* The declarations of the time, states (read from the array y) and
 * parameters that used marks; any[kind] says whether a kind was used. */
static void emit_inputs(sbuf *b, const struct priv *P, const char *used, const char *y, int any[3])
{
	any[K_STATE] = any[K_PARAM] = any[K_TIME] = 0;
	for (size_t i = 0; i < P->ns; i++)
		if (used[i] && P->s[i].kind <= K_TIME)
			any[P->s[i].kind] = 1;
	if (any[K_TIME])
		sb_add(b, "\tconst cubie_real t_ = CUBIE_R(t);\n");
	for (size_t i = 0; i < P->ns; i++)
		if (used[i] && P->s[i].kind <= K_PARAM)
			sb_add(b, "\tconst cubie_real %s_%s = %s[%zu];\n", P->s[i].kind ? "p" : "s",
			       P->s[i].name, P->s[i].kind ? "p" : y, P->s[i].i);
}

/* The auxiliaries that used marks, in dependency order. */
static void emit_aux(sbuf *b, const struct priv *P, const char *used)
{
	for (size_t k = 0; k < P->no; k++) {
		const struct def *D = &P->d[P->order[k]];
		if (!used[lookup(P, D->name) - P->s])
			continue;
		sb_add(b, "\tconst cubie_real a_%s = ", D->name);
		expr_emit(b, D->x, const_value, emit_name, (void *)P);
		sb_add(b, ";\n");
	}
}

/* cubie_rhs (name NULL), or a function of the variables save[] into v. */
static void emit_fn(sbuf *b, const struct model *m, struct gen *g, const char *name,
                    const int *save, size_t n_save)
{
	const int saved = name != NULL;
	const struct priv *P = g->P;
	const char *out = saved ? "v" : "dydt";
	int any[3]; /* states, parameters, t used */

	memset(g->used, 0, P->ns);
	for (size_t i = 0; !saved && i < m->n_states; i++)
		expr_names(P->d[P->deriv[i]].x, use, g);
	for (size_t k = 0; k < n_save; k++)
		use((size_t)save[k] < m->n_states ? m->states[save[k]] : m->obs[save[k] - m->n_states], g);
	sb_add(b, "CUBIE_DEV void cubie_%s(double t, const cubie_real *y, const cubie_real *p, "
	       "cubie_real *%s)\n{\n", saved ? name : "rhs", out);
	emit_inputs(b, P, g->used, "y", any);
	sb_add(b, "%s%s%s%s", any[K_TIME] ? "" : "\t(void)t;\n", any[K_STATE] ? "" : "\t(void)y;\n",
	       any[K_PARAM] ? "" : "\t(void)p;\n", saved && !n_save ? "\t(void)v;\n" : "");
	emit_drivers(b, P, g->used);
	emit_aux(b, P, g->used);
	for (size_t i = 0; !saved && i < m->n_states; i++) {
		sb_add(b, "\tdydt[%zu] = ", i);
		expr_emit(b, P->d[P->deriv[i]].x, const_value, emit_name, (void *)P);
		sb_add(b, ";\n");
	}
	for (size_t k = 0; k < n_save; k++) {
		sb_add(b, "\tv[%zu] = ", k);
		emit_name(b, (size_t)save[k] < m->n_states ? m->states[save[k]]
		                                           : m->obs[save[k] - m->n_states], (void *)P);
		sb_add(b, ";\n");
	}
	sb_add(b, "}\n");
}

char *model_source(const struct model *m, const int *save, size_t n_save, const int *summ,
                   size_t n_summ)
{
	struct gen g = {m->priv, calloc(((struct priv *)m->priv)->ns, 1)};
	sbuf b = {0};
	int safe = 1;
	for (size_t k = 0; k < n_save; k++)
		if (save[k] < 0 || (size_t)save[k] >= m->n_states + m->n_obs)
			return free(g.used), NULL;
	for (size_t k = 0; k < n_summ; k++)
		if (summ[k] < 0 || (size_t)summ[k] >= m->n_states + m->n_obs)
			return free(g.used), NULL;
	if (!g.used)
		return NULL;
	for (const char *s = m->name; *s; s++) /* it goes into a comment */
		safe &= isalnum((unsigned char)*s) || strchr("_-. ", *s);
	sb_add(&b, "/* Model%s%s%s, generated by cubie. */\n", safe ? " '" : "", safe ? m->name : "",
	       safe ? "'" : "");
	sb_add(&b, "#define CUBIE_NSTATES %zu\n#define CUBIE_NPARAMS %zu\n#define CUBIE_NSAVED %zu\n\n",
	       m->n_states, m->n_params, n_save);
	sb_add(&b, "%s\n", expr_helpers);
	if (m->drv)
		drivers_source(m->drv, &b);
	emit_fn(&b, m, &g, NULL, NULL, 0);
	sb_add(&b, "\n");
	emit_fn(&b, m, &g, "saved", save, n_save);
	if (n_summ) {
		sb_add(&b, "\n");
		emit_fn(&b, m, &g, "summarised", summ, n_summ);
	}
	free(g.used);
	return b.s;
}

/* ---- derivatives, for implicit integrators ---- */

/* Forward differentiation through the auxiliaries: each auxiliary that
 * depends on a variable gets its own derivative (jd_<def>_<var>), computed
 * once and shared by every entry that uses it. Variables are the states,
 * 0..n-1, and t, n. */
struct jgen {
	struct gen g;
	size_t n;           /* states */
	size_t var;         /* the variable being differentiated by */
	struct expr **daux; /* [def][n + 1] */
	char *dused;        /* [def][n + 1]: needed by the function being written */
	struct expr **cse;  /* shared subexpressions of that function, "#c<k>" */
	size_t n_cse;
	char buf[300];
};

static int jdep(const char *name, void *ctx, const char **dname)
{
	struct jgen *J = ctx;
	const struct sym *s = lookup(J->g.P, name);
	if (!s)
		return 0;
	if (s->kind == K_STATE || s->kind == K_TIME)
		return (s->kind == K_STATE ? s->i : J->n) == J->var;
	if (s->kind == K_DRIVER && J->var == J->n) { /* a driver depends on t only */
		snprintf(J->buf, sizeof J->buf, "#v%s", name);
		*dname = J->buf;
		return 2;
	}
	if (s->kind == K_AUX && J->daux[s->i * (J->n + 1) + J->var]) {
		snprintf(J->buf, sizeof J->buf, "#%zu_%zu", s->i, J->var);
		*dname = J->buf;
		return 2;
	}
	return 0;
}

static int jvalue(const char *name, double *v, void *ctx)
{
	return const_value(name, v, (void *)((struct jgen *)ctx)->g.P);
}

static int juse(const char *name, void *ctx)
{
	struct jgen *J = ctx;
	size_t d, v;
	if (name[0] == '#' && name[1] == 'c') /* a temporary: its names count */
		return sscanf(name + 2, "%zu", &d) == 1 && d < J->n_cse
			? expr_names(J->cse[d], juse, J) : 0;
	if (name[0] == '#' && name[1] == 'v') /* a driver's derivative: the driver gives it */
		return use(name + 2, &J->g);
	if (*name == '#' && sscanf(name + 1, "%zu_%zu", &d, &v) == 2) {
		size_t k = d * (J->n + 1) + v;
		if (!J->dused[k]) {
			J->dused[k] = 1;
			expr_names(J->daux[k], juse, J);
		}
		return 0;
	}
	return use(name, &J->g);
}

/* cubie_jac (vars 0..n-1, out[i n + j]) or cubie_dfdt (var n, out[i]).
 * Subtrees shared by its entries are computed once, as temporaries. */
static int emit_deriv(sbuf *b, struct jgen *J, struct expr **ent, int dfdt)
{
	const struct priv *P = J->g.P;
	const size_t n = J->n, nv = n + 1, m = dfdt ? n : n * n;
	int any[3];
	struct expr **roots = malloc(m * sizeof *roots);
	if (!roots)
		return -1;
	for (size_t i = 0; i < m; i++)
		roots[i] = ent[dfdt ? i * nv + n : i / n * nv + i % n];
	int rc = expr_cse(roots, m, jvalue, J, &J->cse, &J->n_cse);
	for (size_t i = 0; i < m; i++)
		ent[dfdt ? i * nv + n : i / n * nv + i % n] = roots[i];
	free(roots);
	if (rc)
		return -1;
	memset(J->g.used, 0, P->ns);
	memset(J->dused, 0, P->nd * nv);
	for (size_t i = 0; i < n; i++)
		for (size_t v = dfdt ? n : 0; v < (dfdt ? nv : n); v++)
			expr_names(ent[i * nv + v], juse, J);
	sb_add(b, "CUBIE_DEV void cubie_%s(double t, const cubie_real *y, const cubie_real *p, "
	       "cubie_real *%s)\n{\n", dfdt ? "dfdt" : "jac", dfdt ? "dfdt" : "J");
	emit_inputs(b, P, J->g.used, "y", any);
	sb_add(b, "%s%s%s", any[K_TIME] ? "" : "\t(void)t;\n", any[K_STATE] ? "" : "\t(void)y;\n",
	       any[K_PARAM] ? "" : "\t(void)p;\n");
	emit_drivers(b, P, J->g.used);
	emit_aux(b, P, J->g.used);
	for (size_t k = 0; k < P->no; k++)
		for (size_t v = 0; v < nv; v++) {
			size_t at = P->order[k] * nv + v;
			if (!J->dused[at])
				continue;
			sb_add(b, "\tconst cubie_real jd_%zu_%zu = ", P->order[k], v);
			expr_emit(b, J->daux[at], const_value, emit_name, (void *)P);
			sb_add(b, ";\n");
		}
	for (size_t k = J->n_cse; k-- > 0;) {
		sb_add(b, "\tconst cubie_real jd_c%zu = ", k);
		expr_emit(b, J->cse[k], const_value, emit_name, (void *)P);
		sb_add(b, ";\n");
	}
	for (size_t k = 0; k < J->n_cse; k++)
		expr_free(J->cse[k]);
	free(J->cse);
	J->cse = NULL;
	J->n_cse = 0;
	/* structural zeros are written once, as constants the compiler sees */
	sb_add(b, "\tCUBIE_UNROLL\n\tfor (int k = 0; k < %zu; k++)\n\t\t%s[k] = CUBIE_R(0);\n",
	       dfdt ? n : n * n, dfdt ? "dfdt" : "J");
	for (size_t i = 0; i < n; i++)
		for (size_t v = dfdt ? n : 0; v < (dfdt ? nv : n); v++) {
			if (!ent[i * nv + v])
				continue;
			sb_add(b, "\t%s[%zu] = ", dfdt ? "dfdt" : "J", dfdt ? i : i * n + v);
			expr_emit(b, ent[i * nv + v], const_value, emit_name, (void *)P);
			sb_add(b, ";\n");
		}
	sb_add(b, "}\n");
	return 0;
}

int model_jacobian(const struct model *m, const char *why, char **out, cubie_error *e)
{
	const struct priv *P = m->priv;
	const size_t n = m->n_states, nv = n + 1;
	struct jgen J = {.g = {P, calloc(P->ns, 1)}, .n = n};
	struct expr **ent = calloc(n * nv, sizeof *ent);
	const char *bad = NULL;
	const struct def *where = NULL;
	int rc = 0, autonomous = 1;
	J.daux = calloc(P->nd * nv, sizeof *J.daux);
	J.dused = calloc(P->nd * nv, 1);
	*out = NULL;
	if (!J.g.used || !ent || !J.daux || !J.dused)
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	/* auxiliaries in dependency order, so that jdep sees theirs first */
	for (size_t k = 0; !rc && k < P->no && !bad; k++)
		for (J.var = 0; J.var < nv && !bad; J.var++) {
			where = &P->d[P->order[k]];
			J.daux[P->order[k] * nv + J.var] = expr_diff(where->x, jdep, jvalue, &J, &bad);
		}
	for (size_t i = 0; !rc && i < n && !bad; i++)
		for (J.var = 0; J.var < nv && !bad; J.var++) {
			where = &P->d[P->deriv[i]];
			ent[i * nv + J.var] = expr_diff(where->x, jdep, jvalue, &J, &bad);
			autonomous &= J.var < n || !ent[i * nv + J.var];
		}
	if (!rc && bad)
		rc = cb_fail(e, CUBIE_ERR_CONFIG,
		             "%s: %s cannot be differentiated: '%s' has no derivative, and %s needs "
		             "the Jacobian", where->loc ? where->loc : m->name, where->name, bad, why);
	if (!rc) {
		sbuf b = {0};
		sb_add(&b, "\n/* d f / d y (row-major) and d f / d t, derived from the equations */\n"
		       "#define CUBIE_AUTONOMOUS %d\n", autonomous);
		if (emit_deriv(&b, &J, ent, 0) || (sb_add(&b, "\n"), emit_deriv(&b, &J, ent, 1)) ||
		    !(*out = b.s)) {
			free(b.s);
			rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		}
	}
	for (size_t k = 0; ent && k < n * nv; k++)
		expr_free(ent[k]);
	for (size_t k = 0; J.daux && k < P->nd * nv; k++)
		expr_free(J.daux[k]);
	free(ent);
	free(J.daux);
	free(J.dused);
	free(J.g.used);
	return rc;
}

/* ---- events ---- */

struct evcheck {
	const struct priv *P;
	const char *loc, *what;
	cubie_error *e;
};

/* Names an event's expression may use: anything an equation may. */
static int ev_name(const char *name, void *ctx)
{
	struct evcheck *c = ctx;
	double v;
	if (lookup(c->P, name) || expr_builtin(name, &v))
		return 0;
	const char *cands[64];
	size_t n = 0;
	for (size_t i = 0; i < c->P->ns && n < 64; i++)
		cands[n++] = c->P->s[i].name;
	const char *h = expr_hint(name, cands, n);
	return cb_fail(c->e, CUBIE_ERR_CONFIG, "%s: unknown name '%s' in %s%s%s%s", c->loc, name,
	               c->what, h ? " (did you mean '" : "", h ? h : "", h ? "'?)" : "");
}

static int ev_parse(const struct priv *P, const char *text, const char *loc, const char *what,
                    struct expr **x, cubie_error *e)
{
	char err[256];
	struct evcheck c = {P, loc, what, e};
	if (expr_parse(text, x, err, sizeof err))
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: syntax error in %s: %s", loc, what, err);
	return expr_names(*x, ev_name, &c);
}

/* The declarations of what g->used marks: t, states, parameters, then
 * auxiliaries in dependency order (as emit_fn writes them). */
static void ev_head(sbuf *b, const struct priv *P, struct gen *g, const char *y)
{
	int any[3];
	emit_inputs(b, P, g->used, y, any);
	emit_aux(b, P, g->used);
}

/* "v := -0.9 * v, x := 0": the parts at top-level commas. */
static char **ev_split(const char *s, size_t *n)
{
	char **v = calloc(strlen(s) + 2, sizeof *v);
	int depth = 0;
	const char *start = s;
	*n = 0;
	for (const char *p = s; v; p++) {
		depth += *p == '(' ? 1 : *p == ')' ? -1 : 0;
		if (*p == 0 || (*p == ',' && depth == 0)) {
			if (!(v[(*n)++] = cb_printf("%.*s", (int)(p - start), start))) {
				cfg_free_names(v, *n - 1);
				return NULL;
			}
			start = p + 1;
			if (!*p)
				break;
		}
	}
	return v;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	return s;
}

int model_events(const struct model *m, const struct event_src *ev, size_t n, char **out,
                 cubie_error *e)
{
	const struct priv *P = m->priv;
	struct gen g = {P, calloc(P->ns + 1, 1)};
	struct expr **x = calloc(n + 1, sizeof *x);
	sbuf b = {0}, r = {0};
	int rc = g.used && x ? 0 : cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	*out = NULL;
	for (size_t k = 0; !rc && k < n; k++) {
		char what[200];
		snprintf(what, sizeof what, "event %s", ev[k].name);
		rc = ev_parse(P, ev[k].expr, ev[k].loc, what, &x[k], e);
	}
	if (!rc) {
		memset(g.used, 0, P->ns);
		for (size_t k = 0; k < n; k++)
			expr_names(x[k], use, &g);
		sb_add(&b, "\n/* [events]: the functions whose zeros are events, and the resets */\n"
		       "CUBIE_DEV void cubie_events(double t, const cubie_real *y, const cubie_real *p, "
		       "cubie_real *g)\n{\n\t(void)t, (void)y, (void)p;\n");
		ev_head(&b, P, &g, "y");
		for (size_t k = 0; k < n; k++) {
			sb_add(&b, "\tg[%zu] = ", k);
			expr_emit(&b, x[k], const_value, emit_name, (void *)P);
			sb_add(&b, ";\n");
		}
		sb_add(&b, "}\n\nCUBIE_DEV void cubie_event_reset(int k, double t, cubie_real *y, "
		       "const cubie_real *p)\n{\n\t(void)k, (void)t, (void)y, (void)p;\n");
	}
	/* assignments at once: every right side from the state before */
	for (size_t k = 0; !rc && k < n; k++) {
		if (!ev[k].reset)
			continue;
		size_t np = 0;
		char **parts = ev_split(ev[k].reset, &np);
		struct expr **rx = parts ? calloc(np, sizeof *rx) : NULL;
		size_t *to = parts ? calloc(np, sizeof *to) : NULL;
		if (!rx || !to)
			rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		for (size_t i = 0; !rc && i < np; i++) {
			char *as = strstr(parts[i], ":="), what[200];
			if (!as) {
				rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [events] %s.action: '%s' is not an "
				             "assignment 'state := expression'", ev[k].reset_loc,
				             ev[k].name, trim(parts[i]));
				break;
			}
			*as = 0;
			const char *lhs = trim(parts[i]);
			const struct sym *s = lookup(P, lhs);
			if (!s || s->kind != K_STATE) {
				rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [events] %s.action: '%s' is not a "
				             "state: a reset assigns states", ev[k].reset_loc, ev[k].name,
				             lhs);
				break;
			}
			for (size_t j = 0; j < i; j++)
				if (to[j] == s->i)
					rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [events] %s.action: '%s' is "
					             "assigned twice", ev[k].reset_loc, ev[k].name, lhs);
			to[i] = s->i;
			snprintf(what, sizeof what, "the reset of event %s", ev[k].name);
			if (!rc)
				rc = ev_parse(P, as + 2, ev[k].reset_loc, what, &rx[i], e);
		}
		if (!rc) {
			memset(g.used, 0, P->ns);
			for (size_t i = 0; i < np; i++)
				expr_names(rx[i], use, &g);
			sb_add(&r, "\tif (k == %zu) {\n", k);
			sbuf h = {0};
			ev_head(&h, P, &g, "y");
			for (const char *l = h.s; l && *l;) { /* indent the block */
				const char *nl = strchr(l, '\n');
				sb_add(&r, "\t%.*s", (int)(nl ? nl - l + 1 : (ptrdiff_t)strlen(l)), l);
				l = nl ? nl + 1 : l + strlen(l);
			}
			free(h.s);
			for (size_t i = 0; i < np; i++) {
				sb_add(&r, "\t\tconst cubie_real r_%zu = ", i);
				expr_emit(&r, rx[i], const_value, emit_name, (void *)P);
				sb_add(&r, ";\n");
			}
			for (size_t i = 0; i < np; i++)
				sb_add(&r, "\t\ty[%zu] = r_%zu;\n", to[i], i);
			sb_add(&r, "\t}\n");
		}
		for (size_t i = 0; rx && i < np; i++)
			expr_free(rx[i]);
		free(rx);
		free(to);
		if (parts)
			cfg_free_names(parts, np);
	}
	if (!rc) {
		sb_add(&b, "%s}\n", r.s ? r.s : "");
		if (!b.s)
			rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	}
	for (size_t k = 0; x && k < n; k++)
		expr_free(x[k]);
	free(x);
	free(g.used);
	free(r.s);
	if (rc)
		free(b.s);
	else
		*out = b.s;
	return rc;
}
