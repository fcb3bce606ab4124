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
       X_LT, X_LE, X_GT, X_GE, X_EQ, X_NE, X_AND, X_OR, X_COND };

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

static const struct func {
	const char *name, *c; /* the user's spelling; the C one, for CUBIE_M() */
	int nargs;
	double (*f1)(double);
	double (*f2)(double, double);
} funcs[] = {
	{"exp", "exp", 1, exp, NULL},       {"log", "log", 1, log, NULL},
	{"log10", "log10", 1, log10, NULL}, {"sqrt", "sqrt", 1, sqrt, NULL},
	{"sin", "sin", 1, sin, NULL},       {"cos", "cos", 1, cos, NULL},
	{"tan", "tan", 1, tan, NULL},       {"asin", "asin", 1, asin, NULL},
	{"acos", "acos", 1, acos, NULL},    {"atan", "atan", 1, atan, NULL},
	{"atan2", "atan2", 2, NULL, atan2}, {"sinh", "sinh", 1, sinh, NULL},
	{"cosh", "cosh", 1, cosh, NULL},    {"tanh", "tanh", 1, tanh, NULL},
	{"abs", "fabs", 1, f_abs, NULL},    {"min", "fmin", 2, NULL, f_min},
	{"max", "fmax", 2, NULL, f_max},    {"pow", "pow", 2, NULL, pow},
	{"floor", "floor", 1, floor, NULL}, {"ceil", "ceil", 1, ceil, NULL},
};
#define N_FUNCS (sizeof funcs / sizeof funcs[0])
#define MAX_DEPTH 200 /* nesting, so hostile input cannot exhaust the stack */
/* Levels of the tree (a flat sum of n terms has n): the walks below
 * recurse through them, so they are bounded here. cubie.ini(5) says so. */
#define MAX_HEIGHT EXPR_MAX_HEIGHT
#define MAX_IPOW 4    /* x^n up to this |n| becomes multiplication */

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

static struct expr *parse_call(struct parser *P, const char *name, size_t len)
{
	size_t f = 0, n = 0;
	struct expr *x;
	while (f < N_FUNCS && (strlen(funcs[f].name) != len || strncmp(funcs[f].name, name, len)))
		f++;
	if (f == N_FUNCS) {
		char buf[64];
		const char *names[N_FUNCS], *h;
		for (size_t i = 0; i < N_FUNCS; i++)
			names[i] = funcs[i].name;
		snprintf(buf, sizeof buf, "%.*s", (int)len, name);
		h = expr_hint(buf, names, N_FUNCS);
		if (h)
			fail(P, "unknown function '%.*s' (did you mean '%s'?)", (int)len, name, h);
		else
			fail(P, "unknown function '%.*s'", (int)len, name);
		return NULL;
	}
	if (!(x = mk(P, X_CALL, 0, NULL, NULL, NULL)))
		return NULL;
	x->fn = (int)f;
	next(P); /* ( */
	while (!P->failed && P->tok != ')' && (n == 0 || P->tok == ',')) {
		if (n)
			next(P);
		struct expr *arg = parse_cond(P);
		if (arg && n >= (size_t)funcs[f].nargs)
			n++, expr_free(arg); /* only counted, for the message below */
		else if (arg)
			x->a[n++] = arg;
	}
	if (!P->failed && expect(P, ')') && n != (size_t)funcs[f].nargs)
		fail(P, "%s takes %d argument%s", funcs[f].name, funcs[f].nargs,
		     funcs[f].nargs == 1 ? "" : "s");
	if (P->failed)
		return expr_free(x), NULL;
	return measure(P, x);
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
	default: return tok == '*' ? X_MUL : tok == '/' ? X_DIV : -1;
	}
}

static struct expr *parse_bin(struct parser *P, int level)
{
	if (level == 6)
		return parse_unary(P);
	struct expr *x = parse_bin(P, level + 1);
	int op;
	while (x && (op = binop(level, P->tok)) >= 0) {
		next(P);
		x = mk(P, op, 2, x, parse_bin(P, level + 1), NULL);
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

static int first_name(const char *name, void *ctx)
{
	*(const char **)ctx = name;
	return 1;
}

int expr_eval_const(const char *text, double *v, char *errbuf, size_t errlen)
{
	struct expr *x;
	const char *name = NULL;
	int rc = -1;
	if (expr_parse(text, &x, errbuf, errlen))
		return -1;
	if (expr_names(x, first_name, &name))
		snprintf(errbuf, errlen, "unknown name '%s' (only numbers are allowed)", name);
	else if (expr_eval(x, NULL, NULL, v), !isfinite(*v))
		snprintf(errbuf, errlen, "the value is not finite");
	else
		rc = 0;
	expr_free(x);
	return rc;
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
		sb_add(b, "CUBIE_M(%s)(", funcs[x->fn].c);
		for (int i = 0; i < funcs[x->fn].nargs; i++) {
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
