/* The kernel cache: entries are found by key, written atomically, and a
 * damaged entry is rebuilt rather than trusted. */
#include "config.h"
#include "internal.h"
#include "solve.h"

#include <sys/stat.h>

static int damage(const char *path)
{
	FILE *f = fopen(path, "r+b");
	if (!f)
		return -1;
	fseek(f, 100, SEEK_SET);
	fputc(0x5a, f);
	fputc(0xa5, f);
	return fclose(f);
}

int main(void)
{
	char dir[] = "t/tmp-cache-XXXXXX";
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	setenv("CUBIE_CACHE_DIR", dir, 1);
	char k1[33], k2[33];
	cache_key("source", 6, "salt-a", k1);
	cache_key("source", 6, "salt-b", k2);
	ok(strlen(k1) == 32 && strcmp(k1, k2), "the key covers the salt (compiler, options)");
	cache_key("sourcf", 6, "salt-a", k2);
	ok(strcmp(k1, k2), "the key covers the source");
	ok(cache_lookup(k1, "bin") == NULL, "an absent entry is a miss");
	char payload[4096];
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (char)(i * 7);
	char *p = cache_store(k1, "bin", payload, sizeof payload);
	char *q = cache_lookup(k1, "bin");
	ok(p && q && !strcmp(p, q), "a stored entry is found");
	free(q);
	ok(damage(p) == 0 && (q = cache_lookup(k1, "bin")) == NULL, "a damaged entry is a miss");
	struct stat st;
	ok(stat(p, &st) != 0, "... and is removed");
	free(p);

	/* a solve whose cached cpu kernel was damaged compiles it again */
	const char *ini = "[model]\nstates = x\n[equations]\ndx = -x\n[initial]\nx = 1\n"
	                  "[solve]\nintegrator = rk4\n[device]\nbackend = cpu\n";
	cubie_error e = {0};
	cubie_result *r = solve_text(ini, NULL, &e);
	ok(r && fabs(value_at(r, 1, 0, 0) - exp(-1.0)) < 1e-10, "first solve (compiles, caches)");
	cubie_result_free(r);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "ls %s/*.so", dir);
	FILE *ls = popen(cmd, "r");
	char so[512] = "";
	if (ls && fgets(so, sizeof so, ls))
		so[strcspn(so, "\n")] = 0;
	if (ls)
		pclose(ls);
	ok(*so && damage(so) == 0, "damage the cached kernel %s", so);
	r = solve_text(ini, NULL, &e);
	ok(r && fabs(value_at(r, 1, 0, 0) - exp(-1.0)) < 1e-10, "the next solve rebuilds it and is right");
	cubie_result_free(r);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ok(system(cmd) == 0, "clean up");
	done_testing();
	return tap_exit();
}
