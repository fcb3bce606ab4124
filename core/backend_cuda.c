/* The CUDA backend: the driver API and NVRTC, both opened with dlopen at run
 * time so that one build runs with or without a GPU (the build needs only
 * cuda.h and nvrtc.h). Kernels are compiled to a CUBIN for the device's own
 * architecture and cached on disk. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, dlopen */
#endif
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#ifdef HAVE_CUDA
#include <dlfcn.h>
#include <elf.h>
#include <time.h>
#include <cuda.h>
#include <nvrtc.h>

/* Driver entry points. cuda.h #defines many names to their versioned ABI
 * symbol (cuMemAlloc -> cuMemAlloc_v2); X() receives the expanded name, so
 * the member, its type and the string given to dlsym all agree with it. */
#define CU_API(X) X(cuInit) X(cuDriverGetVersion) X(cuGetErrorName) X(cuGetErrorString) \
	X(cuDeviceGetCount) X(cuDeviceGet) X(cuDeviceGetName) X(cuDeviceGetAttribute) \
	X(cuDeviceTotalMem) X(cuDevicePrimaryCtxRetain) X(cuDevicePrimaryCtxRelease) \
	X(cuCtxSetCurrent) X(cuCtxSynchronize) X(cuMemGetInfo) X(cuMemAlloc) X(cuMemFree) \
	X(cuMemAllocAsync) X(cuMemFreeAsync) X(cuDeviceGetDefaultMemPool) \
	X(cuMemPoolSetAttribute) X(cuMemAllocHost) X(cuMemFreeHost) X(cuMemcpyHtoDAsync) \
	X(cuMemcpyDtoHAsync) X(cuStreamCreate) X(cuStreamDestroy) X(cuStreamSynchronize) \
	X(cuModuleLoadData) X(cuModuleUnload) X(cuModuleGetFunction) X(cuLaunchKernel) \
	X(cuFuncGetAttribute) X(cuEventCreate) X(cuEventRecord) X(cuEventQuery) \
	X(cuEventSynchronize) X(cuEventDestroy) X(cuMemcpy2DAsync) X(cuMemHostRegister) \
	X(cuMemHostUnregister) X(cuLaunchHostFunc) X(cuStreamQuery)
#define NVRTC_API(X) X(nvrtcVersion) X(nvrtcGetErrorString) X(nvrtcCreateProgram) \
	X(nvrtcDestroyProgram) X(nvrtcCompileProgram) X(nvrtcGetProgramLogSize) \
	X(nvrtcGetProgramLog) X(nvrtcGetCUBINSize) X(nvrtcGetCUBIN)
#define STR_(x) #x
#define STR(x) STR_(x)
#define MEMBER(f) __typeof__(&f) f;
#define RESOLVE(f) \
	if (!(api->f = (__typeof__(&f))dlsym(api->lib, STR(f)))) missing = STR(f);

#ifdef RTLD_NODELETE
#define DL_FLAGS (RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) /* reopening NVRTC is slow */
#else
#define DL_FLAGS (RTLD_NOW | RTLD_LOCAL)
#endif

struct nvrtc { void *lib; NVRTC_API(MEMBER) };

/* $CUBIE_NVRTC alone when set; else the loader path, then $CUDA_HOME and
 * /usr/local/cuda, whose lib64 is often not on the loader path. */
static int nvrtc_open(struct nvrtc *api, cubie_error *e)
{
	static const char *const names[] = {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"};
	const char *dirs[] = {getenv("CUDA_HOME"), "/usr/local/cuda"};
	const char *only = getenv("CUBIE_NVRTC"), *missing = NULL;
	char path[4096], first[512] = "";
	memset(api, 0, sizeof *api);
	if (only && *only) {
		if (!(api->lib = dlopen(only, DL_FLAGS)))
			return cb_fail(e, CUBIE_ERR_RUNTIME, "NVRTC not found: CUBIE_NVRTC=%s: %s",
			               only, dlerror());
	}
	for (int i = 0; !api->lib && i < 9; i++) {
		const char *dir = i < 3 ? "" : dirs[i / 3 - 1];
		if (!dir || (i >= 3 && !*dir))
			continue;
		snprintf(path, sizeof path, "%s%s%s", dir, *dir ? "/lib64/" : "", names[i % 3]);
		if (!(api->lib = dlopen(path, DL_FLAGS)) && !*first)
			snprintf(first, sizeof first, "%s", dlerror());
	}
	if (!api->lib)
		return cb_fail(e, CUBIE_ERR_RUNTIME,
		               "NVRTC not found (libnvrtc.so.13/.12 on the loader path, in "
		               "$CUDA_HOME/lib64 or /usr/local/cuda/lib64; or set CUBIE_NVRTC): %s",
		               first);
	NVRTC_API(RESOLVE)
	if (missing) {
		dlclose(api->lib);
		api->lib = NULL;
		return cb_fail(e, CUBIE_ERR_RUNTIME, "NVRTC library lacks %s", missing);
	}
	return 0;
}

/* The first error lines of a compiler log (else its first lines), on one
 * line, since cubie_error holds a one-line message. */
static void log_excerpt(const char *log, char *out, size_t len)
{
	size_t n = 0, used = 0;
	out[0] = '\0';
	for (int pass = 0; pass < 2 && !n; pass++)
		for (const char *l = log; *l && n < 4; l += strcspn(l, "\n"), l += *l == '\n') {
			size_t ll = strcspn(l, "\n");
			const char *err = strstr(l, "error");
			if (strspn(l, " \t^") >= ll || (pass == 0 && (!err || err >= l + ll)))
				continue;
			int w = snprintf(out + used, len - used, "%s%.*s", n ? " | " : "", (int)ll, l);
			if (w < 0 || (size_t)w >= len - used)
				return;
			used += (size_t)w, n++;
		}
}

/* A CUBIN of src for sm_<arch>, through the cache (its entry: digest).
 * *secs: compile time, 0 when the cache had it (*hit). The CUBIN is
 * malloc'd. */
static int nvrtc_cubin(const struct nvrtc *nv, const char *src, int arch, char **bin,
                       size_t *len, double *secs, int *hit, char digest[33], cubie_error *e)
{
	char opt_arch[64], salt[700], extra[512];
	const char *opts[16] = {opt_arch, "--std=c++17"};
	int n_opts = 2, major = 0, minor = 0;
	nv->nvrtcVersion(&major, &minor);
	snprintf(opt_arch, sizeof opt_arch, "--gpu-architecture=sm_%d", arch);
	/* CUBIE_NVRTC_OPTIONS: extra options for tuning, e.g. --maxrregcount=32 */
	const char *env = getenv("CUBIE_NVRTC_OPTIONS");
	snprintf(extra, sizeof extra, "%s", env ? env : "");
	for (char *tok = strtok(extra, " \t"); tok && n_opts < 16; tok = strtok(NULL, " \t"))
		opts[n_opts++] = tok;
	/* The key's salt: everything besides the source that shapes the binary. */
	snprintf(salt, sizeof salt, "nvrtc-%d.%d-sm_%d-%s %s %s", major, minor, arch, opts[0], opts[1],
	         env ? env : "");
	cache_key(src, strlen(src), salt, digest);
	*secs = 0;
	*hit = 0;
	*bin = NULL;
	char *path = cache_lookup(digest, "cubin");
	if (path) {
		FILE *f = fopen(path, "rb");
		long n = -1;
		if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
		    (*bin = malloc((size_t)n)) && fread(*bin, 1, (size_t)n, f) == (size_t)n) {
			fclose(f);
			free(path);
			*len = (size_t)n;
			*hit = 1;
			return 0;
		}
		if (f)
			fclose(f);
		cb_log(CUBIE_LOG_WARN, "cuda: cannot read cached %s; compiling again", path);
		free(path);
		free(*bin);
		*bin = NULL;
	}

	nvrtcProgram prog;
	nvrtcResult rc = nv->nvrtcCreateProgram(&prog, src, "cubie_kernel.cu", 0, NULL, NULL);
	if (rc != NVRTC_SUCCESS)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "nvrtcCreateProgram: %s", nv->nvrtcGetErrorString(rc));
	double t0 = cb_now();
	rc = nv->nvrtcCompileProgram(prog, n_opts, opts);
	*secs = cb_now() - t0;
	size_t loglen = 0;
	char *log = NULL;
	if (nv->nvrtcGetProgramLogSize(prog, &loglen) == NVRTC_SUCCESS && (log = malloc(loglen + 1))) {
		if (nv->nvrtcGetProgramLog(prog, log) != NVRTC_SUCCESS)
			log[0] = '\0';
		log[loglen] = '\0';
	}
	/* warnings are shown with -v (info); a failure's log is in the error */
	if (log && log[strspn(log, " \n")] && rc == NVRTC_SUCCESS)
		cb_log(CUBIE_LOG_INFO, "cuda: NVRTC says, for sm_%d:\n%s", arch, log);
	if (rc != NVRTC_SUCCESS || kernel_keep_always()) {
		char *kept = kernel_keep(src, digest, "cu");
		if (rc == NVRTC_SUCCESS && kept)
			cb_log(CUBIE_LOG_INFO, "cuda: kernel source kept as %s", kept);
		if (rc != NVRTC_SUCCESS) {
			char ex[640];
			log_excerpt(log ? log : "", ex, sizeof ex);
			free(log);
			nv->nvrtcDestroyProgram(&prog);
			int code = cb_fail(e, rc == NVRTC_ERROR_COMPILATION ? CB_ERR_SOURCE : CUBIE_ERR_RUNTIME,
			        "NVRTC could not compile the kernel for sm_%d (%s; kept as %s): %s", arch,
			        nv->nvrtcGetErrorString(rc), kept ? kept : "not kept: no cache directory",
			        *ex ? ex : "no log");
			free(kept);
			return code;
		}
		free(kept);
	}
	free(log);
	*bin = NULL;
	if ((rc = nv->nvrtcGetCUBINSize(prog, len)) != NVRTC_SUCCESS || !(*bin = malloc(*len)) ||
	    (rc = nv->nvrtcGetCUBIN(prog, *bin)) != NVRTC_SUCCESS) {
		free(*bin);
		nv->nvrtcDestroyProgram(&prog);
		return cb_fail(e, CUBIE_ERR_RUNTIME, "nvrtcGetCUBIN: %s",
		               rc != NVRTC_SUCCESS ? nv->nvrtcGetErrorString(rc) : "out of memory");
	}
	nv->nvrtcDestroyProgram(&prog);
	if ((path = cache_store(digest, "cubin", *bin, *len)))
		free(path);
	else
		cb_log(CUBIE_LOG_DEBUG, "cuda: no usable cache directory; the kernel is not cached");
	return 0;
}

/* Registers and stack bytes per thread of function fn, read from the
 * CUBIN's ELF: the .nv.info section holds records {u8 format, u8 attribute,
 * u16 size} + payload, and the per-function attributes below have the
 * payload {u32 symbol index, u32 value}. (ptxas -v prints the same numbers,
 * but the ELF does not depend on a log's wording.) */
enum { EIFMT_SVAL = 4, EIATTR_FRAME_SIZE = 0x11, EIATTR_MIN_STACK_SIZE = 0x12,
       EIATTR_MAX_STACK_SIZE = 0x23, EIATTR_REGCOUNT = 0x2f };
static int cubin_usage(const unsigned char *d, size_t n, const char *fn, int *regs, size_t *local)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, link;
	uint32_t sym = 0, u[2];
	int found = 0;
	if (n < sizeof eh || memcmp(d, ELFMAG, SELFMAG) || d[EI_CLASS] != ELFCLASS64)
		return -1;
	memcpy(&eh, d, sizeof eh);
	if (eh.e_shentsize != sizeof sh || eh.e_shoff > n || eh.e_shstrndx >= eh.e_shnum ||
	    (n - eh.e_shoff) / sizeof sh < eh.e_shnum)
		return -1;
#define SHDR(i, s) memcpy(&(s), d + eh.e_shoff + (size_t)(i) * sizeof(s), sizeof(s))
#define INSIDE(s) ((s).sh_offset <= n && (s).sh_size <= n - (s).sh_offset)
	/* The symbol index of fn. */
	for (unsigned i = 0; i < eh.e_shnum && !sym; i++) {
		SHDR(i, sh);
		if (sh.sh_type != SHT_SYMTAB || !INSIDE(sh) || sh.sh_link >= eh.e_shnum)
			continue;
		SHDR(sh.sh_link, link);
		if (!INSIDE(link))
			continue;
		for (size_t k = 1; k < sh.sh_size / sizeof(Elf64_Sym); k++) {
			Elf64_Sym s;
			memcpy(&s, d + sh.sh_offset + k * sizeof s, sizeof s);
			if (s.st_name < link.sh_size &&
			    !strncmp((const char *)d + link.sh_offset + s.st_name, fn, link.sh_size - s.st_name)) {
				sym = (uint32_t)k;
				break;
			}
		}
	}
	Elf64_Shdr names;
	SHDR(eh.e_shstrndx, names);
	if (!sym || !INSIDE(names))
		return -1;
	*regs = 0;
	*local = 0;
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		SHDR(i, sh);
		if (!INSIDE(sh) || sh.sh_name >= names.sh_size ||
		    strncmp((const char *)d + names.sh_offset + sh.sh_name, ".nv.info",
		            names.sh_size - sh.sh_name))
			continue;
		const unsigned char *p = d + sh.sh_offset, *end = p + sh.sh_size;
		while (end - p >= 4) {
			uint16_t size = (uint16_t)(p[2] | p[3] << 8);
			int fmt = p[0], attr = p[1];
			p += 4;
			if (fmt != EIFMT_SVAL)
				continue;
			if (size > end - p)
				break;
			if (size >= 8) {
				memcpy(u, p, 8);
				if (u[0] == sym && attr == EIATTR_REGCOUNT)
					*regs = (int)u[1], found = 1;
				else if (u[0] == sym && (attr == EIATTR_FRAME_SIZE ||
				                         attr == EIATTR_MIN_STACK_SIZE ||
				                         attr == EIATTR_MAX_STACK_SIZE) && u[1] > *local)
					*local = u[1];
			}
			p += size;
		}
	}
#undef SHDR
#undef INSIDE
	return found ? 0 : -1;
}

int cuda_compile_only(const char *src, int arch, int *regs, size_t *local_bytes, cubie_error *e)
{
	struct nvrtc nv;
	char *bin = NULL;
	size_t len;
	double secs;
	int hit, rc = nvrtc_open(&nv, e);
	if (rc)
		return rc;
	char digest[33];
	rc = nvrtc_cubin(&nv, src, arch, &bin, &len, &secs, &hit, digest, e);
	dlclose(nv.lib);
	if (rc)
		return rc;
	if (cubin_usage((const unsigned char *)bin, len, "cubie_kernel", regs, local_bytes))
		rc = cb_fail(e, CUBIE_ERR_RUNTIME,
		             "cannot read the register count of cubie_kernel from the CUBIN (sm_%d)", arch);
	free(bin);
	return rc;
}

/* ---- the backend ---- */
struct cuda_backend {
	backend base;
	struct backend_ops ops; /* a copy: the async primitives go without pools */
	void *lib;
	CU_API(MEMBER)
	struct nvrtc nv;
	CUdevice dev;
	CUcontext ctx;
	CUmodule mod;
	CUfunction fn, sweep; /* cubie_kernel, cubie_sweep_kernel */
	int arch, auto_block;
	/* cuda.h names the _v2 of CUDA 12.8; older drivers have the same call
	 * unversioned. */
	__typeof__(&cuEventElapsedTime) cuEventElapsedTime;
	/* Launches (and with CUBIE_TIMELINE set, copies) whose device time is
	 * not yet added to kernel_s or logged. */
	struct { CUevent start, stop; int kind; void *stream; } timed[64];
	int n_timed;
	CUevent epoch; /* CUBIE_TIMELINE: time zero of the logged timeline */
};
#define CB(b) ((struct cuda_backend *)(b))

/* 0, or a message naming the call and the driver's error. The cubie_host
 * primitives (e NULL) have no error argument: the cause goes to the log. */
static int ck(struct cuda_backend *c, CUresult rc, const char *what, cubie_error *e)
{
	const char *name = NULL, *desc = NULL;
	cubie_error tmp;
	if (rc == CUDA_SUCCESS)
		return 0;
	if (c->cuGetErrorName)
		c->cuGetErrorName(rc, &name);
	if (c->cuGetErrorString)
		c->cuGetErrorString(rc, &desc);
	cb_fail(e ? e : &tmp, CUBIE_ERR_RUNTIME, "%s failed: %s (%s)", what,
	        name ? name : "CUDA error", desc ? desc : "no description");
	if (!e)
		cb_log(CUBIE_LOG_DEBUG, "cuda: %s", tmp.msg);
	return CUBIE_ERR_RUNTIME;
}
#define CHECK(what, call) do { int rc_ = ck(c, (call), what, e); if (rc_) return rc_; } while (0)

/* The context is current per host thread: make it so for whichever thread
 * calls (the solver, a writer, an allocator). */
#define BIND(c) (c)->cuCtxSetCurrent((c)->ctx)

/* Add the device time of finished launches to kernel_s (all: wait for them). */
static void collect(struct cuda_backend *c, int all)
{
	int keep = 0;
	for (int i = 0; i < c->n_timed; i++) {
		float ms;
		CUresult r = all ? c->cuEventSynchronize(c->timed[i].stop) : c->cuEventQuery(c->timed[i].stop);
		if (r == CUDA_ERROR_NOT_READY) {
			c->timed[keep++] = c->timed[i];
			continue;
		}
		if (r == CUDA_SUCCESS && c->cuEventElapsedTime &&
		    c->cuEventElapsedTime(&ms, c->timed[i].start, c->timed[i].stop) == CUDA_SUCCESS &&
		    c->timed[i].kind == 0)
			c->base.kernel_s += 1e-3 * ms;
		float t0, t1;
		if (r == CUDA_SUCCESS && c->epoch &&
		    c->cuEventElapsedTime(&t0, c->epoch, c->timed[i].start) == CUDA_SUCCESS &&
		    c->cuEventElapsedTime(&t1, c->epoch, c->timed[i].stop) == CUDA_SUCCESS)
			cb_log(CUBIE_LOG_INFO, "timeline: stream %p %s %.3f %.3f ms", c->timed[i].stream,
			       c->timed[i].kind == 0 ? "kernel" : c->timed[i].kind == 1 ? "H2D" : "D2H",
			       t0, t1);
		c->cuEventDestroy(c->timed[i].start);
		c->cuEventDestroy(c->timed[i].stop);
	}
	c->n_timed = keep;
}

static void unload(struct cuda_backend *c)
{
	if (c->mod)
		c->cuModuleUnload(c->mod);
	c->mod = NULL;
	c->fn = c->sweep = NULL;
}

static void cuda_close(backend *b)
{
	struct cuda_backend *c = CB(b);
	if (!c)
		return;
	if (c->ctx) {
		BIND(c);
		c->cuCtxSynchronize();
		collect(c, 1);
		if (c->epoch)
			c->cuEventDestroy(c->epoch);
		unload(c);
		c->cuDevicePrimaryCtxRelease(c->dev);
	}
	if (c->nv.lib)
		dlclose(c->nv.lib);
	if (c->lib)
		dlclose(c->lib);
	free(c);
}

static int cuda_mem_info(backend *b, size_t *free_b, size_t *total_b)
{
	struct cuda_backend *c = CB(b);
	BIND(c);
	return ck(c, c->cuMemGetInfo(free_b, total_b), "cuMemGetInfo", NULL);
}

static int cuda_load(backend *b, const char *src, cubie_error *e)
{
	struct cuda_backend *c = CB(b);
	char *bin = NULL;
	size_t len;
	int rc, regs = 0, local = 0, maxt = 0;
	if (!c->nv.lib && (rc = nvrtc_open(&c->nv, e)))
		return rc;
	char digest[33];
	if ((rc = nvrtc_cubin(&c->nv, src, c->arch, &bin, &len, &b->compile_s, &b->cache_hit, digest,
	                      e)))
		return rc;
	BIND(c);
	unload(c);
	CUresult r = c->cuModuleLoadData(&c->mod, bin);
	free(bin);
	if (r != CUDA_SUCCESS && b->cache_hit) {
		/* an entry that passed its checksum but will not load: rebuild it */
		cb_log(CUBIE_LOG_WARN, "cuda: the cached kernel %s.cubin does not load; compiling again",
		       digest);
		cache_discard(digest, "cubin");
		c->mod = NULL;
		if ((rc = nvrtc_cubin(&c->nv, src, c->arch, &bin, &len, &b->compile_s, &b->cache_hit,
		                      digest, e)))
			return rc;
		r = c->cuModuleLoadData(&c->mod, bin);
		free(bin);
	}
	size_t module_bytes = len;
	if (r != CUDA_SUCCESS) {
		int drv = 0, major = 0, minor = 0;
		cubie_error why;
		c->cuDriverGetVersion(&drv);
		c->nv.nvrtcVersion(&major, &minor);
		c->mod = NULL;
		ck(c, r, "cuModuleLoadData", &why);
		/* A CUBIN from an NVRTC newer than the driver is the likely cause. */
		return cb_fail(e, CUBIE_ERR_RUNTIME, "%s [the driver supports CUDA %d.%d, NVRTC is %d.%d]",
		               why.msg, drv / 1000, drv % 1000 / 10, major, minor);
	}
	CHECK("cuModuleGetFunction(cubie_kernel)", c->cuModuleGetFunction(&c->fn, c->mod, "cubie_kernel"));
	CHECK("cuModuleGetFunction(cubie_sweep_kernel)",
	      c->cuModuleGetFunction(&c->sweep, c->mod, "cubie_sweep_kernel"));
	CHECK("cuFuncGetAttribute", c->cuFuncGetAttribute(&regs, CU_FUNC_ATTRIBUTE_NUM_REGS, c->fn));
	CHECK("cuFuncGetAttribute", c->cuFuncGetAttribute(&local, CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, c->fn));
	CHECK("cuFuncGetAttribute",
	      c->cuFuncGetAttribute(&maxt, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, c->fn));
	cb_log(CUBIE_LOG_DEBUG, "cuda: kernel %s: %d registers, %d bytes local, up to %d threads/block",
	       b->cache_hit ? "from cache" : "compiled", regs, local, maxt);
	/* The driver reserves local memory for every thread that can be
	 * resident at once; with the module, that is the solve's fixed cost. */
	int sms = 0, per_sm = 0;
	CHECK("cuDeviceGetAttribute",
	      c->cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, c->dev));
	CHECK("cuDeviceGetAttribute",
	      c->cuDeviceGetAttribute(&per_sm, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR, c->dev));
	b->reserve = module_bytes + (size_t)local * (size_t)sms * (size_t)per_sm;
	/* Registers bound the block size: shrink our own choice, refuse the user's. */
	if (b->block_size > maxt) {
		if (!c->auto_block || maxt < 32)
			return cb_fail(e, CUBIE_ERR_CONFIG,
			               "block_size %d is too large for this kernel (%d registers per thread "
			               "allow at most %d threads per block)", b->block_size, regs, maxt);
		b->block_size = maxt / 32 * 32;
	}
	return 0;
}

/* Events around an operation time it (best effort: no events, no time). */
static CUevent timed_begin(struct cuda_backend *c, void *stream)
{
	CUevent ev = NULL;
	if (c->n_timed == (int)(sizeof c->timed / sizeof c->timed[0])) {
		c->cuEventSynchronize(c->timed[0].stop);
		collect(c, 0);
	}
	if (c->cuEventCreate(&ev, CU_EVENT_DEFAULT) != CUDA_SUCCESS)
		return NULL;
	if (c->cuEventRecord(ev, (CUstream)stream) != CUDA_SUCCESS) {
		c->cuEventDestroy(ev);
		return NULL;
	}
	return ev;
}

static void timed_end(struct cuda_backend *c, CUevent start, int ok, int kind, void *stream)
{
	CUevent stop = NULL;
	if (!start)
		return;
	if (ok && c->cuEventCreate(&stop, CU_EVENT_DEFAULT) == CUDA_SUCCESS &&
	    c->cuEventRecord(stop, (CUstream)stream) == CUDA_SUCCESS) {
		c->timed[c->n_timed].start = start;
		c->timed[c->n_timed].stop = stop;
		c->timed[c->n_timed].kind = kind;
		c->timed[c->n_timed++].stream = stream;
		return;
	}
	c->cuEventDestroy(start);
	if (stop)
		c->cuEventDestroy(stop);
}

/* fn over runs [begin, n) of a, one thread a run; timed: into kernel_s. */
static int launch_fn(backend *b, CUfunction fn, int timed, const struct cubie_args *a,
                     void *stream, cubie_error *e)
{
	struct cuda_backend *c = CB(b);
	if (!fn)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "cuda: launch before a kernel was loaded");
	if (a->n <= a->begin)
		return 0;
	long long grid = (a->n - a->begin + b->block_size - 1) / b->block_size;
	if (grid > 0x7fffffffLL)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "cuda: %lld runs are too many for one launch", a->n);
	void *params[] = {(void *)a}; /* the struct is the kernel's one by-value argument */
	BIND(c);
	CUevent start = timed ? timed_begin(c, stream) : NULL;
	int rc = ck(c, c->cuLaunchKernel(fn, (unsigned)grid, 1, 1, (unsigned)b->block_size, 1, 1, 0,
	                                 (CUstream)stream, params, NULL), "cuLaunchKernel", e);
	if (timed)
		timed_end(c, start, !rc, 0, stream);
	return rc;
}

static int cuda_launch(backend *b, const struct cubie_args *a, void *stream, cubie_error *e)
{
	return launch_fn(b, CB(b)->fn, 1, a, stream, e);
}

/* Not timed: it stands in for a copy, not for the integration. */
static int cuda_sweep(backend *b, const struct cubie_args *a, void *stream, cubie_error *e)
{
	return launch_fn(b, CB(b)->sweep, 0, a, stream, e);
}

static int cuda_stream_create(backend *b, void **s, cubie_error *e)
{
	struct cuda_backend *c = CB(b);
	BIND(c);
	/* Blocking streams keep their order against the NULL (default) stream. */
	return ck(c, c->cuStreamCreate((CUstream *)s, CU_STREAM_DEFAULT), "cuStreamCreate", e);
}

static void cuda_stream_destroy(backend *b, void *s)
{
	struct cuda_backend *c = CB(b);
	BIND(c);
	if (s)
		ck(c, c->cuStreamDestroy((CUstream)s), "cuStreamDestroy", NULL);
}

static int cuda_stream_sync(backend *b, void *s, cubie_error *e)
{
	struct cuda_backend *c = CB(b);
	BIND(c);
	int rc = ck(c, c->cuStreamSynchronize((CUstream)s), "cuStreamSynchronize", e);
	collect(c, 0);
	return rc;
}

static int cuda_copy_h2d(backend *b, uint64_t dst, const void *src, size_t n, void *s, cubie_error *e)
{
	struct cuda_backend *c = CB(b);
	BIND(c);
	if (!n)
		return 0;
	CUevent start = c->epoch ? timed_begin(c, s) : NULL;
	int rc = ck(c, c->cuMemcpyHtoDAsync((CUdeviceptr)dst, src, n, (CUstream)s), "cuMemcpyHtoDAsync", e);
	timed_end(c, start, !rc, 1, s);
	return rc;
}

static int cuda_copy_d2h(backend *b, void *dst, uint64_t src, size_t n, void *s, cubie_error *e)
{
	struct cuda_backend *c = CB(b);
	BIND(c);
	if (!n)
		return 0;
	CUevent start = c->epoch ? timed_begin(c, s) : NULL;
	int rc = ck(c, c->cuMemcpyDtoHAsync(dst, (CUdeviceptr)src, n, (CUstream)s), "cuMemcpyDtoHAsync", e);
	timed_end(c, start, !rc, 2, s);
	return rc;
}

/* Rows of width bytes between pitched host and device memory (h2d: host
 * to device), timed as a copy of that direction. */
static int copy_rows(struct cuda_backend *c, int h2d, uint64_t d, size_t dpitch, const void *h,
                     size_t hpitch, size_t width, size_t rows, void *s, cubie_error *e)
{
	BIND(c);
	if (!width || !rows)
		return 0;
	CUDA_MEMCPY2D m = {.WidthInBytes = width, .Height = rows};
	if (h2d) {
		m.srcMemoryType = CU_MEMORYTYPE_HOST, m.srcHost = h, m.srcPitch = hpitch;
		m.dstMemoryType = CU_MEMORYTYPE_DEVICE, m.dstDevice = (CUdeviceptr)d, m.dstPitch = dpitch;
	} else {
		m.srcMemoryType = CU_MEMORYTYPE_DEVICE, m.srcDevice = (CUdeviceptr)d, m.srcPitch = dpitch;
		m.dstMemoryType = CU_MEMORYTYPE_HOST, m.dstHost = (void *)h, m.dstPitch = hpitch;
	}
	CUevent start = c->epoch ? timed_begin(c, s) : NULL;
	int rc = ck(c, c->cuMemcpy2DAsync(&m, (CUstream)s), "cuMemcpy2DAsync", e);
	timed_end(c, start, !rc, h2d ? 1 : 2, s);
	return rc;
}

static int cuda_copy_h2d_rows(backend *b, uint64_t dst, size_t dpitch, const void *src,
                              size_t spitch, size_t width, size_t rows, void *s, cubie_error *e)
{
	return copy_rows(CB(b), 1, dst, dpitch, src, spitch, width, rows, s, e);
}

static int cuda_copy_d2h_rows(backend *b, void *dst, size_t dpitch, uint64_t src, size_t spitch,
                              size_t width, size_t rows, void *s, cubie_error *e)
{
	return copy_rows(CB(b), 0, src, spitch, dst, dpitch, width, rows, s, e);
}

static int cuda_after(backend *b, void *s, void (*fn)(void *), void *ctx)
{
	struct cuda_backend *c = CB(b);
	BIND(c);
	return ck(c, c->cuLaunchHostFunc((CUstream)s, fn, ctx), "cuLaunchHostFunc", NULL);
}

static int cuda_stream_idle(backend *b, void *s)
{
	struct cuda_backend *c = CB(b);
	BIND(c);
	return c->cuStreamQuery((CUstream)s) != CUDA_ERROR_NOT_READY;
}

static int cuda_host_register(backend *b, void *p, size_t n)
{
	struct cuda_backend *c = CB(b);
	BIND(c);
	/* portable: page-locked for every context, as several GPUs copy into
	 * one result */
	return n ? ck(c, c->cuMemHostRegister(p, n, CU_MEMHOSTREGISTER_PORTABLE),
	              "cuMemHostRegister", NULL) : 0;
}

static void cuda_host_unregister(backend *b, void *p)
{
	struct cuda_backend *c = CB(b);
	BIND(c);
	c->cuMemHostUnregister(p);
}

/* Zero bytes is a null pointer, and freeing one is a no-op: the driver
 * refuses zero-byte allocations. */
static int dev_alloc(void *ctx, size_t bytes, int async, void *s, uint64_t *ptr)
{
	struct cuda_backend *c = ctx;
	CUdeviceptr p = 0;
	int rc = 0;
	BIND(c);
	if (bytes)
		rc = async ? ck(c, c->cuMemAllocAsync(&p, bytes, (CUstream)s), "cuMemAllocAsync", NULL)
		           : ck(c, c->cuMemAlloc(&p, bytes), "cuMemAlloc", NULL);
	*ptr = rc ? 0 : (uint64_t)p;
	return rc;
}

static int dev_free(void *ctx, uint64_t ptr, int async, void *s)
{
	struct cuda_backend *c = ctx;
	BIND(c);
	if (!ptr)
		return 0;
	return async ? ck(c, c->cuMemFreeAsync((CUdeviceptr)ptr, (CUstream)s), "cuMemFreeAsync", NULL)
	             : ck(c, c->cuMemFree((CUdeviceptr)ptr), "cuMemFree", NULL);
}

static int cuda_mem_alloc(void *ctx, size_t n, uint64_t *p) { return dev_alloc(ctx, n, 0, NULL, p); }
static int cuda_mem_free(void *ctx, uint64_t p) { return dev_free(ctx, p, 0, NULL); }
static int cuda_mem_alloc_async(void *ctx, size_t n, void *s, uint64_t *p)
{
	return dev_alloc(ctx, n, 1, s, p);
}
static int cuda_mem_free_async(void *ctx, uint64_t p, void *s) { return dev_free(ctx, p, 1, s); }

static int cuda_mem_pool_keep(void *ctx, size_t bytes)
{
	struct cuda_backend *c = ctx;
	CUmemoryPool pool;
	cuuint64_t keep = bytes;
	return ck(c, c->cuDeviceGetDefaultMemPool(&pool, c->dev), "cuDeviceGetDefaultMemPool", NULL) ||
	       ck(c, c->cuMemPoolSetAttribute(pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &keep),
	          "cuMemPoolSetAttribute(RELEASE_THRESHOLD)", NULL) ? CUBIE_ERR_RUNTIME : 0;
}

static int cuda_pinned_alloc(void *ctx, size_t bytes, void **ptr)
{
	struct cuda_backend *c = ctx;
	*ptr = NULL;
	BIND(c);
	return bytes ? ck(c, c->cuMemAllocHost(ptr, bytes), "cuMemAllocHost", NULL) : 0;
}

static int cuda_pinned_free(void *ctx, void *ptr)
{
	struct cuda_backend *c = ctx;
	BIND(c);
	return ptr ? ck(c, c->cuMemFreeHost(ptr), "cuMemFreeHost", NULL) : 0;
}

static const struct backend_ops cuda_ops = {
	.name = "cuda", .close = cuda_close, .mem_info = cuda_mem_info, .load = cuda_load,
	.launch = cuda_launch, .sweep = cuda_sweep, .stream_create = cuda_stream_create,
	.stream_destroy = cuda_stream_destroy, .stream_sync = cuda_stream_sync,
	.copy_h2d = cuda_copy_h2d, .copy_d2h = cuda_copy_d2h, .copy_d2h_rows = cuda_copy_d2h_rows,
	.copy_h2d_rows = cuda_copy_h2d_rows,
	.host_register = cuda_host_register, .host_unregister = cuda_host_unregister,
	.after = cuda_after, .stream_idle = cuda_stream_idle,
	.mem_alloc = cuda_mem_alloc,
	.mem_free = cuda_mem_free, .mem_alloc_async = cuda_mem_alloc_async,
	.mem_free_async = cuda_mem_free_async, .mem_pool_keep = cuda_mem_pool_keep,
	.pinned_alloc = cuda_pinned_alloc, .pinned_free = cuda_pinned_free,
};

/* The driver loaded and initialised; *count: its devices. */
static int open_driver(struct cuda_backend *c, int *count, cubie_error *e)
{
	const char *missing = NULL;
	struct cuda_backend *api = c; /* for RESOLVE */
	if (!(c->lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)))
		return cb_fail(e, CUBIE_ERR_RUNTIME, "no CUDA driver (libcuda.so.1): %s", dlerror());
	CU_API(RESOLVE)
	if (!(c->cuEventElapsedTime = (__typeof__(&cuEventElapsedTime))dlsym(c->lib, STR(cuEventElapsedTime))))
		c->cuEventElapsedTime = (__typeof__(&cuEventElapsedTime))dlsym(c->lib, "cuEventElapsedTime");
	if (missing)
		return cb_fail(e, CUBIE_ERR_RUNTIME,
		               "the CUDA driver (libcuda.so.1) lacks %s: it is too old for cubie", missing);
	CHECK("cuInit", c->cuInit(0));
	CHECK("cuDeviceGetCount", c->cuDeviceGetCount(count));
	return 0;
}

int backend_cuda_count(int *n, cubie_error *e)
{
	struct cuda_backend *c = calloc(1, sizeof *c);
	*n = 0;
	if (!c)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	int rc = open_driver(c, n, e);
	if (!rc && *n == 0)
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "no GPU: this machine has no CUDA device");
	if (c->lib)
		dlclose(c->lib);
	free(c);
	return rc;
}

static int open_device(struct cuda_backend *c, int gpu, cubie_error *e)
{
	int count = 0, major = 0, minor = 0, pools = 0, rc;
	size_t total = 0;
	char name[200];
	if ((rc = open_driver(c, &count, e)))
		return rc;
	c->base.ordinal = gpu;
	if (gpu < 0 || gpu >= count)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "no GPU %d: this machine has %d CUDA device%s%s",
		               gpu, count, count == 1 ? "" : "s", count ? " (numbered from 0)" : "");
	CHECK("cuDeviceGet", c->cuDeviceGet(&c->dev, gpu));
	CHECK("cuDeviceGetName", c->cuDeviceGetName(name, sizeof name, c->dev));
	CHECK("cuDeviceGetAttribute", c->cuDeviceGetAttribute(
		&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, c->dev));
	CHECK("cuDeviceGetAttribute", c->cuDeviceGetAttribute(
		&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, c->dev));
	CHECK("cuDeviceGetAttribute", c->cuDeviceGetAttribute(
		&pools, CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, c->dev));
	CHECK("cuDeviceTotalMem", c->cuDeviceTotalMem(&total, c->dev));
	/* The primary context is the one the runtime API and other libraries
	 * share, so cubie coexists with them in one process. */
	CHECK("cuDevicePrimaryCtxRetain", c->cuDevicePrimaryCtxRetain(&c->ctx, c->dev));
	CHECK("cuCtxSetCurrent", BIND(c));
	c->arch = major * 10 + minor;
	snprintf(c->base.device, sizeof c->base.device, "%s (sm_%d, %.1f GiB)", name, c->arch,
	         (double)total / (1024.0 * 1024.0 * 1024.0));
	if (!pools)
		c->ops.mem_alloc_async = NULL, c->ops.mem_free_async = NULL, c->ops.mem_pool_keep = NULL;
	return 0;
}

int backend_cuda_open(int gpu, int block_size, backend **out, cubie_error *e)
{
	struct cuda_backend *c;
	*out = NULL;
	if (block_size && (block_size < 32 || block_size > 1024 || block_size % 32))
		return cb_fail(e, CUBIE_ERR_CONFIG,
		               "block_size %d: must be a multiple of 32 from 32 to 1024 (or 0: choose)",
		               block_size);
	if (!(c = calloc(1, sizeof *c)))
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	c->ops = cuda_ops;
	c->base.ops = &c->ops;
	/* One thread per run and many registers per thread: 128 threads (four
	 * warps) keep blocks schedulable at up to 255 registers per thread and
	 * leave small batches spread over many SMs; load() shrinks it when the
	 * kernel's registers allow fewer. */
	c->auto_block = block_size == 0;
	c->base.block_size = block_size ? block_size : 128;
	c->base.slice_min = (size_t)1 << 18; /* a wave or more: slicing costs little */
	int rc = open_device(c, gpu, e);
	if (rc) {
		cuda_close(&c->base);
		return rc;
	}
	/* CUBIE_TIMELINE: log when each copy and kernel ran, to see overlap */
	const char *tl = getenv("CUBIE_TIMELINE");
	if (tl && *tl && *tl != '0' && (c->epoch = timed_begin(c, NULL)))
		c->cuEventSynchronize(c->epoch);
	*out = &c->base;
	return 0;
}

#else /* !HAVE_CUDA */

#define NO_CUDA "cubie was built without CUDA headers (configure --with-cuda=DIR)"
int backend_cuda_open(int gpu, int block_size, backend **out, cubie_error *e)
{
	*out = NULL;
	return cb_fail(e, CUBIE_ERR_RUNTIME, NO_CUDA);
}

int backend_cuda_count(int *n, cubie_error *e)
{
	*n = 0;
	return cb_fail(e, CUBIE_ERR_RUNTIME, NO_CUDA);
}

int cuda_compile_only(const char *src, int arch, int *regs, size_t *local_bytes, cubie_error *e)
{
	return cb_fail(e, CUBIE_ERR_RUNTIME, NO_CUDA);
}
#endif
