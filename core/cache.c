/* The on-disk cache of compiled kernels. An entry is a payload file named
 * by the hash of everything that shaped it, plus a ".sum" file with its
 * length and checksum, written last: an entry without a matching sum was
 * interrupted or damaged, and is rebuilt rather than trusted.
 *
 * A cached kernel is code that will run as this user, and a checksum is no
 * signature: the cache is trusted only where no one else can write (the
 * checks of ccache and ssh). Otherwise the process compiles into a private
 * temporary directory of its own, removed at exit. */
#include "config.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
			if (mkdir(path, 0700) && errno != EEXIST) {
				*p = '/';
				return -1;
			}
			*p = '/';
		}
	return mkdir(path, 0700) && errno != EEXIST ? -1 : 0;
}

/* NULL when dir may hold code this user runs: every directory on its real
 * path belongs to this user or root and is writable by no one else (unless
 * sticky, as /tmp is: there others cannot replace what is not theirs), and
 * dir itself is this user's and writable. Else why it may not. */
static const char *untrusted(const char *dir)
{
	char *real = realpath(dir, NULL);
	struct stat st;
	const char *why = NULL;
	uid_t me = geteuid();
	if (!real)
		return "it cannot be created or resolved";
	for (char *p = real;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = 0;
		int last = !c || !p[1];
		if (stat(*real ? real : "/", &st) != 0 || !S_ISDIR(st.st_mode))
			why = "it is not a directory";
		else if (last && st.st_uid != me)
			why = "it belongs to another user";
		else if (last && (st.st_mode & 022))
			why = "others may write to it";
		else if (!last && st.st_uid != me && st.st_uid != 0)
			why = "a directory above it belongs to another user";
		else if (!last && (st.st_mode & 022) && !(st.st_mode & S_ISVTX))
			why = "others may write to a directory above it";
		else if (last && access(real, W_OK | X_OK) != 0)
			why = "it cannot be written";
		*p = c;
		if (why || last)
			break;
	}
	free(real);
	return why;
}

/* The private fallback: made once, removed at exit (or on a signal, see
 * tmpfiles.c) with all it holds: it is ours alone. */
static char *private_dir;

static char *private_cache(void)
{
	if (!private_dir) {
		const char *tmp = getenv("TMPDIR");
		private_dir = cb_printf("%s/cubie-cache-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!private_dir || !mkdtemp(private_dir)) {
			free(private_dir);
			private_dir = NULL;
			return NULL;
		}
		tmp_own_dir(private_dir);
		atexit(tmp_remove_own_dir);
	}
	return cb_strdup(private_dir);
}

char *cache_dir(void)
{
	static char *warned; /* each untrusted directory is reported once */
	const char *env = getenv("CUBIE_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME"), *why;
	char *d = NULL;
	if (env && *env)
		d = cb_strdup(env);
	else if (xdg && *xdg)
		d = cb_printf("%s/cubie", xdg);
	else if (home && *home)
		d = cb_printf("%s/.cache/cubie", home);
	if (!d)
		return private_cache();
	mkdirs(d);
	if (!(why = untrusted(d)))
		return d;
	if (!warned || strcmp(warned, d)) {
		cb_log(CUBIE_LOG_WARN, "not using the kernel cache %s: %s; compiling into a private "
		       "temporary directory", d, why);
		free(warned);
		warned = d;
	} else {
		free(d);
	}
	return private_cache();
}

static char *entry_path(const char *dir, const char *digest, const char *ext, const char *suffix)
{
	return cb_printf("%s/%s.%s%s", dir, digest, ext, suffix);
}

/* The entry's lock: writers rename under it, and nothing is removed but
 * under it, so that no one removes what another process is writing. */
static int lock_entry(const char *dir, const char *digest, const char *ext)
{
	char *p = entry_path(dir, digest, ext, ".lock");
	int fd = p ? open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600) : -1;
	free(p);
	if (fd >= 0)
		while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
			;
	return fd;
}

static void unlock_entry(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the lock */
}

/* The contents of path, when it is a regular file of this user that no one
 * else may write; else NULL (with errno EPERM for a file of that kind). */
static void *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022)) {
		close(fd);
		errno = EPERM;
		return NULL;
	}
	char *buf = NULL;
	size_t cap = 0, n = 0;
	ssize_t r;
	do {
		if (n == cap) {
			char *p = realloc(buf, cap = cap ? 2 * cap : 65536);
			if (!p) {
				free(buf);
				close(fd);
				return NULL;
			}
			buf = p;
		}
		r = read(fd, buf + n, cap - n);
		n += r > 0 ? (size_t)r : 0;
	} while (r > 0 || (r < 0 && errno == EINTR));
	close(fd);
	*len = n;
	return buf;
}

/* 1 when the entry's payload matches its sum, 0 when it does not, -1 when
 * either part is missing or not to be trusted. */
static int verify(const char *path, const char *sum)
{
	size_t len = 0, slen = 0;
	void *data = slurp(path, &len);
	int perm = !data && errno == EPERM;
	char *stext = slurp(sum, &slen);
	perm |= !stext && errno == EPERM;
	unsigned long long want_len, want_sum;
	int good = -1;
	if (perm)
		cb_log(CUBIE_LOG_WARN, "cache entry %s is not this user's alone: ignoring it", path);
	else if (data && stext) {
		good = slen < 100;
		if (good) {
			stext[slen] = 0; /* slurp leaves room: slen < cap */
			good = sscanf(stext, "%llu %llx", &want_len, &want_sum) == 2 && want_len == len &&
			       want_sum == fnv1a(data, len, 0xcbf29ce484222325ULL);
		}
	} else if (data) {
		good = 0; /* a payload without its sum */
	}
	free(data);
	free(stext);
	return good;
}

/* Remove both parts, under the lock; recheck: re-verify first and keep an
 * entry that is whole by then (another process has just rewritten it). */
static void remove_entry(const char *dir, const char *digest, const char *ext, int recheck)
{
	char *path = entry_path(dir, digest, ext, ""), *sum = entry_path(dir, digest, ext, ".sum");
	int fd = lock_entry(dir, digest, ext);
	if (path && sum && fd >= 0 && (!recheck || verify(path, sum) == 0)) {
		unlink(sum);
		unlink(path);
	}
	unlock_entry(fd);
	free(path);
	free(sum);
}

char *cache_lookup(const char *digest, const char *ext)
{
	char *dir = cache_dir();
	char *path = dir ? entry_path(dir, digest, ext, "") : NULL;
	char *sum = dir ? entry_path(dir, digest, ext, ".sum") : NULL;
	int good = path && sum ? verify(path, sum) : -1;
	if (good == 0) {
		cb_log(CUBIE_LOG_WARN, "cache entry %s is damaged: rebuilding it", path);
		remove_entry(dir, digest, ext, 1);
	}
	free(sum);
	free(dir);
	if (good != 1) {
		free(path);
		return NULL;
	}
	return path;
}

void cache_discard(const char *digest, const char *ext)
{
	char *dir = cache_dir();
	if (dir)
		remove_entry(dir, digest, ext, 0);
	free(dir);
}

/* Write to a unique temporary file in the same directory; the caller
 * renames it into place. Returns the temporary's name. */
static char *write_temp(const char *path, const void *data, size_t len)
{
	char *tmp = cb_printf("%s.tmp-XXXXXX", path);
	int fd = tmp ? mkstemp(tmp) : -1;
	if (fd < 0) {
		free(tmp);
		return NULL;
	}
	FILE *f = fdopen(fd, "wb");
	int ok = f && fwrite(data, 1, len, f) == len;
	ok = f && fclose(f) == 0 && ok;
	if (!f)
		close(fd);
	if (!ok) {
		unlink(tmp);
		free(tmp);
		return NULL;
	}
	return tmp;
}

char *cache_store(const char *digest, const char *ext, const void *data, size_t len)
{
	char *dir = cache_dir();
	char *path = dir ? entry_path(dir, digest, ext, "") : NULL;
	char *sum = dir ? entry_path(dir, digest, ext, ".sum") : NULL;
	char stext[64], *tp = NULL, *ts = NULL;
	snprintf(stext, sizeof stext, "%llu %llx\n", (unsigned long long)len,
	         (unsigned long long)fnv1a(data, len, 0xcbf29ce484222325ULL));
	int ok = path && sum && (tp = write_temp(path, data, len)) &&
	         (ts = write_temp(sum, stext, strlen(stext)));
	if (ok) {
		int fd = lock_entry(dir, digest, ext);
		if (fd >= 0 && rename(tp, path) == 0) {
			free(tp), tp = NULL;
			if (rename(ts, sum) == 0)
				free(ts), ts = NULL;
		}
		ok = !tp && !ts;
		unlock_entry(fd);
	}
	if (tp)
		unlink(tp);
	if (ts)
		unlink(ts);
	free(tp);
	free(ts);
	free(sum);
	free(dir);
	if (!ok) {
		cb_log(CUBIE_LOG_WARN, "cannot write the kernel cache (%s)", path ? path : "no cache dir");
		free(path);
		return NULL;
	}
	return path;
}
