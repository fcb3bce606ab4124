/* Symbolic differentiation of the expression AST, for the Jacobians of
 * implicit integrators. The result is built through small simplifying
 * constructors: a zero derivative is NULL (so zero entries vanish as they
 * are formed), x + 0, x * 1, 0 * x, x^1 and numeric subtrees fold, and the
 * emitter folds whatever involves the model's constants. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "expr_ast.h"

struct dctx {
	expr_dep_fn dep;
	expr_value_fn value;
	void *ctx;
	const char *bad; /* first function without a derivative */
	int oom;
};

static struct expr *node(struct dctx *D, int op, struct expr *a, struct expr *b, struct expr *c)
{
	struct expr *x = calloc(1, sizeof *x);
	if (!x) {
		D->oom = 1;
		expr_free(a), expr_free(b), expr_free(c);
		return NULL;
	}
	x->op = op;
	x->a[0] = a, x->a[1] = b, x->a[2] = c;
	/* the walkers size their stacks by it (expr_names); a tree that
	 * shrinks later (a shared subtree replaced by a name) keeps a bound */
	for (int i = 0; i < 3; i++)
		if (x->a[i] && x->a[i]->height > x->height)
			x->height = x->a[i]->height;
	x->height++;
	return x;
}

/* A number node; unlike the constructors below, 0 is a real node here. */
static struct expr *num(struct dctx *D, double v)
{
	struct expr *x = node(D, X_NUM, NULL, NULL, NULL);
	if (x)
		x->num = v;
	return x;
}

static struct expr *name(struct dctx *D, const char *s)
{
	struct expr *x = node(D, X_NAME, NULL, NULL, NULL);
	if (x && !(x->name = cb_strdup(s)))
		x = (expr_free(x), D->oom = 1, NULL);
	return x;
}

static struct expr *clone(struct dctx *D, const struct expr *x)
{
	if (!x)
		return NULL;
	struct expr *y = node(D, x->op, clone(D, x->a[0]), clone(D, x->a[1]), clone(D, x->a[2]));
	if (!y)
		return NULL;
	y->num = x->num;
	y->fn = x->fn;
	if (x->name && !(y->name = cb_strdup(x->name)))
		y = (expr_free(y), D->oom = 1, NULL);
	return y;
}

static struct expr *call(struct dctx *D, const char *fn, struct expr *a, struct expr *b)
{
	struct expr *x = node(D, X_CALL, a, b, NULL);
	if (x)
		x->fn = expr_fn_find(fn);
	return x;
}

static int is_num(const struct expr *x, double v)
{
	return x && x->op == X_NUM && x->num == v;
}

/* ---- simplifying constructors: NULL is zero ---- */

static struct expr *s_neg(struct dctx *D, struct expr *a)
{
	if (!a)
		return NULL;
	if (a->op == X_NUM) {
		a->num = -a->num;
		return a;
	}
	if (a->op == X_NEG) {
		struct expr *in = a->a[0];
		a->a[0] = NULL;
		expr_free(a);
		return in;
	}
	return node(D, X_NEG, a, NULL, NULL);
}

static struct expr *s_add(struct dctx *D, struct expr *a, struct expr *b)
{
	if (!a || !b)
		return a ? a : b;
	if (a->op == X_NUM && b->op == X_NUM) {
		a->num += b->num;
		expr_free(b);
		return a->num == 0 ? (expr_free(a), NULL) : a;
	}
	if (b->op == X_NEG) { /* a + -c = a - c */
		struct expr *c = b->a[0];
		b->a[0] = NULL;
		expr_free(b);
		return node(D, X_SUB, a, c, NULL);
	}
	return node(D, X_ADD, a, b, NULL);
}

static struct expr *s_sub(struct dctx *D, struct expr *a, struct expr *b)
{
	if (!b)
		return a;
	if (!a)
		return s_neg(D, b);
	if (a->op == X_NUM && b->op == X_NUM) {
		a->num -= b->num;
		expr_free(b);
		return a->num == 0 ? (expr_free(a), NULL) : a;
	}
	return node(D, X_SUB, a, b, NULL);
}

static int constant(struct dctx *D, const struct expr *x, double *v);

static struct expr *s_mul(struct dctx *D, struct expr *a, struct expr *b)
{
	double va, vb;
	if (!a || !b) {
		expr_free(a), expr_free(b);
		return NULL;
	}
	/* constants first, and c1 * (c2 * x) = (c1 c2) * x */
	if (constant(D, b, &vb) && !constant(D, a, &va)) {
		struct expr *x = a;
		a = b, b = x;
	}
	if (constant(D, a, &va) && b->op == X_MUL && constant(D, b->a[0], &vb)) {
		struct expr *x = b->a[1];
		b->a[1] = NULL;
		expr_free(a), expr_free(b);
		return s_mul(D, num(D, va * vb), x);
	}
	if (a->op == X_NUM && b->op == X_NUM) {
		a->num *= b->num;
		expr_free(b);
		return a;
	}
	if (is_num(a, 1) || is_num(b, 1)) {
		struct expr *o = is_num(a, 1) ? b : a;
		expr_free(o == a ? b : a);
		return o;
	}
	if (is_num(a, -1) || is_num(b, -1)) {
		struct expr *o = is_num(a, -1) ? b : a;
		expr_free(o == a ? b : a);
		return s_neg(D, o);
	}
	return node(D, X_MUL, a, b, NULL);
}

static struct expr *s_div(struct dctx *D, struct expr *a, struct expr *b)
{
	if (!a) {
		expr_free(b);
		return NULL;
	}
	if (is_num(b, 1)) {
		expr_free(b);
		return a;
	}
	return node(D, X_DIV, a, b, NULL);
}

/* a^k for a number k, simplified. */
static struct expr *s_powk(struct dctx *D, struct expr *a, double k)
{
	if (k == 0) {
		expr_free(a);
		return num(D, 1);
	}
	if (k == 1)
		return a;
	return node(D, X_POW, a, num(D, k), NULL);
}

/* ---- derivative rules ---- */

static struct expr *d(struct dctx *D, const struct expr *x);

/* The value of x when it has one at build time (numbers and constants). */
static int constant(struct dctx *D, const struct expr *x, double *v)
{
	return expr_eval(x, D->value, D->ctx, v) == 0 && isfinite(*v);
}

/* d(a^b) = b a^(b-1) da + a^b log(a) db */
static struct expr *d_pow(struct dctx *D, const struct expr *a, const struct expr *b)
{
	struct expr *da = d(D, a), *db = d(D, b), *r = NULL;
	double k;
	if (da) {
		struct expr *p = constant(D, b, &k)
			? s_mul(D, num(D, k), s_powk(D, clone(D, a), k - 1))
			: s_mul(D, clone(D, b),
			        node(D, X_POW, clone(D, a), s_sub(D, clone(D, b), num(D, 1)), NULL));
		r = s_mul(D, p, da);
	}
	if (db) {
		struct expr *p = node(D, X_POW, clone(D, a), clone(D, b), NULL);
		r = s_add(D, r, s_mul(D, s_mul(D, p, call(D, "log", clone(D, a), NULL)), db));
	}
	return r;
}

/* A conditional's value: c ? a : b, where a zero branch is a real 0. */
static struct expr *d_cond(struct dctx *D, struct expr *c, struct expr *a, struct expr *b)
{
	if (!a && !b) {
		expr_free(c);
		return NULL;
	}
	return node(D, X_COND, c, a ? a : num(D, 0), b ? b : num(D, 0));
}

static struct expr *d_call(struct dctx *D, const struct expr *x)
{
	const char *fn = expr_fn_name(x->fn);
	const struct expr *a = x->a[0], *b = x->a[1];
	if (!fn) {
		D->bad = D->bad ? D->bad : "(unknown function)";
		return NULL;
	}
	if (!strcmp(fn, "pow"))
		return d_pow(D, a, b);
	if (!strcmp(fn, "floor") || !strcmp(fn, "ceil") || !strcmp(fn, "round") ||
	    !strcmp(fn, "trunc") || !strcmp(fn, "sign") || !strcmp(fn, "heaviside") ||
	    !strcmp(fn, "step"))
		return NULL; /* piecewise constant: zero wherever it exists */
	if (!strcmp(fn, "mod")) { /* a - b floor(a / b): da - floor(a / b) db */
		struct expr *da = d(D, a), *db = d(D, b);
		return s_sub(D, da, db ? s_mul(D, call(D, "floor", node(D, X_DIV, clone(D, a),
		                                                               clone(D, b), NULL),
		                                       NULL), db) : NULL);
	}
	if (!strcmp(fn, "hypot")) { /* (a da + b db) / hypot(a, b) */
		struct expr *da = d(D, a), *db = d(D, b);
		if (!da && !db)
			return NULL;
		return s_div(D, s_add(D, da ? s_mul(D, clone(D, a), da) : NULL,
		                      db ? s_mul(D, clone(D, b), db) : NULL), clone(D, x));
	}
	if (!strcmp(fn, "min") || !strcmp(fn, "max"))
		return d_cond(D, node(D, !strcmp(fn, "min") ? X_LE : X_GE, clone(D, a), clone(D, b), NULL),
		              d(D, a), d(D, b));
	if (!strcmp(fn, "atan2")) { /* atan2(a, b): (b da - a db) / (a^2 + b^2) */
		struct expr *da = d(D, a), *db = d(D, b);
		if (!da && !db)
			return NULL;
		struct expr *n = s_sub(D, s_mul(D, clone(D, b), da), s_mul(D, clone(D, a), db));
		return s_div(D, n, node(D, X_ADD, s_powk(D, clone(D, a), 2), s_powk(D, clone(D, b), 2),
		                        NULL));
	}
	struct expr *da = d(D, a), *g = NULL;
	if (!da)
		return NULL;
	if (!strcmp(fn, "exp"))
		g = clone(D, x);
	else if (!strcmp(fn, "log"))
		return s_div(D, da, clone(D, a));
	else if (!strcmp(fn, "log10"))
		return s_div(D, da, s_mul(D, num(D, log(10.0)), clone(D, a)));
	else if (!strcmp(fn, "sqrt"))
		return s_div(D, da, s_mul(D, num(D, 2), clone(D, x)));
	else if (!strcmp(fn, "sin"))
		g = call(D, "cos", clone(D, a), NULL);
	else if (!strcmp(fn, "cos"))
		g = s_neg(D, call(D, "sin", clone(D, a), NULL));
	else if (!strcmp(fn, "tan"))
		return s_div(D, da, s_powk(D, call(D, "cos", clone(D, a), NULL), 2));
	else if (!strcmp(fn, "asin") || !strcmp(fn, "acos")) {
		struct expr *r = s_div(D, da, call(D, "sqrt", s_sub(D, num(D, 1),
		                                                     s_powk(D, clone(D, a), 2)), NULL));
		return fn[1] == 'c' ? s_neg(D, r) : r;
	} else if (!strcmp(fn, "atan"))
		return s_div(D, da, s_add(D, num(D, 1), s_powk(D, clone(D, a), 2)));
	else if (!strcmp(fn, "sinh"))
		g = call(D, "cosh", clone(D, a), NULL);
	else if (!strcmp(fn, "cosh"))
		g = call(D, "sinh", clone(D, a), NULL);
	else if (!strcmp(fn, "tanh"))
		g = s_sub(D, num(D, 1), s_powk(D, clone(D, x), 2));
	else if (!strcmp(fn, "cbrt"))
		return s_div(D, da, s_mul(D, num(D, 3), s_powk(D, clone(D, x), 2)));
	else if (!strcmp(fn, "log2"))
		return s_div(D, da, s_mul(D, num(D, log(2.0)), clone(D, a)));
	else if (!strcmp(fn, "exp2"))
		g = s_mul(D, num(D, log(2.0)), clone(D, x));
	else if (!strcmp(fn, "log1p"))
		return s_div(D, da, s_add(D, num(D, 1), clone(D, a)));
	else if (!strcmp(fn, "expm1"))
		g = call(D, "exp", clone(D, a), NULL);
	else if (!strcmp(fn, "erf") || !strcmp(fn, "erfc")) /* -+2/sqrt(pi) exp(-a^2) */
		g = s_mul(D, num(D, (fn[3] ? -2 : 2) / sqrt(3.14159265358979323846)),
		          call(D, "exp", s_neg(D, s_powk(D, clone(D, a), 2)), NULL));
	else if (!strcmp(fn, "asinh") || !strcmp(fn, "acosh")) /* 1 / sqrt(a^2 +- 1) */
		return s_div(D, da, call(D, "sqrt", node(D, fn[1] == 's' ? X_ADD : X_SUB,
		                                         s_powk(D, clone(D, a), 2), num(D, 1), NULL),
		                         NULL));
	else if (!strcmp(fn, "atanh"))
		return s_div(D, da, s_sub(D, num(D, 1), s_powk(D, clone(D, a), 2)));
	else if (!strcmp(fn, "abs")) {
		struct expr *nda = s_neg(D, clone(D, da));
		return d_cond(D, node(D, X_GE, clone(D, a), num(D, 0), NULL), da, nda);
	} else {
		if (!D->bad)
			D->bad = fn;
		expr_free(da);
		return NULL;
	}
	return s_mul(D, g, da);
}

static struct expr *d(struct dctx *D, const struct expr *x)
{
	const struct expr *a = x->a[0], *b = x->a[1];
	const char *dn = NULL;
	double v;
	if (D->bad || D->oom)
		return NULL;
	switch (x->op) {
	case X_NUM:
		return NULL;
	case X_NAME:
		switch (D->dep(x->name, D->ctx, &dn)) {
		case 1: return num(D, 1);
		case 2: return name(D, dn);
		default: return NULL;
		}
	case X_NEG: return s_neg(D, d(D, a));
	case X_ADD: return s_add(D, d(D, a), d(D, b));
	case X_SUB: return s_sub(D, d(D, a), d(D, b));
	case X_MUL: {
		struct expr *da = d(D, a), *db = d(D, b);
		return s_add(D, da ? s_mul(D, da, clone(D, b)) : NULL, db ? s_mul(D, clone(D, a), db) : NULL);
	}
	case X_DIV: { /* da / b - a db / b^2 */
		struct expr *da = d(D, a), *db = d(D, b);
		if (db && constant(D, a, &v))
			return s_mul(D, s_neg(D, num(D, v)), s_div(D, db, s_powk(D, clone(D, b), 2)));
		return s_sub(D, da ? s_div(D, da, clone(D, b)) : NULL,
		             db ? s_div(D, s_mul(D, clone(D, a), db), s_powk(D, clone(D, b), 2)) : NULL);
	}
	case X_POW: return d_pow(D, a, b);
	case X_CALL: return d_call(D, x);
	case X_COND: return d_cond(D, clone(D, a), d(D, b), d(D, x->a[2]));
	default: /* comparisons and logic: piecewise constant */
		return NULL;
	}
}

struct expr *expr_diff(const struct expr *x, expr_dep_fn dep, expr_value_fn value, void *ctx,
                       const char **bad)
{
	struct dctx D = {dep, value, ctx, NULL, 0};
	double v;
	struct expr *r = constant(&D, x, &v) ? NULL : d(&D, x);
	if (D.bad || D.oom) {
		expr_free(r);
		*bad = D.bad ? D.bad : "(out of memory)";
		return NULL;
	}
	*bad = NULL;
	return r;
}

/* ---- shared subexpressions ---- */

static int same_tree(const struct expr *a, const struct expr *b)
{
	if (!a || !b)
		return a == b;
	if (a->op != b->op || a->fn != b->fn || memcmp(&a->num, &b->num, sizeof a->num) ||
	    (a->name || b->name ? !a->name || !b->name || strcmp(a->name, b->name) : 0))
		return 0;
	for (int i = 0; i < 3; i++)
		if (!same_tree(a->a[i], b->a[i]))
			return 0;
	return 1;
}

static size_t tree_size(const struct expr *x)
{
	return x ? 1 + tree_size(x->a[0]) + tree_size(x->a[1]) + tree_size(x->a[2]) : 0;
}

struct slots {
	struct expr **s[4096];
	size_t n;
};

/* The places of the subtrees worth sharing: not a leaf, not a build-time
 * constant (the emitter folds those), and not a bare product or sum of two
 * leaves, which costs less than the temporary's name. */
static void collect(struct dctx *D, struct expr **slot, struct slots *S)
{
	struct expr *x = *slot;
	double v;
	if (!x || x->op == X_NUM || x->op == X_NAME)
		return;
	if (S->n < sizeof S->s / sizeof S->s[0] && !constant(D, x, &v) &&
	    (tree_size(x) > 3 || x->op == X_CALL || x->op == X_POW))
		S->s[S->n++] = slot;
	for (int i = 0; i < 3; i++)
		collect(D, &x->a[i], S);
}

int expr_cse(struct expr **roots, size_t n_roots, expr_value_fn value, void *ctx,
             struct expr ***defs, size_t *n_defs)
{
	struct dctx D = {NULL, value, ctx, NULL, 0};
	struct slots *S = malloc(sizeof *S);
	struct expr **out = NULL;
	size_t n_out = 0;
	int rc = 0;
	if (!S)
		return -1;
	for (;;) {
		/* room for this round's temporary first: slots point into out[] */
		struct expr **grown = realloc(out, (n_out + 1) * sizeof *out);
		if (!grown) {
			rc = -1;
			break;
		}
		out = grown;
		/* the largest subtree that occurs twice, in the roots or in the
		 * temporaries made so far */
		S->n = 0;
		for (size_t r = 0; r < n_roots; r++)
			collect(&D, &roots[r], S);
		for (size_t k = 0; k < n_out; k++)
			collect(&D, &out[k], S);
		size_t best = (size_t)-1, best_size = 0;
		for (size_t i = 0; i < S->n; i++) {
			size_t sz = tree_size(*S->s[i]);
			if (sz <= best_size)
				continue;
			for (size_t j = 0; j < S->n; j++)
				if (j != i && same_tree(*S->s[i], *S->s[j])) {
					best = i, best_size = sz;
					break;
				}
		}
		if (best == (size_t)-1)
			break;
		struct expr *def = clone(&D, *S->s[best]);
		char tmp[32];
		if (!def) {
			rc = -1;
			break;
		}
		snprintf(tmp, sizeof tmp, "#c%zu", n_out);
		/* every occurrence becomes the temporary's name. All are found
		 * before any is replaced, as a replacement frees slots inside it;
		 * occurrences never nest (they have the same size). Slots are
		 * collected afresh each round. */
		size_t k = 0;
		for (size_t j = 0; j < S->n; j++)
			if (same_tree(*S->s[j], def))
				S->s[k++] = S->s[j];
		for (size_t j = 0; j < k; j++) {
			struct expr *nm = name(&D, tmp);
			if (!nm) {
				rc = -1;
				break;
			}
			expr_free(*S->s[j]);
			*S->s[j] = nm;
		}
		out[n_out++] = def;
		if (rc || D.oom)
			break;
	}
	free(S);
	*defs = out;
	*n_defs = n_out;
	return rc || D.oom ? -1 : 0;
}
