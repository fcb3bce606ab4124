/* Expressions of the model file: a tokenizer and recursive-descent parser
 * into an AST, evaluation in double, and C code generation. The AST is the
 * only road from user text to generated code: names come out as whatever
 * the caller's emitter writes, numbers as CUBIE_R(literal). */
#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* The AST. */
enum { X_NUM, X_NAME, X_CALL, X_NEG, X_NOT, X_ADD, X_SUB, X_MUL, X_DIV, X_POW,
       X_LT, X_LE, X_GT, X_GE, X_EQ, X_NE, X_AND, X_OR, X_COND,
       X_MOD /* parser only: a % b becomes the call mod(a, b) */ };

struct expr {
	int op;
	double num;        /* X_NUM */
	char *name;        /* X_NAME */
	int fn;            /* X_CALL: index in funcs[] */
	int height;        /* levels below and including this node */
	struct expr *a[3]; /* operands, in source order */
};

static double f_abs(double x) { return fabs(x); }
static double f_min(double x, double y) { return fmin(x, y); }
static double f_max(double x, double y) { return fmax(x, y); }
static double f_mod(double x, double y) { return x - y * floor(x / y); }
static double f_sign(double x) { return x > 0 ? 1 : x < 0 ? -1 : x; }
static double f_step(double x) { return x >= 0 ? 1 : 0; }

/* Every function of the model language, in ONE table: the parser, the
 * evaluator and the code generator all read it (and so may a
 * differentiator). nargs < 0 means "at least -nargs": the parser folds
 * min(a, b, c) into min(a, min(b, c)), so every call node has exactly
 * |nargs| operands. helper: c names a function of expr_helpers, called
 * bare; otherwise it is a C99/CUDA math function, called as CUBIE_M(c).
 * where(c, a, b) and if(c, a, b) are not here: they parse to the X_COND
 * node, like c ? a : b. Semantics (and d/dx, for derivatives) are given
 * where they are not the C library's. */
static const struct func {
	const char *name, *c; /* the user's spelling; the C one */
	int nargs;
	double (*f1)(double);
	double (*f2)(double, double);
	int helper;
} funcs[] = {
	{"exp", "exp", 1, exp, NULL, 0},       {"log", "log", 1, log, NULL, 0},
	{"log10", "log10", 1, log10, NULL, 0}, {"sqrt", "sqrt", 1, sqrt, NULL, 0},
	{"sin", "sin", 1, sin, NULL, 0},       {"cos", "cos", 1, cos, NULL, 0},
	{"tan", "tan", 1, tan, NULL, 0},       {"asin", "asin", 1, asin, NULL, 0},
	{"acos", "acos", 1, acos, NULL, 0},    {"atan", "atan", 1, atan, NULL, 0},
	{"atan2", "atan2", 2, NULL, atan2, 0}, {"sinh", "sinh", 1, sinh, NULL, 0},
	{"cosh", "cosh", 1, cosh, NULL, 0},    {"tanh", "tanh", 1, tanh, NULL, 0},
	{"abs", "fabs", 1, f_abs, NULL, 0},
	{"min", "fmin", -2, NULL, f_min, 0},   /* n-ary; NaN-ignoring, as fmin */
	{"max", "fmax", -2, NULL, f_max, 0},   /* n-ary; NaN-ignoring, as fmax */
	{"pow", "pow", 2, NULL, pow, 0},
	{"floor", "floor", 1, floor, NULL, 0}, {"ceil", "ceil", 1, ceil, NULL, 0},
	{"round", "round", 1, round, NULL, 0}, /* half away from zero; d/dx 0 */
	{"trunc", "trunc", 1, trunc, NULL, 0}, /* toward zero; d/dx 0 */
	{"hypot", "hypot", 2, NULL, hypot, 0}, /* sqrt(x^2 + y^2) without overflow */
	{"cbrt", "cbrt", 1, cbrt, NULL, 0},    /* real cube root, also of x < 0 */
	{"log2", "log2", 1, log2, NULL, 0},    {"exp2", "exp2", 1, exp2, NULL, 0},
	{"log1p", "log1p", 1, log1p, NULL, 0}, /* log(1 + x); d/dx 1/(1 + x) */
	{"expm1", "expm1", 1, expm1, NULL, 0}, /* exp(x) - 1; d/dx exp(x) */
	{"erf", "erf", 1, erf, NULL, 0},       /* d/dx 2/sqrt(pi) exp(-x^2) */
	{"erfc", "erfc", 1, erfc, NULL, 0},    /* 1 - erf(x) */
	{"asinh", "asinh", 1, asinh, NULL, 0}, {"acosh", "acosh", 1, acosh, NULL, 0},
	{"atanh", "atanh", 1, atanh, NULL, 0},
	/* floored modulo, a - b*floor(a/b): the sign of b, as Python's % and
	 * Julia's mod (not C's fmod); a % b is this. d/da 1, d/db -floor(a/b) */
	{"mod", "cubie_mod_", 2, NULL, f_mod, 1},
	/* -1, 0 or 1 (sign(0) = 0, sign(NaN) = NaN); d/dx 0 */
	{"sign", "cubie_sign_", 1, f_sign, NULL, 1},
	/* 1 for x >= 0, else 0 (heaviside(0) = 1); step is the same; d/dx 0 */
	{"heaviside", "cubie_step_", 1, f_step, NULL, 1},
	{"step", "cubie_step_", 1, f_step, NULL, 1},
};
#define N_FUNCS (sizeof funcs / sizeof funcs[0])
#define MAX_DEPTH 200 /* nesting, so hostile input cannot exhaust the stack */
/* Levels of the tree (a flat sum of n terms has n): the walks below
 * recurse through them, so they are bounded here. cubie.ini(5) says so. */
#define MAX_HEIGHT EXPR_MAX_HEIGHT
#define MAX_IPOW 4    /* x^n up to this |n| becomes multiplication */

/* Named constants of the language, for names the model does not define
 * itself (a state called e stays the state). */
int expr_builtin(const char *name, double *v)
{
	if (!strcmp(name, "pi"))
		return *v = 3.14159265358979323846, 1;
	if (!strcmp(name, "e"))
		return *v = 2.71828182845904523536, 1;
	return 0;
}

/* ---- did-you-mean ---- */

/* Levenshtein distance; names longer than 63 characters never match. */
static int lev(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[64];
	if (la > 63 || lb > 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* The closest candidate within distance 2, or NULL. The distance must also
 * be shorter than the name, so that 'q' does not suggest 'x'. */
const char *expr_hint(const char *name, const char *const *cands, size_t n)
{
	const char *best = NULL;
	int bd = 3, len = (int)strlen(name);
	for (size_t i = 0; i < n; i++) {
		int d = lev(name, cands[i]);
		if (d < bd && d < len) {
			bd = d;
			best = cands[i];
		}
	}
	return best;
}

/* ---- tokenizer ---- */

enum { T_END = 256, T_NUM, T_NAME, T_POW, T_LE, T_GE, T_EQ, T_NE, T_AND, T_OR };

struct parser {
	const char *src, *p; /* the text and the next character */
	int tok;             /* current token */
	const char *ts;      /* its text */
	size_t tn;           /* and length */
	double num;
	int depth;
	char *err;
	size_t errlen;
	int failed;
};

/* Records the first error, the one to report; returns -1. */
static int fail(struct parser *P, const char *fmt, ...) CB_PRINTF(2, 3);
static int fail(struct parser *P, const char *fmt, ...)
{
	va_list ap;
	if (!P->failed++ && P->errlen) {
		va_start(ap, fmt);
		vsnprintf(P->err, P->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* strtod honours LC_NUMERIC; the model file always uses '.'. */
static int scan_num(struct parser *P, size_t n)
{
	const char *dp = localeconv()->decimal_point;
	char buf[128], *end;
	size_t k = 0, dl = strlen(dp);
	for (size_t i = 0; i < n; i++) {
		if (k + dl + 1 >= sizeof buf)
			return fail(P, "number too long");
		if (P->ts[i] != '.') {
			buf[k++] = P->ts[i];
		} else {
			memcpy(buf + k, dp, dl);
			k += dl;
		}
	}
	buf[k] = 0;
	P->num = strtod(buf, &end);
	if (*end)
		return fail(P, "malformed number '%.*s'", (int)n, P->ts);
	if (!isfinite(P->num))
		return fail(P, "number out of range '%.*s'", (int)n, P->ts);
	return 0;
}

static void next(struct parser *P)
{
	static const struct { char s[3]; int tok; } two[] = {
		{"**", T_POW}, {"<=", T_LE}, {">=", T_GE}, {"==", T_EQ},
		{"!=", T_NE}, {"&&", T_AND}, {"||", T_OR},
	};
	const char *p = P->p;
	while (isspace((unsigned char)*p))
		p++;
	P->ts = p;
	P->tn = 1;
	if (!*p) {
		P->tok = T_END, P->tn = 0;
	} else if (isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))) {
		while (isdigit((unsigned char)*p) || *p == '.')
			p++;
		if (*p == 'e' || *p == 'E') {
			p += (p[1] == '+' || p[1] == '-') ? 2 : 1;
			while (isdigit((unsigned char)*p))
				p++;
		}
		P->tok = T_NUM;
		P->tn = (size_t)(p - P->ts);
		if (scan_num(P, P->tn))
			P->tok = T_END;
		P->p = p;
		return;
	} else if (isalpha((unsigned char)*p) || *p == '_') {
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		P->tok = T_NAME;
		P->tn = (size_t)(p - P->ts);
		P->p = p;
		return;
	} else {
		P->tok = *p == '^' ? T_POW : (unsigned char)*p;
		for (size_t i = 0; i < sizeof two / sizeof two[0]; i++)
			if (p[0] == two[i].s[0] && p[1] == two[i].s[1])
				P->tok = two[i].tok, P->tn = 2;
	}
	P->p = p + P->tn;
}

static void unexpected(struct parser *P)
{
	if (P->tok == T_END)
		fail(P, "unexpected end of expression");
	else if (isprint((unsigned char)*P->ts))
		fail(P, "unexpected '%.*s' at column %d", (int)P->tn, P->ts, (int)(P->ts - P->src) + 1);
	else
		fail(P, "unexpected character 0x%02x at column %d", (unsigned char)*P->ts,
		     (int)(P->ts - P->src) + 1);
}

static int expect(struct parser *P, int tok)
{
	if (P->tok == tok)
		return next(P), 1;
	if (P->tok == T_END)
		fail(P, "missing '%c'", tok);
	else
		unexpected(P);
	return 0;
}

/* ---- parser ---- */

void expr_free(struct expr *x)
{
	if (!x)
		return;
	for (int i = 0; i < 3; i++)
		expr_free(x->a[i]);
	free(x->name);
	free(x);
}

/* Sets x's height from its operands'; NULL (x released) past the bound. */
static struct expr *measure(struct parser *P, struct expr *x)
{
	x->height = 0;
	for (int i = 0; i < 3; i++)
		if (x->a[i] && x->a[i]->height > x->height)
			x->height = x->a[i]->height;
	if (++x->height <= MAX_HEIGHT)
		return x;
	fail(P, "expression too large: over %d levels of operators; split it with auxiliary "
	     "equations", MAX_HEIGHT);
	expr_free(x);
	return NULL;
}

/* A node over n operands; a missing operand means a failure below, so
 * the others are released and NULL passed up. */
static struct expr *mk(struct parser *P, int op, int n, struct expr *a, struct expr *b,
                       struct expr *c)
{
	struct expr *x = NULL;
	if (!((n > 0 && !a) || (n > 1 && !b) || (n > 2 && !c)) && !(x = calloc(1, sizeof *x)))
		fail(P, "out of memory");
	if (!x) {
		expr_free(a), expr_free(b), expr_free(c);
		return NULL;
	}
	x->op = op;
	x->a[0] = a, x->a[1] = b, x->a[2] = c;
	return measure(P, x);
}

static struct expr *parse_cond(struct parser *P);

/* The arguments of a call, after its '(': up to max kept in a[], the
 * count in *n (more are parsed, counted and dropped, for the message). */
static int parse_args(struct parser *P, struct expr **a, size_t max, size_t *n)
{
	*n = 0;
	next(P); /* ( */
	while (!P->failed && P->tok != ')' && (*n == 0 || P->tok == ',')) {
		if (*n)
			next(P);
		struct expr *arg = parse_cond(P);
		if (arg && *n >= max)
			(*n)++, expr_free(arg);
		else if (arg)
			a[(*n)++] = arg;
	}
	return !P->failed && expect(P, ')') ? 0 : -1;
}

#define MAX_ARGS 64 /* of an n-ary min or max */

static struct expr *parse_call(struct parser *P, const char *name, size_t len)
{
	size_t f = 0, n = 0;
	struct expr *a[MAX_ARGS] = {NULL}, *x = NULL;
	int cond = (len == 5 && !strncmp(name, "where", 5)) || (len == 2 && !strncmp(name, "if", 2));
	while (!cond && f < N_FUNCS && (strlen(funcs[f].name) != len || strncmp(funcs[f].name, name, len)))
		f++;
	if (!cond && f == N_FUNCS) {
		char buf[64];
		const char *names[N_FUNCS + 1], *h;
		for (size_t i = 0; i < N_FUNCS; i++)
			names[i] = funcs[i].name;
		names[N_FUNCS] = "where";
		snprintf(buf, sizeof buf, "%.*s", (int)len, name);
		h = expr_hint(buf, names, N_FUNCS + 1);
		if (h)
			fail(P, "unknown function '%.*s' (did you mean '%s'?)", (int)len, name, h);
		else
			fail(P, "unknown function '%.*s'", (int)len, name);
		return NULL;
	}
	int want = cond ? 3 : funcs[f].nargs, least = want < 0 ? -want : want;
	const char *fname = cond ? (len == 2 ? "if" : "where") : funcs[f].name;
	if (parse_args(P, a, MAX_ARGS, &n) == 0) {
		if (want >= 0 && n != (size_t)want)
			fail(P, "%s takes %d argument%s", fname, want, want == 1 ? "" : "s");
		else if (want < 0 && n < (size_t)least)
			fail(P, "%s takes at least %d arguments", fname, least);
		else if (n > MAX_ARGS)
			fail(P, "%s takes at most %d arguments", fname, MAX_ARGS);
	}
	if (P->failed) {
		for (size_t i = 0; i < MAX_ARGS; i++)
			expr_free(a[i]);
		return NULL;
	}
	if (cond)
		return mk(P, X_COND, 3, a[0], a[1], a[2]);
	if (want >= 0) {
		if ((x = mk(P, X_CALL, (int)n, a[0], a[1], a[2])))
			x->fn = (int)f;
		return x;
	}
	/* min(a, b, c) = min(a, min(b, c)): binary nodes, built from the right */
	x = a[n - 1];
	for (size_t i = n - 1; i-- > 0;) {
		if (!(x = mk(P, X_CALL, 2, a[i], x, NULL))) {
			while (i-- > 0)
				expr_free(a[i]);
			return NULL;
		}
		x->fn = (int)f;
	}
	return x;
}

static struct expr *parse_primary(struct parser *P)
{
	struct expr *x = NULL;
	if (P->tok == T_NUM) {
		if ((x = mk(P, X_NUM, 0, NULL, NULL, NULL)))
			x->num = P->num;
		next(P);
	} else if (P->tok == T_NAME) {
		const char *name = P->ts;
		size_t len = P->tn;
		next(P);
		if (P->tok == '(')
			return parse_call(P, name, len);
		if ((x = mk(P, X_NAME, 0, NULL, NULL, NULL)) && !(x->name = malloc(len + 1))) {
			fail(P, "out of memory");
			return expr_free(x), NULL;
		}
		if (x)
			memcpy(x->name, name, len), x->name[len] = 0;
	} else if (P->tok == '(') {
		next(P);
		if ((x = parse_cond(P)) && !expect(P, ')'))
			x = (expr_free(x), NULL);
	} else {
		unexpected(P);
	}
	return x;
}

/* Power binds tighter than unary minus (-x^2 = -(x^2)) and is right-
 * associative (2^3^2 = 2^9); its exponent may carry a sign (2^-1). */
static struct expr *parse_unary(struct parser *P)
{
	struct expr *x = NULL;
	if (++P->depth > MAX_DEPTH) {
		fail(P, "expression nested too deeply");
	} else if (P->tok == '-' || P->tok == '!') {
		int op = P->tok == '-' ? X_NEG : X_NOT;
		next(P);
		x = mk(P, op, 1, parse_unary(P), NULL, NULL);
	} else if (P->tok == '+') {
		next(P);
		x = parse_unary(P);
	} else if ((x = parse_primary(P)) && P->tok == T_POW) {
		next(P);
		x = mk(P, X_POW, 2, x, parse_unary(P), NULL);
	}
	P->depth--;
	return x;
}

/* Left-associative binary levels, loosest first. */
static int binop(int level, int tok)
{
	switch (level) {
	case 0: return tok == T_OR ? X_OR : -1;
	case 1: return tok == T_AND ? X_AND : -1;
	case 2: return tok == T_EQ ? X_EQ : tok == T_NE ? X_NE : -1;
	case 3: return tok == '<' ? X_LT : tok == T_LE ? X_LE : tok == '>' ? X_GT
	             : tok == T_GE ? X_GE : -1;
	case 4: return tok == '+' ? X_ADD : tok == '-' ? X_SUB : -1;
	default: return tok == '*' ? X_MUL : tok == '/' ? X_DIV : tok == '%' ? X_MOD : -1;
	}
}

static size_t func_index(const char *name)
{
	size_t f = 0;
	while (f < N_FUNCS && strcmp(funcs[f].name, name))
		f++;
	return f;
}

/* A comparison whose left operand is one of the same level (0 < a < 1)
 * is an error: C would read it as (0 < a) < 1, Python and Julia as
 * 0 < a && a < 1, and the model language will not guess. */
static struct expr *parse_bin(struct parser *P, int level)
{
	if (level == 6)
		return parse_unary(P);
	struct expr *x = parse_bin(P, level + 1);
	int op, prev = -1;
	while (x && (op = binop(level, P->tok)) >= 0) {
		if ((level == 2 || level == 3) && prev >= 0) {
			fail(P, "chained comparison at column %d: '0 < a < 1' does not test both; "
			     "write 0 < a && a < 1", (int)(P->ts - P->src) + 1);
			return expr_free(x), NULL;
		}
		next(P);
		if (op == X_MOD) { /* a % b is mod(a, b) */
			if ((x = mk(P, X_CALL, 2, x, parse_bin(P, level + 1), NULL)))
				x->fn = (int)func_index("mod");
		} else {
			x = mk(P, op, 2, x, parse_bin(P, level + 1), NULL);
		}
		prev = op;
	}
	return x;
}

static struct expr *parse_cond(struct parser *P)
{
	struct expr *c = NULL, *a, *b = NULL;
	if (++P->depth > MAX_DEPTH)
		fail(P, "expression nested too deeply");
	else if ((c = parse_bin(P, 0)) && P->tok == '?') {
		next(P);
		if ((a = parse_cond(P)) && expect(P, ':'))
			b = parse_cond(P);
		c = mk(P, X_COND, 3, c, a, b);
	}
	P->depth--;
	return c;
}

int expr_parse(const char *text, struct expr **out, char *err, size_t errlen)
{
	struct parser P = {.src = text, .p = text, .err = err, .errlen = errlen};
	struct expr *x = NULL;
	next(&P);
	if (P.tok == T_END && !P.failed)
		fail(&P, "empty expression");
	else if ((x = parse_cond(&P)) && P.tok != T_END)
		unexpected(&P);
	if (P.failed)
		x = (expr_free(x), NULL);
	*out = x;
	return x ? 0 : -1;
}

/* Calls fn on every name in source order, stopping at a nonzero result.
 * Iterative: callers recurse through fn (model.c follows dependencies). */
int expr_names(const struct expr *x, int (*fn)(const char *name, void *ctx), void *ctx)
{
	if (!x)
		return 0;
	/* each level leaves at most two siblings waiting */
	const struct expr **stack = malloc((2 * (size_t)x->height + 1) * sizeof *stack);
	size_t n = 0;
	int r = 0;
	if (!stack)
		return -1;
	stack[n++] = x;
	while (n && !r) {
		x = stack[--n];
		if (x->op == X_NAME)
			r = fn(x->name, ctx);
		for (int i = 3; i-- > 0;)
			if (x->a[i])
				stack[n++] = x->a[i];
	}
	free(stack);
	return r;
}

/* ---- evaluation and code generation ---- */

struct env {
	expr_value_fn value; /* names known at build time */
	expr_emit_fn emit;   /* the run-time spelling of the others */
	void *ctx;
};

static int eval(const struct expr *x, const struct env *env, double *v)
{
	double a[3] = {0, 0, 0};
	if (x->op == X_NUM)
		return *v = x->num, 0;
	if (x->op == X_NAME)
		return env->value && env->value(x->name, v, env->ctx) ? 0 : -1;
	for (int i = 0; i < 3; i++)
		if (x->a[i] && eval(x->a[i], env, &a[i]))
			return -1;
	switch (x->op) {
	case X_CALL: *v = funcs[x->fn].f1 ? funcs[x->fn].f1(a[0]) : funcs[x->fn].f2(a[0], a[1]); break;
	case X_NEG: *v = -a[0]; break;
	case X_NOT: *v = a[0] == 0; break;
	case X_ADD: *v = a[0] + a[1]; break;
	case X_SUB: *v = a[0] - a[1]; break;
	case X_MUL: *v = a[0] * a[1]; break;
	case X_DIV: *v = a[0] / a[1]; break;
	case X_POW: *v = pow(a[0], a[1]); break;
	case X_LT: *v = a[0] < a[1]; break;
	case X_LE: *v = a[0] <= a[1]; break;
	case X_GT: *v = a[0] > a[1]; break;
	case X_GE: *v = a[0] >= a[1]; break;
	case X_EQ: *v = a[0] == a[1]; break;
	case X_NE: *v = a[0] != a[1]; break;
	case X_AND: *v = a[0] != 0 && a[1] != 0; break;
	case X_OR: *v = a[0] != 0 || a[1] != 0; break;
	default: *v = a[0] != 0 ? a[1] : a[2]; break; /* X_COND */
	}
	return 0;
}

/* 0 with *v when every name has a value from value(). */
int expr_eval(const struct expr *x, expr_value_fn value, void *ctx, double *v)
{
	struct env env = {value, NULL, ctx};
	return eval(x, &env, v);
}

struct names_env {
	expr_value_fn value;
	void *ctx;
	const char *unknown;
};

/* A name's value: the caller's, else a built-in constant. */
static int value_or_builtin(const char *name, double *v, void *ctx)
{
	const struct names_env *n = ctx;
	return (n->value && n->value(name, v, n->ctx)) || expr_builtin(name, v);
}

static int first_unknown(const char *name, void *ctx)
{
	struct names_env *n = ctx;
	double v;
	if (value_or_builtin(name, &v, n))
		return 0;
	n->unknown = name;
	return 1;
}

int expr_eval_text(const char *text, expr_value_fn value, void *ctx, double *v, char *errbuf,
                   size_t errlen)
{
	struct expr *x;
	struct names_env n = {value, ctx, NULL};
	int rc = -1;
	if (expr_parse(text, &x, errbuf, errlen))
		return -1;
	if (expr_names(x, first_unknown, &n))
		snprintf(errbuf, errlen, "unknown name '%s' (only numbers%s are allowed)", n.unknown,
		         value ? ", constants, pi and e" : ", pi and e");
	else if (expr_eval(x, value_or_builtin, &n, v), !isfinite(*v))
		snprintf(errbuf, errlen, "the value is not finite");
	else
		rc = 0;
	expr_free(x);
	return rc;
}

int expr_eval_const(const char *text, double *v, char *errbuf, size_t errlen)
{
	return expr_eval_text(text, NULL, NULL, v, errbuf, errlen);
}

/* A double as a C literal: the shortest of %.15g..%.17g that reads back
 * exactly, with a '.' whatever LC_NUMERIC says. */
static void emit_num(sbuf *b, double v)
{
	char buf[64], *end;
	const char *dp = localeconv()->decimal_point;
	if (v == 0) {
		sb_add(b, "CUBIE_R(%s)", signbit(v) ? "-0.0" : "0");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, v);
		if (strtod(buf, &end) == v)
			break;
	}
	if (strcmp(dp, ".") != 0 && (end = strstr(buf, dp))) {
		*end = '.';
		memmove(end + 1, end + strlen(dp), strlen(end + strlen(dp)) + 1);
	}
	sb_add(b, "CUBIE_R(%s)", buf);
}

static const char *const c_ops[] = {
	[X_ADD] = " + ", [X_SUB] = " - ", [X_MUL] = " * ", [X_DIV] = " / ",
	[X_LT] = " < ", [X_LE] = " <= ", [X_GT] = " > ", [X_GE] = " >= ",
	[X_EQ] = " == ", [X_NE] = " != ",
};

static void emit(sbuf *b, const struct expr *x, const struct env *env);

/* Emits a C truth value (an int) in parentheses, for conditions: comparisons
 * and logic stay C's own, anything else is compared with zero. */
static void emit_cond(sbuf *b, const struct expr *x, const struct env *env)
{
	double v;
	if (eval(x, env, &v) == 0) {
		sb_add(b, "(%d)", v != 0);
	} else if (x->op == X_AND || x->op == X_OR) {
		sb_add(b, "(");
		emit_cond(b, x->a[0], env);
		sb_add(b, x->op == X_AND ? " && " : " || ");
		emit_cond(b, x->a[1], env);
		sb_add(b, ")");
	} else if (x->op == X_NOT) {
		sb_add(b, "(!");
		emit_cond(b, x->a[0], env);
		sb_add(b, ")");
	} else if (x->op >= X_LT && x->op <= X_NE) {
		sb_add(b, "(");
		emit(b, x->a[0], env);
		sb_add(b, "%s", c_ops[x->op]);
		emit(b, x->a[1], env);
		sb_add(b, ")");
	} else {
		sb_add(b, "(");
		emit(b, x, env);
		sb_add(b, " != CUBIE_R(0))");
	}
}

/* A + B without parentheses, so that a long sum does not nest them
 * (compilers limit the depth): A of the same precedence is left bare, as C
 * reads a + b - c as (a + b) - c. */
static void emit_arith(sbuf *b, const struct expr *x, const struct env *env)
{
	const struct expr *l = x->a[0];
	double v;
	if ((l->op == X_ADD || l->op == X_SUB) == (x->op == X_ADD || x->op == X_SUB) &&
	    l->op >= X_ADD && l->op <= X_DIV && !(eval(l, env, &v) == 0 && isfinite(v)))
		emit_arith(b, l, env);
	else
		emit(b, l, env);
	sb_add(b, "%s", c_ops[x->op]);
	emit(b, x->a[1], env);
}

/* Emits a C primary expression of type cubie_real. A subtree whose names
 * all have build-time values is folded into one literal (in double). */
static void emit(sbuf *b, const struct expr *x, const struct env *env)
{
	double v, k;
	const struct expr *l = x->a[0], *r = x->a[1];
	if (eval(x, env, &v) == 0 && isfinite(v)) {
		emit_num(b, v);
		return;
	}
	switch (x->op) {
	case X_NAME:
		env->emit(b, x->name, env->ctx);
		return;
	case X_NEG:
		sb_add(b, "(-");
		emit(b, l, env);
		sb_add(b, ")");
		return;
	case X_CALL:
		if (funcs[x->fn].f2 == pow) /* like ^ */
			break;
		sb_add(b, funcs[x->fn].helper ? "%s(" : "CUBIE_M(%s)(", funcs[x->fn].c);
		for (int i = 0; i < 3 && x->a[i]; i++) {
			sb_add(b, "%s", i ? ", " : "");
			emit(b, x->a[i], env);
		}
		sb_add(b, ")");
		return;
	case X_COND:
		sb_add(b, "(");
		emit_cond(b, l, env);
		sb_add(b, " ? ");
		emit(b, r, env);
		sb_add(b, " : ");
		emit(b, x->a[2], env);
		sb_add(b, ")");
		return;
	case X_NOT: case X_AND: case X_OR:
	case X_LT: case X_LE: case X_GT: case X_GE: case X_EQ: case X_NE:
		sb_add(b, "(");
		emit_cond(b, x, env);
		sb_add(b, " ? CUBIE_R(1) : CUBIE_R(0))");
		return;
	case X_POW:
		break;
	default: /* + - * / */
		sb_add(b, "(");
		emit_arith(b, x, env);
		sb_add(b, ")");
		return;
	}
	/* x^n for a small integer n: multiplication, faster than pow and as
	 * accurate at these orders. */
	if (eval(r, env, &k) == 0 && k == floor(k) && k != 0 && fabs(k) <= MAX_IPOW) {
		int n = (int)k;
		if (l->op != X_NAME) { /* evaluate the base once */
			sb_add(b, "cubie_ipow_(");
			emit(b, l, env);
			sb_add(b, ", %d)", n);
			return;
		}
		sb_add(b, "%s", n < 0 ? "(CUBIE_R(1) / (" : "(");
		for (int i = 0; i < abs(n); i++) {
			sb_add(b, "%s", i ? " * " : "");
			emit(b, l, env);
		}
		sb_add(b, "%s", n < 0 ? "))" : ")");
		return;
	}
	sb_add(b, "CUBIE_M(pow)(");
	emit(b, l, env);
	sb_add(b, ", ");
	emit(b, r, env);
	sb_add(b, ")");
}

/* The helper that expr_emit's output may call, to precede it. */
const char *const expr_helpers =
	"/* mod, sign, heaviside/step of the model language (see expr.c) */\n"
	"CUBIE_DEV cubie_real cubie_mod_(cubie_real a, cubie_real b)\n"
	"{\n\treturn a - b * CUBIE_M(floor)(a / b);\n}\n"
	"CUBIE_DEV cubie_real cubie_sign_(cubie_real x)\n"
	"{\n\treturn x > 0 ? CUBIE_R(1) : x < 0 ? CUBIE_R(-1) : x;\n}\n"
	"CUBIE_DEV cubie_real cubie_step_(cubie_real x)\n"
	"{\n\treturn x >= 0 ? CUBIE_R(1) : CUBIE_R(0);\n}\n"
	"/* x^n for a small integer n, by multiplication */\n"
	"CUBIE_DEV cubie_real cubie_ipow_(cubie_real x, int n)\n"
	"{\n"
	"\tcubie_real r = x;\n"
	"\tfor (int i = 1; i < (n < 0 ? -n : n); i++)\n"
	"\t\tr *= x;\n"
	"\treturn n < 0 ? CUBIE_R(1) / r : r;\n"
	"}\n";

void expr_emit(sbuf *b, const struct expr *x, expr_value_fn value, expr_emit_fn name, void *ctx)
{
	struct env env = {value, name, ctx};
	emit(b, x, &env);
}
