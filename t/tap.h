/* A minimal TAP producer for cubie's tests: plan, ok, compare, skip. */
#ifndef CUBIE_T_TAP_H
#define CUBIE_T_TAP_H
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static void plan(int n) { printf("1..%d\n", n); }
static void plan_skip_all(const char *why) { printf("1..0 # SKIP %s\n", why); exit(0); }
static void done_testing(void) { printf("1..%d\n", tap_n); }
static int tap_exit(void) { return tap_failed ? 1 : 0; }

static int ok(int cond, const char *fmt, ...)
{
	va_list ap;
	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

static void diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void skip(const char *why) { printf("ok %d # SKIP %s\n", ++tap_n, why); }

/* got contains want (both strings; got may be NULL). */
#define like(got, want, ...) \
	(ok((got) && strstr((got), (want)) != NULL, __VA_ARGS__) || \
	 (diag("got: %s", (got) ? (got) : "(null)"), diag("expected to contain: %s", (want)), 0))
#define is_int(got, want, ...) \
	(ok((long long)(got) == (long long)(want), __VA_ARGS__) || \
	 (diag("got %lld, want %lld", (long long)(got), (long long)(want)), 0))
/* |got - want| <= tol * max(1, |want|) */
#define is_near(got, want, tol, ...) \
	(ok(fabs((double)(got) - (double)(want)) <= (tol) * fmax(1.0, fabs((double)(want))), __VA_ARGS__) || \
	 (diag("got %.17g, want %.17g, tol %g", (double)(got), (double)(want), (double)(tol)), 0))
#endif
