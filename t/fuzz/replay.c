/* make check's side of the fuzzing: every input of the seed corpus (which
 * holds the crashes found so far) through a harness's entry point, without
 * libFuzzer, plus generated inputs too large to keep in the tree. A
 * regression crashes this program, and the test fails. TAP. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "../tap.h"

#ifndef FUZZ_CORPUS
#error FUZZ_CORPUS names the corpus directory under t/fuzz/corpus
#endif

static void feed(const char *what, const char *text, size_t len)
{
	fflush(stdout);
	LLVMFuzzerTestOneInput((const uint8_t *)text, len);
	ok(1, "%s", what);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Text of n lines, head, then body n times, then tail. */
static char *repeat(const char *head, const char *body, size_t n, const char *tail, size_t *len)
{
	size_t hl = strlen(head), bl = strlen(body), tl = strlen(tail);
	char *s = malloc(hl + n * bl + tl + 1), *p = s;
	if (!s)
		return NULL;
	memcpy(p, head, hl), p += hl;
	for (size_t i = 0; i < n; i++)
		memcpy(p, body, bl), p += bl;
	memcpy(p, tail, tl), p += tl;
	*p = 0;
	*len = (size_t)(p - s);
	return s;
}

int main(void)
{
	const char *src = getenv("CUBIE_SRCDIR");
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/t/fuzz/corpus/%s", src ? src : ".", FUZZ_CORPUS);
	struct dirent **list;
	int n = scandir(dir, &list, NULL, by_name);
	ok(n > 2, "the corpus %s has inputs", dir);
	for (int i = 0; i < n; i++) {
		char path[8192];
		snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
		FILE *f = list[i]->d_name[0] != '.' ? fopen(path, "rb") : NULL;
		if (f) {
			char *buf = malloc(1 << 20);
			size_t len = buf ? fread(buf, 1, 1 << 20, f) : 0;
			fclose(f);
			if (buf)
				feed(list[i]->d_name, buf, len);
			free(buf);
		}
		free(list[i]);
	}
	free(n > 0 ? list : NULL);

	/* Large inputs (the audit's stack overflow, a 216 KB flat sum, was
	 * missed by fuzzing capped at 4 KB), for either harness. */
	static const struct { const char *what, *head, *body, *tail; size_t n; } big[] = {
		{"a flat sum of 105000 terms over continuation lines",
		 "[model]\nstates = x\n[equations]\ndx = x\n", "   + 1e-9*x\n", "[initial]\nx = 1\n", 105000},
		{"10000 nested parentheses", "[model]\nstates = x\n[equations]\ndx = ", "(", "x\n", 10000},
		{"10000 unary minus", "[model]\nstates = x\n[equations]\ndx = ", "-", "x\n", 10000},
		{"a power tower of 20000", "[model]\nstates = x\n[equations]\ndx = x", "^x", "\n", 20000},
		{"a list continued over 200000 lines", "[model]\nstates = x\n[initial]\nx = 1\n",
		 "  , 2\n", "", 200000},
		{"20000 [output] headers", "", "[output]\n", "", 20000},
	};
	for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
		size_t len;
		char *s = repeat(big[i].head, big[i].body, big[i].n, big[i].tail, &len);
		if (s)
			feed(big[i].what, s, len);
		free(s);
	}
	/* a chain of 8000 auxiliaries, each using the next */
	char *s = malloc(8000 * 32 + 64), *p = s;
	if (s) {
		p += sprintf(p, "[model]\nstates = x\n[equations]\ndx = -b0\n");
		for (int i = 0; i < 8000; i++)
			p += sprintf(p, "b%d = b%d + 1\n", i, i + 1);
		p += sprintf(p, "b8000 = x\n");
		feed("a chain of 8000 auxiliaries", s, (size_t)(p - s));
		free(s);
	}
	done_testing();
	return tap_exit();
}
