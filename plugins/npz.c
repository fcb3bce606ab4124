/* Writer "npz": one file, a zip archive of .npy members as numpy.savez
 * writes it, so that numpy.load(path) gives a dict of the result's arrays
 * ("time", "values", "status", "inputs", "steps") and of the names along
 * their axes ("variables", "input_names", as unicode arrays). Members are
 * stored (no compression, so no zlib); the zip64 extensions are used where a
 * size or offset passes 4 GiB. Streams: the arrays' space is laid out at
 * open, each chunk of runs is written into place, and the CRCs are read
 * back at the end. Written to a temporary file beside the target and
 * renamed into place. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cubie/plugin.h>
#include "npy_format.h"

#define ZIP32_MAX 0xffffffffu

static int fail(char *errbuf, size_t errlen, const char *path, const char *what, int err)
{
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s: %s: %s", path, what, strerror(err));
	return -1;
}

/* CRC-32 (zip's), eight bytes a step ("slicing by 8"): several GB/s,
 * since a streamed archive's members are read back and summed at the end. */
static uint32_t crc32_update(uint32_t crc, const void *data, size_t n)
{
	static uint32_t t[8][256];
	if (!t[0][1]) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			t[0][i] = c;
		}
		for (int j = 1; j < 8; j++)
			for (int i = 0; i < 256; i++)
				t[j][i] = (t[j - 1][i] >> 8) ^ t[0][t[j - 1][i] & 0xff];
	}
	const unsigned char *p = data;
	crc = ~crc;
	for (; n >= 8; n -= 8, p += 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		                     (uint32_t)p[3] << 24);
		crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
		      t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
	}
	while (n--)
		crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* Little-endian fields, whatever the host. */
static void le(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* One member: an .npy header and its data, as written. */
struct member {
	char name[72];
	uint32_t crc;
	uint64_t size, offset, data, dlen; /* data, dlen: the array's data */
	int reserved;                /* data written in place, CRC at the end */
};

struct zip {
	FILE *f;
	uint64_t at; /* bytes written */
	struct member *m;
	size_t n, cap;
	uint16_t time, date;
	int force64; /* CUBIE_NPZ_ZIP64=1: zip64 records always (for tests) */
};

static int put(struct zip *z, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, z->f) != n)
		return -1;
	z->at += n;
	return 0;
}

/* A member from a header and a data block (either may be empty). Data
 * NULL reserves the block, to be written in place and CRC'd at the end. */
static int add(struct zip *z, const char *name, const char *head, size_t hlen, const void *data,
               size_t dlen)
{
	if (z->n == z->cap) {
		size_t cap = z->cap ? 2 * z->cap : 16;
		struct member *m = realloc(z->m, cap * sizeof *m);
		if (!m)
			return errno = ENOMEM, -1;
		z->m = m, z->cap = cap;
	}
	struct member *m = &z->m[z->n++];
	snprintf(m->name, sizeof m->name, "%s.npy", name);
	m->size = hlen + dlen;
	m->offset = z->at;
	m->crc = crc32_update(0, head, hlen);
	m->reserved = data == NULL && dlen > 0;
	if (!m->reserved)
		m->crc = crc32_update(m->crc, data, dlen);
	int big = z->force64 || m->size >= ZIP32_MAX;
	size_t nlen = strlen(m->name);
	unsigned char h[30 + 20];
	le(h, 0x04034b50, 4);
	le(h + 4, big ? 45 : 20, 2); /* version needed: 4.5 for zip64 */
	le(h + 6, 0, 2);             /* flags */
	le(h + 8, 0, 2);             /* stored */
	le(h + 10, z->time, 2);
	le(h + 12, z->date, 2);
	le(h + 14, m->crc, 4);
	le(h + 18, big ? ZIP32_MAX : m->size, 4);
	le(h + 22, big ? ZIP32_MAX : m->size, 4);
	le(h + 26, nlen, 2);
	le(h + 28, big ? 20 : 0, 2);
	le(h + 30, 0x0001, 2); /* zip64 extra: both sizes */
	le(h + 32, 16, 2);
	le(h + 34, m->size, 8);
	le(h + 42, m->size, 8);
	if (put(z, h, 30) || put(z, m->name, nlen) || (big && put(z, h + 30, 20)) ||
	    put(z, head, hlen))
		return -1;
	m->data = z->at;
	m->dlen = dlen;
	if (m->reserved) {
		z->at += dlen;
		return fseeko(z->f, (off_t)z->at, SEEK_SET);
	}
	return put(z, data, dlen);
}

/* The central directory and its end records (zip64 ones when needed). */
static int finish(struct zip *z)
{
	uint64_t cd = z->at;
	for (size_t i = 0; i < z->n; i++) {
		const struct member *m = &z->m[i];
		int bs = z->force64 || m->size >= ZIP32_MAX, bo = z->force64 || m->offset >= ZIP32_MAX;
		size_t nlen = strlen(m->name), xlen = (bs || bo) ? 4 + 16 * bs + 8 * bo : 0;
		unsigned char h[46 + 28];
		le(h, 0x02014b50, 4);
		le(h + 4, 0x0300 | 45, 2); /* made by: unix, 4.5 */
		le(h + 6, (bs || bo) ? 45 : 20, 2);
		le(h + 8, 0, 2);
		le(h + 10, 0, 2);
		le(h + 12, z->time, 2);
		le(h + 14, z->date, 2);
		le(h + 16, m->crc, 4);
		le(h + 20, bs ? ZIP32_MAX : m->size, 4);
		le(h + 24, bs ? ZIP32_MAX : m->size, 4);
		le(h + 28, nlen, 2);
		le(h + 30, xlen, 2);
		le(h + 32, 0, 2); /* comment */
		le(h + 34, 0, 2); /* disk */
		le(h + 36, 0, 2); /* internal attributes */
		le(h + 38, (uint64_t)0100644 << 16, 4);
		le(h + 42, bo ? ZIP32_MAX : m->offset, 4);
		unsigned char *x = h + 46;
		le(x, 0x0001, 2);
		le(x + 2, xlen ? xlen - 4 : 0, 2);
		x += 4;
		if (bs)
			le(x, m->size, 8), le(x + 8, m->size, 8), x += 16;
		if (bo)
			le(x, m->offset, 8);
		if (put(z, h, 46) || put(z, m->name, nlen) || put(z, h + 46, xlen))
			return -1;
	}
	uint64_t cd_size = z->at - cd, end64 = z->at;
	int big = z->force64 || cd >= ZIP32_MAX || cd_size >= ZIP32_MAX || z->n >= 0xffff;
	unsigned char e[56 + 20 + 22];
	if (big) {
		le(e, 0x06064b50, 4); /* zip64 end of central directory */
		le(e + 4, 44, 8);
		le(e + 12, 0x0300 | 45, 2);
		le(e + 14, 45, 2);
		le(e + 16, 0, 4);
		le(e + 20, 0, 4);
		le(e + 24, z->n, 8);
		le(e + 32, z->n, 8);
		le(e + 40, cd_size, 8);
		le(e + 48, cd, 8);
		le(e + 56, 0x07064b50, 4); /* its locator */
		le(e + 60, 0, 4);
		le(e + 64, end64, 8);
		le(e + 72, 1, 4);
		if (put(z, e, 76))
			return -1;
	}
	le(e, 0x06054b50, 4);
	le(e + 4, 0, 4);
	le(e + 8, big ? 0xffff : z->n, 2);
	le(e + 10, big ? 0xffff : z->n, 2);
	le(e + 12, big ? ZIP32_MAX : cd_size, 4);
	le(e + 16, big ? ZIP32_MAX : cd, 4);
	le(e + 20, 0, 2);
	return put(z, e, 22);
}

/* An array's member; shapes_only reserves its data for write_runs. */
static int add_array(struct zip *z, const cubie_array *a, int shapes_only)
{
	char head[256];
	size_t count = 1;
	if (!a->name || !npy_dtype_size(a->dtype) || a->ndim < 0 || a->ndim > 3 ||
	    strlen(a->name) > 64 || strchr(a->name, '/'))
		return errno = EINVAL, -1;
	for (int i = 0; i < a->ndim; i++)
		count *= a->shape[i];
	if (count && !a->data && !shapes_only)
		return errno = EINVAL, -1;
	size_t hlen = npy_header(head, sizeof head, npy_descr(a->dtype), a->ndim, a->shape);
	if (!hlen)
		return errno = EOVERFLOW, -1;
	return add(z, a->name, head, hlen, a->data, count * npy_dtype_size(a->dtype));
}

/* CRC of the reserved members, read back now that every run is in place,
 * patched into their local headers. */
static int crc_reserved(struct zip *z)
{
	int fd = fileno(z->f);
	size_t cap = (size_t)1 << 22;
	unsigned char *buf = malloc(cap), c[4];
	int rc = buf && fflush(z->f) == 0 ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < z->n; i++) {
		struct member *m = &z->m[i];
		for (uint64_t at = m->data; rc == 0 && m->reserved && at < m->data + m->dlen;) {
			size_t want = m->data + m->dlen - at < cap ? (size_t)(m->data + m->dlen - at) : cap;
			ssize_t got = pread(fd, buf, want, (off_t)at);
			if (got <= 0)
				rc = -1;
			else
				m->crc = crc32_update(m->crc, buf, (size_t)got), at += (uint64_t)got;
		}
		le(c, m->crc, 4);
		if (rc == 0 && m->reserved && pwrite(fd, c, 4, (off_t)(m->offset + 14)) != 4)
			rc = -1;
	}
	free(buf);
	return rc;
}

/* Names as a 1-d unicode array (numpy's "<U<width>": UTF-32 code units,
 * here ASCII, in host order), which numpy.load reads without pickle. */
static int add_names(struct zip *z, const char *member, const char *const *names, size_t n)
{
	size_t width = 1;
	for (size_t i = 0; i < n; i++)
		if (names && names[i] && strlen(names[i]) > width)
			width = strlen(names[i]);
	uint32_t *u = calloc(n * width + 1, sizeof *u);
	if (!u)
		return errno = ENOMEM, -1;
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; names && names[i] && names[i][k]; k++)
			u[i * width + k] = (unsigned char)names[i][k];
	char descr[32], head[256];
	snprintf(descr, sizeof descr, "U%zu", width);
	size_t hlen = npy_header(head, sizeof head, descr, 1, &n);
	int rc = hlen ? add(z, member, head, hlen, u, n * width * sizeof *u) : (errno = EOVERFLOW, -1);
	free(u);
	return rc;
}

struct npz {
	struct zip z;
	int fd;
	char *path, *tmp;
	size_t runs; /* along the run axis of the whole result */
};

static void npz_discard(struct npz *w)
{
	if (w->z.f)
		fclose(w->z.f);
	else if (w->fd >= 0)
		close(w->fd);
	if (w->tmp)
		unlink(w->tmp);
	free(w->z.m);
	free(w->tmp);
	free(w->path);
	free(w);
}

/* The archive up to its central directory: arrays with data are written,
 * those without (a streamed result's) get their space, for write_runs. */
static void *npz_open(const cubie_host *host, const cubie_output *out, const char *path,
                      char *errbuf, size_t errlen)
{
	struct npz *w = calloc(1, sizeof *w);
	size_t len = strlen(path) + 40;
	if (!w || !(w->tmp = malloc(len)) || !(w->path = strdup(path))) {
		if (w)
			free(w->tmp), free(w);
		fail(errbuf, errlen, path, "cannot write", ENOMEM);
		return NULL;
	}
	/* PATH.tmp-PID-XXXXXX: the core removes those whose process is gone */
	snprintf(w->tmp, len, "%s.tmp-%ld-XXXXXX", path, (long)getpid());
	if ((w->fd = mkstemp(w->tmp)) < 0) {
		fail(errbuf, errlen, path, "cannot create a temporary file beside it", errno);
		free(w->tmp), w->tmp = NULL;
		npz_discard(w);
		return NULL;
	}
	mode_t mask = umask(0); /* mkstemp makes it 0600; give it what creat would */
	umask(mask);
	fchmod(w->fd, 0666 & ~mask);

	const char *f64 = getenv("CUBIE_NPZ_ZIP64");
	struct zip *z = &w->z;
	z->f = fdopen(w->fd, "wb");
	z->force64 = f64 && *f64 == '1';
	time_t now = time(NULL);
	struct tm tm;
	if (localtime_r(&now, &tm) && tm.tm_year >= 80) {
		z->time = (uint16_t)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
		z->date = (uint16_t)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
	} else {
		z->date = 1 << 5 | 1; /* 1980-01-01 */
	}
	int rc = z->f ? 0 : -1;
	const char *what = "cannot write";
	for (size_t i = 0; rc == 0 && i < out->n_arrays; i++) {
		const cubie_array *a = &out->arrays[i];
		if (a->ndim > 0 && strcmp(a->name ? a->name : "", "time"))
			w->runs = a->shape[a->ndim - 1];
		if ((rc = add_array(z, a, 1)) && errno == EINVAL)
			what = "cannot write a malformed result array";
	}
	if (rc == 0)
		rc = add_names(z, "variables", out->var_names, out->n_vars);
	if (rc == 0)
		rc = add_names(z, "input_names", out->input_names, out->n_inputs);
	if (rc == 0 && out->n_metrics)
		rc = add_names(z, "summary_names", out->metric_names, out->n_metrics);
	if (rc == 0)
		rc = fflush(z->f);
	if (rc) {
		fail(errbuf, errlen, path, what, errno);
		npz_discard(w);
		return NULL;
	}
	return w;
}

/* Each array's runs [first, first + n), row by row, into its place. */
static int npz_write_runs(void *self, const cubie_output *part, size_t first, char *errbuf,
                          size_t errlen)
{
	struct npz *w = self;
	for (size_t i = 0; i < part->n_arrays; i++) {
		const cubie_array *a = &part->arrays[i];
		const struct member *m = NULL;
		char name[80];
		snprintf(name, sizeof name, "%s.npy", a->name ? a->name : "");
		for (size_t k = 0; k < w->z.n && !m; k++)
			if (!strcmp(w->z.m[k].name, name) && w->z.m[k].reserved)
				m = &w->z.m[k];
		if (!m)
			continue; /* written whole at open (time) */
		size_t es = npy_dtype_size(a->dtype), n = a->ndim ? a->shape[a->ndim - 1] : 0, rows = 1;
		for (int d = 0; d + 1 < a->ndim; d++)
			rows *= a->shape[d];
		if (!es || first + n > w->runs || (rows * w->runs) * es != m->dlen)
			return fail(errbuf, errlen, w->path, "a chunk does not match the result", EINVAL);
		for (size_t r = 0; r < rows; r++) {
			const char *src = (const char *)a->data + r * n * es;
			off_t at = (off_t)(m->data + (r * w->runs + first) * es);
			if (pwrite(w->fd, src, n * es, at) != (ssize_t)(n * es))
				return fail(errbuf, errlen, w->path, "cannot write", errno);
		}
	}
	return 0;
}

static int npz_close(void *self, int commit, char *errbuf, size_t errlen)
{
	struct npz *w = self;
	struct zip *z = &w->z;
	if (!commit) {
		npz_discard(w);
		return 0;
	}
	int rc = crc_reserved(z) || fseeko(z->f, (off_t)z->at, SEEK_SET) || finish(z) ||
	         fflush(z->f) != 0 || fsync(w->fd) != 0 ? -1 : 0;
	int err = errno;
	if (fclose(z->f) != 0 && rc == 0)
		rc = -1, err = errno;
	z->f = NULL;
	w->fd = -1;
	if (rc == 0 && rename(w->tmp, w->path) != 0)
		rc = -1, err = errno;
	if (rc == 0)
		free(w->tmp), w->tmp = NULL; /* in place: nothing to remove */
	else
		fail(errbuf, errlen, w->path, "cannot write", err);
	npz_discard(w);
	return rc;
}

static int npz_write(const cubie_host *host, const cubie_output *out, const char *path,
                     char *errbuf, size_t errlen)
{
	for (size_t i = 0; i < out->n_arrays; i++) /* whole: every array has its data */
		if (!out->arrays[i].data && out->arrays[i].ndim)
			return fail(errbuf, errlen, path, "cannot write a malformed result array", EINVAL);
	void *w = npz_open(host, out, path, errbuf, errlen);
	return w ? npz_close(w, 1, errbuf, errlen) : -1;
}

static const char *const extensions[] = {"npz", NULL};

static const cubie_writer_ops ops = {
	.extensions = extensions,
	.write = npz_write,
	.open = npz_open,
	.write_runs = npz_write_runs,
	.close = npz_close,
	.summaries = 1,
};

CUBIE_PLUGIN_DEFINE(CUBIE_PLUGIN_WRITER, "npz", CUBIE_VERSION_STRING,
                    "one NumPy .npz file (numpy.load gives a dict of the arrays)", &ops)
