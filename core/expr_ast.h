/* The expression AST, shared by the parser and emitter (expr.c) and by
 * symbolic differentiation (expr_diff.c). Everything else sees struct expr
 * as opaque (internal.h). */
#ifndef CUBIE_EXPR_AST_H
#define CUBIE_EXPR_AST_H
#include "internal.h"

enum { X_NUM, X_NAME, X_CALL, X_NEG, X_NOT, X_ADD, X_SUB, X_MUL, X_DIV, X_POW,
       X_LT, X_LE, X_GT, X_GE, X_EQ, X_NE, X_AND, X_OR, X_COND,
       X_MOD /* parser only: a % b becomes the call mod(a, b) */ };

struct expr {
	int op;
	double num;        /* X_NUM */
	char *name;        /* X_NAME */
	int fn;            /* X_CALL: index in the function table */
	int height;        /* levels below and including this node (at least) */
	struct expr *a[3]; /* operands, in source order */
};

/* The user's spelling of function fn, or NULL; the index of a name, or -1. */
const char *expr_fn_name(int fn);
int expr_fn_find(const char *name);
#endif
