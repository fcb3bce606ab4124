/* Temporary files: those that writers leave beside their target while they
 * work, named TARGET.tmp-PID-XXXXXX (and TARGET.old-PID-XXXXXX for an
 * earlier output moved aside), as cubie-plugin(7) asks of them, and the
 * process's private kernel cache (cache.c). Before a write, the writers'
 * temporaries of processes that no longer exist are removed; on SIGINT or
 * SIGTERM the program removes its own (cubie_remove_temporaries, which a
 * signal handler may call: system calls only, on paths set beforehand). */
#include "config.h"
#include "internal.h"
#include "ranks.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char dir[PATH_MAX], base[NAME_MAX + 1];
static volatile sig_atomic_t armed;
static char own_dir[PATH_MAX];
static pid_t own_pid;

struct dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* The pid in "BASE.tmp-PID-XXXXXX" or "BASE.old-PID-XXXXXX", or 0. */
static long owner(const char *name)
{
	size_t n = strlen(base);
	long pid = 0;
	if (strncmp(name, base, n) || (strncmp(name + n, ".tmp-", 5) && strncmp(name + n, ".old-", 5)))
		return 0;
	const char *p = name + n + 5;
	if (*p < '1' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9' && pid < 100000000; p++)
		pid = pid * 10 + (*p - '0');
	return *p == '-' && strlen(p + 1) == 6 ? pid : 0;
}

/* Calls fn(dfd, name, arg) on each entry of the directory open at dfd. */
static void each(int dfd, void (*fn)(int, const char *, long), long arg)
{
	char buf[4096];
	long n;
	while ((n = syscall(SYS_getdents64, dfd, buf, sizeof buf)) > 0)
		for (long off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(buf + off);
			off += d->d_reclen;
			if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
				fn(dfd, d->d_name, arg);
		}
}

/* Plain files only; kernel sources kept for the user (kernel-*, see
 * kernel_keep) too when keep is set. */
static void unlink_file(int dfd, const char *name, long keep)
{
	if (keep && !strncmp(name, "kernel-", 7))
		return;
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
		unlinkat(dfd, name, 0);
}

/* Remove name when it is a temporary of pid only (>0), or else of a
 * process that is gone; a directory goes with the plain files in it. */
static void remove_stale(int dfd, const char *name, long only)
{
	long pid = owner(name);
	struct stat st;
	if (!pid || (only ? pid != only : pid == getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH))
		return;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	if (S_ISREG(st.st_mode)) {
		unlinkat(dfd, name, 0);
	} else if (S_ISDIR(st.st_mode)) {
		int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0) {
			each(sub, unlink_file, 0);
			close(sub);
		}
		unlinkat(dfd, name, AT_REMOVEDIR);
	}
}

static void sweep(long only)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		each(dfd, remove_stale, only);
		close(dfd);
	}
}

void tmp_begin(const char *target)
{
	size_t n = strlen(target);
	while (n > 1 && target[n - 1] == '/')
		n--;
	const char *slash = NULL;
	for (size_t i = 0; i < n; i++)
		if (target[i] == '/')
			slash = target + i;
	size_t dn = slash ? (size_t)(slash - target) : 0, bn = n - (slash ? dn + 1 : 0);
	armed = 0;
	if (dn + 2 > sizeof dir || bn + 1 > sizeof base || bn == 0)
		return;
	if (slash) {
		memcpy(dir, target, dn ? dn : 1);
		dir[dn ? dn : 1] = 0;
	} else {
		strcpy(dir, ".");
	}
	memcpy(base, target + n - bn, bn);
	base[bn] = 0;
	sweep(0);
	armed = 1;
}

void tmp_end(void)
{
	armed = 0;
}

void tmp_own_dir(const char *path)
{
	if (strlen(path) < sizeof own_dir) {
		strcpy(own_dir, path);
		own_pid = getpid();
	}
}

void tmp_remove_own_dir(void)
{
	int dfd;
	/* only by the process that made it, not by a forked child */
	if (!*own_dir || getpid() != own_pid)
		return;
	if ((dfd = open(own_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
		each(dfd, unlink_file, 1);
		close(dfd);
	}
	rmdir(own_dir); /* fails, keeping it, when kept sources remain */
	own_dir[0] = 0;
}

void cubie_remove_temporaries(void)
{
	int err = errno;
	mpi_report_unfinished();
	if (armed)
		sweep(getpid());
	tmp_remove_own_dir();
	errno = err;
}
