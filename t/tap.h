/* A minimal TAP producer for cubie's tests: plan, ok, compare, skip. */
#ifndef CUBIE_T_TAP_H
#define CUBIE_T_TAP_H
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define TAP_FN static __attribute__((unused))
#else
#define TAP_FN static
#endif

static int tap_n, tap_failed;

TAP_FN void plan(int n) { printf("1..%d\n", n); }
TAP_FN void plan_skip_all(const char *why) { printf("1..0 # SKIP %s\n", why); exit(0); }
TAP_FN void done_testing(void) { printf("1..%d\n", tap_n); }
TAP_FN int tap_exit(void) { return tap_failed ? 1 : 0; }

TAP_FN int ok(int cond, const char *fmt, ...)
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

/* Returns 0, so that ok(...) || diag(...) reads naturally. */
TAP_FN int diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 0;
}

TAP_FN void skip(const char *why) { printf("ok %d # SKIP %s\n", ++tap_n, why); }

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

/* Write text to a fresh file named after prefix in the current directory
 * (the build tree); returns its malloc'd name. */
#include <unistd.h>
TAP_FN char *write_tmp(const char *prefix, const char *text)
{
	char *name = malloc(strlen(prefix) + 32);
	sprintf(name, "t/tmp-%s-XXXXXX", prefix);
	int fd = mkstemp(name);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		printf("Bail out! cannot write %s\n", name);
		exit(1);
	}
	close(fd);
	return name;
}

/* The bytes of the file at path, NUL-terminated, and their number in *len
 * (when len is not NULL); NULL (and 0) when it cannot be read whole. */
TAP_FN char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	long n = -1;
	if (f && !fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 && !fseek(f, 0, SEEK_SET) &&
	    (s = malloc((size_t)n + 1))) {
		if (fread(s, 1, (size_t)n, f) == (size_t)n)
			s[n] = 0;
		else
			s = (free(s), NULL);
	}
	if (f)
		fclose(f);
	if (len)
		*len = s ? (size_t)n : 0;
	return s;
}
#endif
