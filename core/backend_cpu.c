/* The cpu backend: the kernel source compiled by the host C compiler into
 * a shared object (cached), dlopened, and run with OpenMP over blocks of
 * runs, each block in SIMD lanes (cubie/device/lanes.h).
 * "Device" memory is host memory, copies are memcpy, streams are nominal:
 * everything completes before the call returns. */
#include "config.h"
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KEPT 8                       /* blocks */
#define KEPT_MIN ((size_t)1 << 20)  /* bytes: smaller ones malloc reuses itself */

struct cpu_backend {
	backend base;
	int threads;
	void *so;
	void (*solve)(const struct cubie_args *a);
	void (*sweep)(const struct cubie_args *a);
	/* Large blocks freed, kept for the next solve's allocations: malloc
	 * maps them afresh each time, and a fresh page costs a fault and a
	 * clear (a 2^20-run dopri5 solve spent a tenth of its time there). */
	pthread_mutex_t lock;
	struct kept {
		void *p;
		size_t n;
	} kept[KEPT];
	size_t kept_bytes;
};

/* Is every word of a compiler command that is not an option (e.g. both of
 * "ccache gcc") an executable, by path or on $PATH? */
static int runnable(const char *cmd)
{
	char *copy = cb_strdup(cmd), *save = NULL;
	int ok = copy != NULL && *cmd;
	for (char *w = copy ? strtok_r(copy, " \t", &save) : NULL; w && ok;
	     w = strtok_r(NULL, " \t", &save)) {
		if (*w == '-' || strchr(w, '='))
			continue;
		if (strchr(w, '/')) {
			ok = access(w, X_OK) == 0;
			continue;
		}
		const char *path = getenv("PATH");
		int found = 0;
		for (const char *p = path ? path : "/usr/bin:/bin"; !found; p++) {
			size_t n = strcspn(p, ":");
			char *f = cb_printf("%.*s/%s", (int)n, n ? p : ".", w);
			found = f && access(f, X_OK) == 0;
			free(f);
			p += n;
			if (!*p)
				break;
		}
		ok = found;
	}
	free(copy);
	return ok;
}

/* The compiler for kernels: $CUBIE_CC when set (and nothing else, as the
 * user asked for it), else the one cubie was configured with, else cc.
 * NULL, with a message that says what to install, when none is there. */
static const char *compiler(cubie_error *e)
{
	static const char *const dist =
		"install a C compiler (Debian/Ubuntu: apt-get install gcc; Fedora: dnf install "
		"gcc; or clang) or name one in CUBIE_CC";
	const char *env = getenv("CUBIE_CC");
	if (env && *env) {
		if (runnable(env))
			return env;
		cb_fail(e, CUBIE_ERR_RUNTIME, "the cpu backend compiles kernels with a C compiler: "
		        "CUBIE_CC='%s' is not found; %s", env, dist);
		return NULL;
	}
	if (runnable(CUBIE_CC))
		return CUBIE_CC;
	if (runnable("cc"))
		return "cc";
	cb_fail(e, CUBIE_ERR_RUNTIME, "the cpu backend compiles kernels with a C compiler at run "
	        "time, and none was found ('%s', as configured, nor 'cc'): %s", CUBIE_CC, dist);
	return NULL;
}

/* Kernels are compiled at run time on the machine that runs them (and
 * cached under a key that names its CPU: host_cpu), so for its CPU:
 * -O3 -march=native. No errno and no traps from floating point: the values
 * are the same, but conditional arithmetic and math calls can then be
 * if-converted, which the masked lanes of adaptive steps need to vectorize
 * (cubie/device/lanes.h). A compiler that refuses these gets the portable
 * set. */
static const char *const cpu_flags =
	"-O3 -march=native -fno-math-errno -fno-trapping-math -fPIC -shared";
static const char *const cpu_flags_portable = "-O2 -fPIC -shared";

/* With summaries, no fused multiply-adds: an observable both saved and
 * summarised is evaluated in two loops, which the compiler may contract
 * differently, and the summaries (divided differences above all) would no
 * longer be those of the saved series to the bit. */
static const char *cpu_flags_for(const char *src)
{
	static const char *const no_fma =
		"-O3 -march=native -fno-math-errno -fno-trapping-math -ffp-contract=off -fPIC -shared";
	const char *d = strstr(src, "\n#define CUBIE_NSUMVARS ");
	return d && atoi(d + 24) > 0 ? no_fma : cpu_flags;
}

/* What -march=native sees: the CPU's identity and features (first
 * processor of /proc/cpuinfo; where there is none, the compiler's own
 * view of this CPU). Part of the cache key, so that a cache shared between
 * machines never hands one CPU a kernel built for another. */
static char *host_cpu(void)
{
	static const char *const keys[] = {"vendor_id", "cpu family", "model", "model name",
		"flags", "Features", "CPU implementer", "CPU architecture", "CPU variant", "CPU part",
		"isa", "cpu", NULL};
	sbuf b = {0};
	char line[8192];
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof line, f) && line[0] != '\n') {
		size_t k = strcspn(line, "\t:");
		for (int i = 0; keys[i]; i++)
			if (strlen(keys[i]) == k && !strncmp(line, keys[i], k)) {
				sb_add(&b, "%s", line);
				break;
			}
	}
	if (f)
		fclose(f);
#if defined(__x86_64__) || defined(__i386__)
	if (!b.len) {
		__builtin_cpu_init();
		sb_add(&b, "x86 avx %d avx2 %d fma %d avx512f %d", __builtin_cpu_supports("avx"),
		       __builtin_cpu_supports("avx2"), __builtin_cpu_supports("fma"),
		       __builtin_cpu_supports("avx512f"));
	}
#endif
	if (!b.len)
		sb_add(&b, "unknown cpu");
	return b.s;
}

/* Run `cc flags -o out in -lm` without a shell; diagnostics go to log. */
static int run_compiler(const char *cc, const char *flags, const char *in, const char *out,
                        const char *log)
{
	char *cmd = cb_printf("%s %s %s -o %s %s -lm", cc, flags, CUBIE_OPENMP_CFLAGS,
	                      out, in);
	if (!cmd)
		return -1;
	char *argv[64];
	int argc = 0;
	for (char *tok = strtok(cmd, " \t"); tok && argc < 63; tok = strtok(NULL, " \t"))
		argv[argc++] = tok;
	argv[argc] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		FILE *f = freopen(log, "w", stderr);
		(void)f;
		dup2(2, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	int status = -1;
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	free(cmd);
	return pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static char *first_lines(const char *path, int lines)
{
	sbuf b = {0};
	char buf[512];
	FILE *f = fopen(path, "r");
	while (f && lines-- > 0 && fgets(buf, sizeof buf, f)) {
		buf[strcspn(buf, "\n")] = 0;
		sb_add(&b, "%s%s", b.len ? " | " : "", buf);
	}
	if (f)
		fclose(f);
	return b.s;
}

/* Compile src into the cache; return the shared object's path. When the
 * cache takes no entry, the object stays in its work directory, named in
 * *scratch, for the caller to remove once loaded. */
static char *compile(struct cpu_backend *cb, const char *cc, const char *src, const char *digest,
                     char **scratch, cubie_error *e)
{
	char *dir = cache_dir();
	char *work = dir ? cb_printf("%s/cubie-cc-XXXXXX", dir) : NULL;
	free(dir);
	*scratch = NULL;
	if (!work || !mkdtemp(work)) {
		free(work);
		cb_fail(e, CUBIE_ERR_RUNTIME, "cannot make a directory to compile the kernel in: %s",
		        strerror(errno));
		return NULL;
	}
	char *in = cb_printf("%s/kernel.c", work), *out = cb_printf("%s/kernel.so", work);
	char *log = cb_printf("%s/cc.log", work), *path = NULL;
	FILE *f = fopen(in, "w");
	int ok = f && fputs(src, f) >= 0;
	ok = f && fclose(f) == 0 && ok;
	double t = cb_now();
	if (!ok) {
		cb_fail(e, CUBIE_ERR_RUNTIME, "cannot write %s: %s", in, strerror(errno));
	} else if (run_compiler(cc, cpu_flags_for(src), in, out, log) &&
	           run_compiler(cc, cpu_flags_portable, in, out, log)) {
		char *msg = first_lines(log, 6);
		/* with output, the compiler ran and refused the source: keep it */
		char *kept = msg ? kernel_keep(src, digest, "c") : NULL;
		cb_fail(e, msg ? CB_ERR_SOURCE : CUBIE_ERR_RUNTIME,
		        "the C compiler '%s' failed on the kernel%s%s%s: %s", cc, kept ? " (kept as " : "",
		        kept ? kept : "", kept ? ")" : "",
		        msg ? msg : "(no output: does it run? set CUBIE_CC to a working compiler)");
		free(msg);
		free(kept);
	} else {
		char *warn = first_lines(log, 20), *kept = NULL;
		if (warn) /* warnings: shown with -v */
			cb_log(CUBIE_LOG_INFO, "cpu: the C compiler says: %s", warn);
		if (kernel_keep_always() && (kept = kernel_keep(src, digest, "c")))
			cb_log(CUBIE_LOG_INFO, "cpu: kernel source kept as %s", kept);
		free(warn);
		free(kept);
		cb->base.compile_s = cb_now() - t;
		size_t len = 0;
		FILE *so = fopen(out, "rb");
		char *data = NULL;
		if (so && !fseek(so, 0, SEEK_END) && (len = (size_t)ftell(so)) > 0 &&
		    !fseek(so, 0, SEEK_SET) && (data = malloc(len)) && fread(data, 1, len, so) == len)
			path = cache_store(digest, "so", data, len);
		if (so)
			fclose(so);
		free(data);
		if (!path) { /* no usable cache: load from the work directory */
			path = out;
			out = NULL;
			*scratch = work;
			work = NULL;
		}
	}
	unlink(in);
	if (out)
		unlink(out);
	unlink(log);
	if (work)
		rmdir(work);
	free(in), free(out), free(log), free(work);
	return path;
}

/* Load the kernel at path; NULL with the loader's message in *why. */
static void (*load_so(struct cpu_backend *cb, const char *path, const char **why))
	(const struct cubie_args *)
{
	/* Never unloaded: OpenMP's idle worker threads outlive a dlclose of
	 * the runtime that the kernel pulled in, and would crash. */
	cb->so = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	void *fn = cb->so ? dlsym(cb->so, "cubie_cpu_solve") : NULL;
	void *sweep = fn ? dlsym(cb->so, "cubie_cpu_sweep") : NULL;
	cb->sweep = (void (*)(const struct cubie_args *))sweep;
	fn = sweep ? fn : NULL;
	*why = fn ? NULL : dlerror();
	if (!fn && cb->so)
		dlclose(cb->so), cb->so = NULL;
	return (void (*)(const struct cubie_args *))fn;
}

static int cpu_load(backend *b, const char *src, cubie_error *e)
{
	struct cpu_backend *cb = (struct cpu_backend *)b;
	char salt[512], digest[33], *scratch = NULL;
	const char *why = NULL;
	char *full = cb->threads > 0 ? cb_printf("#define CUBIE_THREADS %d\n%s", cb->threads, src)
	                             : cb_strdup(src);
	if (!full)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	const char *cc = compiler(e);
	if (!cc)
		return free(full), CUBIE_ERR_RUNTIME;
	char *host = host_cpu();
	snprintf(salt, sizeof salt, "cpu|%s|%s|%s|", cc, cpu_flags_for(full), CUBIE_OPENMP_CFLAGS);
	/* the CPU goes in as data: its feature list outgrows salt */
	char *keyed = host ? cb_printf("%s%s", host, full) : NULL;
	free(host);
	if (!keyed)
		return free(full), cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	cache_key(keyed, strlen(keyed), salt, digest);
	free(keyed);
	b->compile_s = 0;
	char *path = cache_lookup(digest, "so");
	b->cache_hit = path && (cb->solve = load_so(cb, path, &why));
	if (path && !b->cache_hit) { /* whole, yet it will not load: rebuild it */
		cb_log(CUBIE_LOG_WARN, "cached kernel %s does not load (%s): rebuilding it", path, why);
		cache_discard(digest, "so");
		free(path);
		path = NULL;
	}
	if (!path && (path = compile(cb, cc, full, digest, &scratch, e)))
		cb->solve = load_so(cb, path, &why);
	free(full);
	if (!path) /* CB_ERR_SOURCE when the compiler refused the source */
		return e && e->code ? e->code : CUBIE_ERR_RUNTIME;
	int rc = 0;
	if (!cb->solve)
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "cannot load the compiled kernel %s: %s", path, why);
	if (scratch) { /* loaded or not, the object is no longer needed on disk */
		unlink(path);
		rmdir(scratch);
		free(scratch);
	}
	free(path);
	return rc;
}

static int cpu_launch(backend *b, const struct cubie_args *a, void *s, cubie_error *e)
{
	double t = cb_now();
	((struct cpu_backend *)b)->solve(a);
	b->kernel_s += cb_now() - t;
	return 0;
}

static int cpu_sweep(backend *b, const struct cubie_args *a, void *s, cubie_error *e)
{
	((struct cpu_backend *)b)->sweep(a);
	return 0;
}

/* The stream's work is done when a call returns: run fn now. */
static int cpu_after(backend *b, void *s, void (*fn)(void *), void *ctx)
{
	fn(ctx);
	return 0;
}

static int cpu_stream_idle(backend *b, void *s)
{
	return 1;
}

static int cpu_mem_info(backend *b, size_t *free_b, size_t *total_b)
{
	struct cpu_backend *cb = (struct cpu_backend *)b;
	host_mem_info(free_b, total_b);
	pthread_mutex_lock(&cb->lock);
	*free_b += cb->kept_bytes; /* ours to reuse */
	pthread_mutex_unlock(&cb->lock);
	return 0;
}

static int cpu_stream_create(backend *b, void **s, cubie_error *e)
{
	*s = NULL;
	return 0;
}
static void cpu_stream_destroy(backend *b, void *s) {}
static int cpu_stream_sync(backend *b, void *s, cubie_error *e) { return 0; }

static int cpu_copy_h2d(backend *b, uint64_t dst, const void *src, size_t n, void *s, cubie_error *e)
{
	memcpy((void *)(uintptr_t)dst, src, n);
	return 0;
}

static int cpu_copy_d2h(backend *b, void *dst, uint64_t src, size_t n, void *s, cubie_error *e)
{
	memcpy(dst, (const void *)(uintptr_t)src, n);
	return 0;
}

static int cpu_copy_h2d_rows(backend *b, uint64_t dst, size_t dpitch, const void *src,
                             size_t spitch, size_t width, size_t rows, void *s, cubie_error *e)
{
	for (size_t k = 0; k < rows; k++)
		memcpy((char *)(uintptr_t)dst + k * dpitch, (const char *)src + k * spitch, width);
	return 0;
}

static int cpu_copy_d2h_rows(backend *b, void *dst, size_t dpitch, uint64_t src, size_t spitch,
                             size_t width, size_t rows, void *s, cubie_error *e)
{
	for (size_t k = 0; k < rows; k++)
		memcpy((char *)dst + k * dpitch, (const char *)(uintptr_t)src + k * spitch, width);
	return 0;
}

static void drop_kept(struct cpu_backend *cb)
{
	pthread_mutex_lock(&cb->lock);
	for (int i = 0; i < KEPT; i++) {
		free(cb->kept[i].p);
		cb->kept[i].p = NULL;
	}
	cb->kept_bytes = 0;
	pthread_mutex_unlock(&cb->lock);
}

/* A kept block of at least bytes, at most 1.5 times that, or NULL. */
static size_t *take_kept(struct cpu_backend *cb, size_t bytes)
{
	size_t *p = NULL;
	pthread_mutex_lock(&cb->lock);
	for (int i = 0; bytes >= KEPT_MIN && i < KEPT && !p; i++)
		if (cb->kept[i].p && cb->kept[i].n >= bytes && cb->kept[i].n - bytes <= bytes / 2) {
			p = cb->kept[i].p;
			cb->kept[i].p = NULL;
			cb->kept_bytes -= cb->kept[i].n;
		}
	pthread_mutex_unlock(&cb->lock);
	return p;
}

/* Blocks come with their size in front (16 bytes, keeping malloc's
 * alignment), so that a freed one can be kept and matched. */
static int cpu_mem_alloc(void *ctx, size_t bytes, uint64_t *ptr)
{
	struct cpu_backend *cb = ctx;
	size_t *p = take_kept(cb, bytes);
	if (!p && bytes >= KEPT_MIN) /* other sizes than last time: the kept would only add */
		drop_kept(cb);
	if (!p && bytes <= SIZE_MAX - 16 && (p = malloc(bytes + 16)))
		p[0] = bytes;
	*ptr = (uint64_t)(uintptr_t)(p ? p + 2 : NULL);
	return p ? 0 : -1;
}

/* Kept in an empty slot, or in place of a smaller block. */
static int cpu_mem_free(void *ctx, uint64_t ptr)
{
	struct cpu_backend *cb = ctx;
	size_t *p = ptr ? (size_t *)(uintptr_t)ptr - 2 : NULL;
	pthread_mutex_lock(&cb->lock);
	int slot = -1;
	for (int i = 0; p && p[0] >= KEPT_MIN && i < KEPT; i++)
		if (slot < 0 || !cb->kept[i].p || (cb->kept[slot].p && cb->kept[i].n < cb->kept[slot].n))
			slot = i;
	if (slot >= 0 && (!cb->kept[slot].p || cb->kept[slot].n < p[0])) {
		size_t *old = cb->kept[slot].p;
		cb->kept_bytes += p[0] - (old ? cb->kept[slot].n : 0);
		cb->kept[slot] = (struct kept){p, p[0]};
		p = old;
	}
	pthread_mutex_unlock(&cb->lock);
	free(p);
	return 0;
}

static int cpu_pinned_alloc(void *ctx, size_t bytes, void **ptr)
{
	*ptr = malloc(bytes ? bytes : 1);
	return *ptr ? 0 : -1;
}

static int cpu_pinned_free(void *ctx, void *ptr)
{
	free(ptr);
	return 0;
}

static void cpu_close(backend *b)
{
	struct cpu_backend *cb = (struct cpu_backend *)b;
	if (cb->so)
		dlclose(cb->so); /* drops the reference; RTLD_NODELETE keeps the code */
	drop_kept(cb);
	pthread_mutex_destroy(&cb->lock);
	free(cb);
}

static const struct backend_ops cpu_ops = {
	.name = "cpu",
	.close = cpu_close,
	.mem_info = cpu_mem_info,
	.load = cpu_load,
	.launch = cpu_launch,
	.sweep = cpu_sweep,
	.stream_create = cpu_stream_create,
	.stream_destroy = cpu_stream_destroy,
	.stream_sync = cpu_stream_sync,
	.copy_h2d = cpu_copy_h2d,
	.copy_d2h = cpu_copy_d2h,
	.copy_h2d_rows = cpu_copy_h2d_rows,
	.copy_d2h_rows = cpu_copy_d2h_rows,
	.after = cpu_after,
	.stream_idle = cpu_stream_idle,
	.mem_alloc = cpu_mem_alloc,
	.mem_free = cpu_mem_free,
	.pinned_alloc = cpu_pinned_alloc,
	.pinned_free = cpu_pinned_free,
	/* no stream-ordered primitives: async_pool needs the cuda backend */
};

int backend_cpu_open(int threads, backend **out, cubie_error *e)
{
	struct cpu_backend *cb = calloc(1, sizeof *cb);
	if (!cb)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	cb->base.ops = &cpu_ops;
	cb->threads = threads;
	pthread_mutex_init(&cb->lock, NULL);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (threads > 0)
		snprintf(cb->base.device, sizeof cb->base.device, "cpu: %d threads (of %ld cores)",
		         threads, n);
	else
		snprintf(cb->base.device, sizeof cb->base.device, "cpu: %ld cores%s", n,
		         *CUBIE_OPENMP_CFLAGS ? ", OpenMP" : ", no OpenMP");
	cb->base.block_size = 1;
	cb->base.host_memory = 1;
	cb->base.slice_min = 64;
	*out = &cb->base;
	return 0;
}
