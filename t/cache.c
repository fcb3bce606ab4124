/* The kernel cache: entries are found by key, written atomically, and a
 * damaged entry is rebuilt rather than trusted; a cache that others could
 * write to is not used at all (a planted kernel would run as this user). */
#include "config.h"
#include "internal.h"
#include "solve.h"

#include <sys/stat.h>
#include <sys/wait.h>

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

static const char *const ini = "[model]\nstates = x\n[equations]\ndx = -x\n[initial]\nx = 1\n"
                               "[solve]\nintegrator = rk4\n[device]\nbackend = cpu\n";

static int solve_here(void)
{
	cubie_error e = {0};
	cubie_result *r = solve_text(ini, NULL, &e);
	int right = r && fabs(value_at(r, 1, 0, 0) - exp(-1.0)) < 1e-10;
	cubie_result_free(r);
	return right ? 0 : 1;
}

/* A solve in a fresh process (the loader keeps a path it has loaded, so a
 * kernel replaced on disk needs one; and OpenMP does not survive a fork):
 * 1 when right. */
static int solve_in_child(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", "test-cache", "solve", (char *)NULL);
		_exit(127);
	}
	int st = 1;
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static char *cached_so(const char *dir)
{
	char cmd[600], so[600] = "";
	snprintf(cmd, sizeof cmd, "ls %s/*.so 2>/dev/null", dir);
	FILE *ls = popen(cmd, "r");
	if (ls && fgets(so, sizeof so, ls))
		so[strcspn(so, "\n")] = 0;
	if (ls)
		pclose(ls);
	return *so ? strdup(so) : NULL;
}

/* A fresh 0700 directory under $TMPDIR (the build tree may sit under a
 * group-writable directory, where no cache is trusted). */
static int private_tmp(char *dir, size_t n, const char *tag)
{
	const char *t = getenv("TMPDIR");
	snprintf(dir, n, "%s/cubie-t-%s-XXXXXX", t && *t ? t : "/tmp", tag);
	return mkdtemp(dir) ? 0 : -1;
}

/* Plant, with a valid checksum, a kernel that touches the file $CUBIE_T_EVIL
 * when run; then check that the cache is trusted only when private. */
static void test_trust(void)
{
	char dir[512], evil[600], src[600], so[600], cmd[2000];
	const char *cc = getenv("CUBIE_TEST_CC");
	if (private_tmp(dir, sizeof dir, "trust")) {
		ok(0, "mkdtemp");
		return;
	}
	setenv("CUBIE_CACHE_DIR", dir, 1);
	snprintf(evil, sizeof evil, "%s/evil-ran", dir);
	setenv("CUBIE_T_EVIL", evil, 1);
	ok(solve_in_child(), "trust: a solve fills a private cache");
	char *entry = cached_so(dir);
	ok(entry != NULL, "trust: the kernel is cached in %s", dir);
	if (!entry)
		return;
	snprintf(src, sizeof src, "%s/evil.c", dir);
	snprintf(so, sizeof so, "%s/evil.bin", dir);
	FILE *f = fopen(src, "w");
	if (f) {
		fputs("#include <stdio.h>\n#include <stdlib.h>\nvoid cubie_cpu_solve(const void *a)\n"
		      "{ FILE *f = fopen(getenv(\"CUBIE_T_EVIL\"), \"w\"); if (f) fclose(f); }\n"
		      "void cubie_cpu_sweep(const void *a) {}\n", f);
		fclose(f);
	}
	snprintf(cmd, sizeof cmd, "%s -shared -fPIC -o %s %s", cc && *cc ? cc : "cc", so, src);
	size_t len = 0;
	void *bin = system(cmd) == 0 ? slurp(so, &len) : NULL;
	char digest[33];
	const char *base = strrchr(entry, '/') + 1;
	snprintf(digest, sizeof digest, "%.32s", base);
	char *planted = bin ? cache_store(digest, "so", bin, len) : NULL;
	ok(planted && !strcmp(planted, entry), "trust: a kernel planted with a valid checksum");
	free(planted);

	chmod(dir, 0777);
	ok(solve_in_child(), "trust: a world-writable cache directory: the solve is right");
	ok(access(evil, F_OK) != 0, "... and the planted kernel did not run");
	chmod(dir, 0770);
	ok(solve_in_child() && access(evil, F_OK) != 0, "a group-writable one: not used either");
	chmod(dir, 0700);
	if (geteuid() == 0) /* as root, a second user: nobody owns the directory */
		ok(chown(dir, 65534, 65534) == 0 && solve_in_child() && access(evil, F_OK) != 0 &&
		   chown(dir, 0, 0) == 0, "a directory of another user (nobody): not used");
	else
		skip("not root: no second user to own the cache");
	ok(solve_in_child() == 0 && unlink(evil) == 0,
	   "control: in a private directory the planted kernel does run (so the plant was real)");

	/* (the solves below store a genuine kernel over an entry they refuse) */
	free(cache_store(digest, "so", bin, len));
	chmod(entry, 0666);
	ok(solve_in_child() && access(evil, F_OK) != 0,
	   "a private directory, but an entry others may write: not used");
	free(cache_store(digest, "so", bin, len));
	if (geteuid() == 0)
		ok(chown(entry, 65534, 65534) == 0 && solve_in_child() && access(evil, F_OK) != 0,
		   "an entry of another user (nobody): not used");
	else
		skip("not root: no second user to own an entry");
	free(bin);

	/* an entry that verifies but will not load is removed and rebuilt */
	char *bad = cache_store(digest, "so", "not a shared object", 19);
	struct stat st;
	ok(bad && solve_in_child(), "an entry that verifies but will not load: the solve rebuilds it");
	ok(stat(entry, &st) == 0 && st.st_size > 19, "... replacing it in the cache");
	free(bad);

	/* a cache path that is a plain file: a private temporary directory */
	char file[600];
	snprintf(file, sizeof file, "%s/plain", dir);
	f = fopen(file, "w");
	if (f)
		fclose(f);
	setenv("CUBIE_CACHE_DIR", file, 1);
	char *d = cache_dir();
	ok(d && strstr(d, "cubie-cache-") && stat(d, &st) == 0 && (st.st_mode & 0777) == 0700 &&
	   st.st_uid == geteuid(), "a cache path that is a file: a private 0700 directory instead (%s)",
	   d ? d : "none");
	free(d);
	ok(solve_in_child(), "... and the solve works");
	setenv("CUBIE_CACHE_DIR", dir, 1);
	free(entry);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ok(system(cmd) == 0, "trust: clean up");
}

/* On a GPU: a cached CUBIN that passes its checksum but will not load is
 * replaced by a fresh compile, and the solve is right. */
static void test_cuda_unloadable(const char *dir)
{
	backend *b;
	cubie_error e = {0};
	if (backend_cuda_open(0, 0, &b, &e) != 0) {
		skip("no CUDA device: the unloadable cubin not tested");
		return;
	}
	b->ops->close(b);
	const char *cuda[] = {"device.backend=cuda", NULL};
	cubie_result *r = solve_text(ini, cuda, &e);
	cubie_result_free(r);
	char cmd[700], cubin[600] = "", digest[33];
	snprintf(cmd, sizeof cmd, "ls %s/*.cubin", dir);
	FILE *ls = popen(cmd, "r");
	if (ls && fgets(cubin, sizeof cubin, ls))
		cubin[strcspn(cubin, "\n")] = 0;
	if (ls)
		pclose(ls);
	const char *base = strrchr(cubin, '/');
	snprintf(digest, sizeof digest, "%.32s", base ? base + 1 : "");
	free(cache_store(digest, "cubin", "not a cubin", 11));
	r = solve_text(ini, cuda, &e);
	struct stat st;
	ok(r && fabs(value_at(r, 1, 0, 0) - exp(-1.0)) < 1e-10 && stat(cubin, &st) == 0 &&
	   st.st_size > 11, "cuda: a cached cubin that verifies but will not load is compiled again");
	cubie_result_free(r);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "solve"))
		return solve_here();
	char dir[512];
	if (private_tmp(dir, sizeof dir, "cache")) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	setenv("CUBIE_CACHE_DIR", dir, 1);
	char *used = cache_dir();
	if (!used || strcmp(used, dir)) {
		rmdir(dir);
		plan_skip_all("others may write to $TMPDIR or above it: no trusted cache to test");
	}
	free(used);
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
	cubie_error e = {0};
	cubie_result *r = solve_text(ini, NULL, &e);
	ok(r && fabs(value_at(r, 1, 0, 0) - exp(-1.0)) < 1e-10, "first solve (compiles, caches)");
	cubie_result_free(r);
	char cmd[1100];
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
	test_cuda_unloadable(dir);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ok(system(cmd) == 0, "clean up");
	test_trust();
	done_testing();
	return tap_exit();
}
