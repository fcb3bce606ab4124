/* The on-disk cache of compiled kernels. An entry is a payload file named
 * by the hash of everything that shaped it, plus a ".sum" file with its
 * length and checksum, written last: an entry without a matching sum was
 * interrupted or damaged, and is rebuilt rather than trusted. */
#include "config.h"
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t fnv1a(const void *data, size_t len, uint64_t h)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void cache_key(const void *data, size_t len, const char *salt, char out[33])
{
	/* two independent 64-bit hashes: 128 bits against accidental collisions */
	uint64_t a = fnv1a(salt, strlen(salt), 0xcbf29ce484222325ULL);
	uint64_t b = fnv1a(salt, strlen(salt), 0x84222325cbf29ce4ULL ^ 0x5bd1e995ULL);
	a = fnv1a(data, len, a);
	b = fnv1a(data, len, b * 31 + 7);
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

static int mkdirs(char *path)
{
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			if (mkdir(path, 0755) && errno != EEXIST) {
				*p = '/';
				return -1;
			}
			*p = '/';
		}
	return mkdir(path, 0755) && errno != EEXIST ? -1 : 0;
}

char *cache_dir(void)
{
	const char *env = getenv("CUBIE_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	char *d = NULL;
	if (env && *env)
		d = cb_strdup(env);
	else if (xdg && *xdg)
		d = cb_printf("%s/cubie", xdg);
	else if (home && *home)
		d = cb_printf("%s/.cache/cubie", home);
	if (d && mkdirs(d)) {
		free(d);
		d = NULL;
	}
	return d;
}

static char *entry_path(const char *digest, const char *ext, const char *suffix)
{
	char *dir = cache_dir();
	if (!dir)
		return NULL;
	char *p = cb_printf("%s/%s.%s%s", dir, digest, ext, suffix);
	free(dir);
	return p;
}

static void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0, r;
	do {
		if (n == cap) {
			char *p = realloc(buf, cap = cap ? 2 * cap : 65536);
			if (!p) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = p;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	*len = n;
	return buf;
}

char *cache_lookup(const char *digest, const char *ext)
{
	char *path = entry_path(digest, ext, ""), *sum = entry_path(digest, ext, ".sum");
	size_t len = 0, slen = 0;
	void *data = path ? slurp(path, &len) : NULL;
	char *stext = sum ? slurp(sum, &slen) : NULL;
	unsigned long long want_len, want_sum;
	int good = data && stext && slen < 100;
	if (good) {
		stext[slen] = 0; /* slurp leaves room: slen < cap */
		good = sscanf(stext, "%llu %llx", &want_len, &want_sum) == 2 && want_len == len &&
		       want_sum == fnv1a(data, len, 0xcbf29ce484222325ULL);
	}
	if (!good && (data || stext)) {
		cb_log(CUBIE_LOG_WARN, "cache entry %s is damaged: rebuilding it", path);
		unlink(sum);
		unlink(path);
	}
	free(data);
	free(stext);
	free(sum);
	if (!good) {
		free(path);
		return NULL;
	}
	return path;
}

/* Write to a temporary file in the same directory, then rename. */
static int write_atomic(const char *path, const void *data, size_t len)
{
	char *tmp = cb_printf("%s.tmp-XXXXXX", path);
	if (!tmp)
		return -1;
	int fd = mkstemp(tmp);
	if (fd < 0) {
		free(tmp);
		return -1;
	}
	FILE *f = fdopen(fd, "wb");
	int ok = f && fwrite(data, 1, len, f) == len;
	ok = f && fclose(f) == 0 && ok;
	if (!f)
		close(fd);
	ok = ok && chmod(tmp, 0644) == 0 && rename(tmp, path) == 0;
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok ? 0 : -1;
}

char *cache_store(const char *digest, const char *ext, const void *data, size_t len)
{
	char *path = entry_path(digest, ext, ""), *sum = entry_path(digest, ext, ".sum");
	char stext[64];
	snprintf(stext, sizeof stext, "%llu %llx\n", (unsigned long long)len,
	         (unsigned long long)fnv1a(data, len, 0xcbf29ce484222325ULL));
	if (!path || !sum || write_atomic(path, data, len) ||
	    write_atomic(sum, stext, strlen(stext))) {
		cb_log(CUBIE_LOG_WARN, "cannot write the kernel cache (%s)", path ? path : "no cache dir");
		free(sum);
		free(path);
		return NULL;
	}
	free(sum);
	return path;
}
