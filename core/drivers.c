/* [drivers]: sampled inputs read from a CSV column or an inline list,
 * checked (evenly spaced increasing times, no NaN), and turned into the
 * coefficients of one polynomial per sample interval, in the interval's
 * own variable s = (t - t_i) / step in [0, 1):
 *   linear: a + b s
 *   cubic:  a + s (b + s (c + s d)), a C2 cubic spline: not-a-knot with
 *           wrap = clamp | error, periodic with wrap = periodic.
 * The device evaluates one polynomial per call (driver.h). */
#include "config.h"
#include "drivers.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* [drivers] keys that are settings, not drivers (see schema.c) */
static const char *const options[] = {"interpolation", "wrap", "sample_every", "start", "select",
                                      NULL};

static int is_option(const char *k)
{
	for (size_t i = 0; options[i]; i++)
		if (!strcmp(options[i], k))
			return 1;
	return 0;
}

/* NAME.option, else the section's option, else NULL */
static const struct cfg_entry *option(const cubie_config *c, const char *name, const char *opt)
{
	char key[300];
	snprintf(key, sizeof key, "%s.%s", name, opt);
	const struct cfg_entry *en = cfg_get(c, "drivers", key);
	return en ? en : cfg_get(c, "drivers", opt);
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = 0;
	return s;
}

/* A number, the whole of s; NaN is refused by the callers, with its line. */
static int number(const char *s, double *v)
{
	char buf[128], *end;
	snprintf(buf, sizeof buf, "%s", s);
	char *t = trim(buf);
	if (!*t)
		return -1;
	errno = 0;
	*v = strtod(t, &end);
	if (*end) {
		char err[8];
		return expr_eval_const(t, v, err, sizeof err); /* 2*pi and friends */
	}
	return 0;
}

/* ---- reading ---- */

/* Evenly spaced, increasing times: the spacing of the first two samples,
 * each later time within 1e-6 of a spacing of its place on that grid. */
static int check_times(const double *t, size_t n, const char *file, const int *lines,
                       cubie_error *e)
{
	const double h = n > 1 ? t[1] - t[0] : 1;
	for (size_t i = 1; i < n; i++) {
		if (!(t[i] > t[i - 1]))
			return cb_fail(e, CUBIE_ERR_CONFIG, "%s:%d: time %.17g is not after %.17g, the "
			               "previous one: times must increase", file, lines[i], t[i], t[i - 1]);
		if (fabs(t[i] - (t[0] + (double)i * h)) > 1e-6 * h)
			return cb_fail(e, CUBIE_ERR_CONFIG, "%s:%d: time %.17g is off the even grid of "
			               "spacing %.17g that the first two rows set: drivers need evenly "
			               "spaced samples", file, lines[i], t[i], h);
	}
	return 0;
}

/* FILE:COL[,COL...]: the first column is time, the named ones series. */
static int read_csv(const cubie_config *c, const struct cfg_entry *en, struct driver *d,
                    double **ys, cubie_error *e)
{
	char *spec = cb_strdup(en->value), *colon = spec ? strrchr(spec, ':') : NULL;
	if (!spec)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	*colon = 0;
	struct cfg_entry fe = *en;
	fe.value = trim(spec);
	char *path = cfg_path(c, &fe), *line = NULL, **cols = NULL;
	size_t cap = 0, ncols = 0, nwant = 0, n = 0, ncap = 0;
	size_t *want = NULL;
	double *t = NULL, *v = NULL;
	int *lines = NULL, rc = 0, lineno = 1;
	FILE *f = path ? fopen(path, "r") : NULL;
	if (!f) {
		rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [drivers] %s: %s: %s", d->loc, d->name,
		             path ? path : fe.value, strerror(errno));
		goto out;
	}
	if (getline(&line, &cap, f) < 0) {
		rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s:1: empty: expected a header, time first", path);
		goto out;
	}
	for (char *p = line, *q; p; p = q ? q + 1 : NULL) {
		q = strchr(p, ',');
		if (q)
			*q = 0;
		char **nc = realloc(cols, (ncols + 1) * sizeof *nc);
		if (!nc || !(nc[ncols] = cb_strdup(trim(p)))) {
			cols = nc ? nc : cols;
			rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
			goto out;
		}
		cols = nc;
		ncols++;
	}
	/* the columns asked for */
	char *names = colon + 1;
	for (char *p = names, *q; p && !rc; p = q ? q + 1 : NULL) {
		q = strchr(p, ',');
		if (q)
			*q = 0;
		char *name = trim(p);
		size_t k = 1;
		while (k < ncols && strcmp(cols[k], name))
			k++;
		if (k == ncols) {
			sbuf have = {0};
			for (size_t j = 0; j < ncols; j++)
				sb_add(&have, "%s%s", j ? ", " : "", cols[j]);
			rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [drivers] %s: no column '%s' in %s (line 1 "
			             "has %s; the first is time)", d->loc, d->name, name, path,
			             have.s ? have.s : "nothing");
			free(have.s);
			break;
		}
		size_t *w = realloc(want, (nwant + 1) * sizeof *w);
		if (!w) {
			rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
			break;
		}
		want = w;
		want[nwant++] = k;
	}
	if (rc)
		goto out;
	ssize_t got;
	while ((got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (line[strspn(line, " \t\r\n")] == 0)
			continue;
		if (n == ncap) {
			ncap = ncap ? 2 * ncap : 256;
			double *t2 = realloc(t, ncap * sizeof *t2);
			t = t2 ? t2 : t;
			double *v2 = t2 ? realloc(v, ncap * nwant * sizeof *v2) : NULL;
			v = v2 ? v2 : v;
			int *l2 = v2 ? realloc(lines, ncap * sizeof *l2) : NULL;
			lines = l2 ? l2 : lines;
			if (!l2) {
				rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory reading %s", path);
				goto out;
			}
		}
		lines[n] = lineno;
		size_t j = 0;
		double x;
		for (char *p = line, *q; p; p = q ? q + 1 : NULL, j++) {
			q = strchr(p, ',');
			if (q)
				*q = 0;
			if (j >= ncols) {
				rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s:%d: more values than the %zu columns",
				             path, lineno, ncols);
				goto out;
			}
			int used = j == 0;
			for (size_t k = 0; k < nwant; k++)
				used |= want[k] == j;
			if (!used)
				continue;
			if (number(p, &x) || isnan(x) || isinf(x)) {
				rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s:%d: column '%s': %s", path, lineno,
				             cols[j], number(p, &x) ? "not a number" : "NaN or infinity");
				goto out;
			}
			if (j == 0)
				t[n] = x;
			for (size_t k = 0; k < nwant; k++)
				if (want[k] == j)
					v[n * nwant + k] = x;
		}
		if (j < ncols) {
			rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s:%d: %zu values for %zu columns", path, lineno,
			             j, ncols);
			goto out;
		}
		n++;
	}
	if (n < 2) {
		rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s:%d: %zu samples: a driver needs at least 2",
		             path, lineno, n);
		goto out;
	}
	if ((rc = check_times(t, n, path, lines, e)))
		goto out;
	d->n_samples = n;
	d->n_series = nwant;
	d->start = t[0];
	d->step = (t[n - 1] - t[0]) / (double)(n - 1);
	/* [series][sample] */
	if (!(*ys = malloc(nwant * n * sizeof **ys))) {
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		goto out;
	}
	for (size_t k = 0; k < nwant; k++)
		for (size_t i = 0; i < n; i++)
			(*ys)[k * n + i] = v[i * nwant + k];
out:
	if (f)
		fclose(f);
	for (size_t i = 0; i < ncols; i++)
		free(cols[i]);
	free(cols);
	free(want);
	free(line);
	free(path);
	free(spec);
	free(t);
	free(v);
	free(lines);
	return rc;
}

/* v, v, ... [| v, v, ...]: evenly spaced by sample_every from start. */
static int read_inline(const cubie_config *c, const struct cfg_entry *en, struct driver *d,
                       double **ys, cubie_error *e)
{
	const struct cfg_entry *se = option(c, d->name, "sample_every"), *st = option(c, d->name, "start");
	char loc[600];
	if (!se || number(se->value, &d->step) || !(d->step > 0) || !isfinite(d->step))
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [drivers] %s: an inline list of samples "
		               "needs a positive sample_every (or %s.sample_every)",
		               se ? cfg_loc(se, loc, sizeof loc) : d->loc, d->name, d->name);
	d->start = 0;
	if (st && (number(st->value, &d->start) || !isfinite(d->start)))
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [drivers] start = '%s': not a number",
		               cfg_loc(st, loc, sizeof loc), st->value);
	char *text = cb_strdup(en->value);
	size_t n = 0, cap = 0, series = 0, in_series = 0;
	double *v = NULL;
	int rc = text ? 0 : cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	for (char *s = text, *bar; s && !rc; s = bar ? bar + 1 : NULL) {
		if ((bar = strchr(s, '|')))
			*bar = 0;
		in_series = 0;
		for (char *p = s, *q; p && !rc; p = q ? q + 1 : NULL) {
			if ((q = strchr(p, ',')))
				*q = 0;
			double x;
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				double *w = realloc(v, cap * sizeof *w);
				if (!w) {
					rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
					break;
				}
				v = w;
			}
			if (number(p, &x) || !isfinite(x))
				rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [drivers] %s: sample %zu of series %zu "
				             "'%s': %s", d->loc, d->name, in_series + 1, series + 1, trim(p),
				             number(p, &x) ? "not a number" : "NaN or infinity");
			v[n++] = x;
			in_series++;
		}
		if (!rc && series > 0 && in_series != d->n_samples)
			rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [drivers] %s: series %zu has %zu samples, "
			             "series 1 has %zu", d->loc, d->name, series + 1, in_series,
			             d->n_samples);
		d->n_samples = in_series;
		series++;
	}
	if (!rc && d->n_samples < 2)
		rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [drivers] %s: %zu samples: a driver needs at "
		             "least 2", d->loc, d->name, d->n_samples);
	free(text);
	if (rc) {
		free(v);
		return rc;
	}
	d->n_series = series;
	*ys = v;
	return 0;
}

/* ---- coefficients ---- */

/* m_i = step^2 y''(t_i) of the spline through y[0..n-1]: periodic (y
 * continues with y[0] one step after y[n-1]), else not-a-knot (y''' is
 * continuous at the second and the last but one sample). */
static void spline(const double *y, size_t n, int periodic, double *m)
{
#define Y(i) y[((i) + n) % n]
	double *r = malloc(n * sizeof *r), *cp = malloc(n * sizeof *cp);
	if (!r || !cp) {
		free(r);
		free(cp);
		memset(m, 0, n * sizeof *m); /* callers check memory before */
		return;
	}
	for (size_t i = 0; i < n; i++)
		r[i] = 6 * (Y(i + 1) - 2 * Y(i) + Y(i - 1));
	if (periodic) {
		/* m[i-1] + 4 m[i] + m[i+1] = r[i], cyclic: Gauss-Seidel, which
		 * contracts by at least 2 per sweep (diagonal 4 against 1 + 1) */
		double scale = 0;
		for (size_t i = 0; i < n; i++) {
			m[i] = r[i] / 6;
			scale = fmax(scale, fabs(r[i]));
		}
		for (int sweep = 0; sweep < 200; sweep++) {
			double change = 0;
			for (size_t i = 0; i < n; i++) {
				double x = (r[i] - m[(i + n - 1) % n] - m[(i + 1) % n]) / 4;
				change = fmax(change, fabs(x - m[i]));
				m[i] = x;
			}
			if (change <= 1e-17 * scale)
				break;
		}
	} else {
		/* with m0 = 2 m1 - m2 the first row is 6 m1 = r1; the last alike */
		m[1] = r[1] / 6;
		m[n - 2] = r[n - 2] / 6;
		/* rows 2 .. n-3, tridiagonal (Thomas) */
		size_t lo = 2, hi = n - 3; /* n >= 4 */
		if (n > 4) {
			double *d = r; /* overwritten in place */
			d[lo] -= m[1];
			d[hi] -= m[n - 2];
			cp[lo] = 0.25;
			d[lo] /= 4;
			for (size_t i = lo + 1; i <= hi; i++) {
				double den = 4 - cp[i - 1];
				cp[i] = 1 / den;
				d[i] = (d[i] - d[i - 1]) / den;
			}
			m[hi] = d[hi];
			for (size_t i = hi; i-- > lo;)
				m[i] = d[i] - cp[i] * m[i + 1];
		}
		m[0] = 2 * m[1] - m[2];
		m[n - 1] = 2 * m[n - 2] - m[n - 3];
	}
	free(r);
	free(cp);
#undef Y
}

static int coefficients(struct driver *d, const double *ys, cubie_error *e)
{
	const size_t n = d->n_samples, K = d->cubic ? 4 : 2;
	d->n_int = d->wrap == DRV_PERIODIC ? n : n - 1;
	d->coef = malloc(d->n_series * d->n_int * K * sizeof *d->coef);
	double *m = d->cubic ? malloc(n * sizeof *m) : NULL;
	if (!d->coef || (d->cubic && !m)) {
		free(m);
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	}
	for (size_t k = 0; k < d->n_series; k++) {
		const double *y = ys + k * n;
		if (d->cubic)
			spline(y, n, d->wrap == DRV_PERIODIC, m);
		for (size_t i = 0; i < d->n_int; i++) {
			double *c = d->coef + (k * d->n_int + i) * K;
			const size_t j = (i + 1) % n;
			c[0] = y[i];
			c[1] = y[j] - y[i];
			if (d->cubic) {
				c[1] -= (2 * m[i] + m[j]) / 6;
				c[2] = m[i] / 2;
				c[3] = (m[j] - m[i]) / 6;
			}
		}
	}
	free(m);
	return 0;
}

/* ---- the section ---- */

static int read_one(const cubie_config *c, const struct cfg_entry *en, char *const *params,
                    size_t n_params, struct driver *d, cubie_error *e)
{
	char loc[600];
	d->loc = cb_strdup(cfg_loc(en, loc, sizeof loc));
	d->name = cb_strdup(en->key);
	d->select = -1;
	if (!d->loc || !d->name)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	const struct cfg_entry *ip = option(c, d->name, "interpolation"), *wr = option(c, d->name, "wrap");
	const char *interp = ip ? ip->value : "linear", *wrap = wr ? wr->value : "clamp";
	if (strcmp(interp, "linear") && strcmp(interp, "cubic"))
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [drivers] interpolation = '%s': expected "
		               "linear or cubic", cfg_loc(ip, loc, sizeof loc), interp);
	d->cubic = !strcmp(interp, "cubic");
	d->wrap = !strcmp(wrap, "clamp") ? DRV_CLAMP : !strcmp(wrap, "periodic") ? DRV_PERIODIC
	        : !strcmp(wrap, "error") ? DRV_ERROR : -1;
	if (d->wrap < 0)
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [drivers] wrap = '%s': expected periodic, "
		               "clamp or error", cfg_loc(wr, loc, sizeof loc), wrap);
	double *ys = NULL;
	int rc = strchr(en->value, ':') ? read_csv(c, en, d, &ys, e) : read_inline(c, en, d, &ys, e);
	if (rc)
		return rc;
	if (d->cubic && d->n_samples < 4)
		rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [drivers] %s: cubic interpolation needs at least "
		             "4 samples, it has %zu", d->loc, d->name, d->n_samples);
	const struct cfg_entry *se = option(c, d->name, "select");
	if (!rc && se) {
		size_t k;
		char want[256];
		snprintf(want, sizeof want, "%s", se->value);
		const char *w = trim(want);
		for (k = 0; k < n_params && strcmp(params[k], w); k++)
			;
		if (k == n_params)
			rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [drivers] %s.select = '%s': not a parameter "
			             "of the model", cfg_loc(se, loc, sizeof loc), d->name, w);
		d->select = (int)k;
		d->select_loc = cb_strdup(cfg_loc(se, loc, sizeof loc));
	}
	if (!rc && d->n_series > 1 && d->select < 0)
		rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [drivers] %s has %zu series: name the parameter "
		             "that chooses one per run with %s.select", d->loc, d->name, d->n_series,
		             d->name);
	if (!rc)
		rc = coefficients(d, ys, e);
	free(ys);
	return rc;
}

int drivers_read(const cubie_config *c, char *const *params, size_t n_params,
                 struct drivers **out, cubie_error *e)
{
	size_t n;
	const struct cfg_entry **en = cfg_section(c, "drivers", &n);
	struct drivers *dv = calloc(1, sizeof *dv);
	int rc = 0;
	char loc[600];
	*out = NULL;
	if (!dv || (n && !en)) {
		free(en);
		free(dv);
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	}
	if (!(dv->d = calloc(n ? n : 1, sizeof *dv->d)))
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	for (size_t i = 0; i < n && !rc; i++) {
		if (is_option(en[i]->key) || strchr(en[i]->key, '.'))
			continue;
		rc = read_one(c, en[i], params, n_params, &dv->d[dv->n++], e);
	}
	/* NAME.option: a driver's, and an option */
	for (size_t i = 0; i < n && !rc; i++) {
		const char *dot = strchr(en[i]->key, '.');
		if (!dot)
			continue;
		int known = is_option(dot + 1), k = -1;
		for (size_t j = 0; j < dv->n && k < 0; j++)
			if (strlen(dv->d[j].name) == (size_t)(dot - en[i]->key) &&
			    !strncmp(dv->d[j].name, en[i]->key, (size_t)(dot - en[i]->key)))
				k = (int)j;
		if (!known || k < 0)
			rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [drivers] %s: %s", cfg_loc(en[i], loc,
			             sizeof loc), en[i]->key, k < 0 ? "no driver of that name"
			             : "unknown option (interpolation, wrap, sample_every, start, select)");
	}
	free(en);
	for (size_t i = 0; i < dv->n && !rc; i++) {
		dv->d[i].offset = dv->n_coef;
		dv->n_coef += dv->d[i].n_series * dv->d[i].n_int * (dv->d[i].cubic ? 4 : 2);
	}
	if (rc || !dv->n) {
		drivers_free(dv);
		return rc;
	}
	*out = dv;
	return 0;
}

void drivers_free(struct drivers *dv)
{
	if (!dv)
		return;
	for (size_t i = 0; i < dv->n; i++) {
		free(dv->d[i].name);
		free(dv->d[i].loc);
		free(dv->d[i].select_loc);
		free(dv->d[i].coef);
	}
	free(dv->d);
	free(dv);
}

int drivers_find(const struct drivers *dv, const char *name)
{
	for (size_t i = 0; dv && i < dv->n; i++)
		if (!strcmp(dv->d[i].name, name))
			return (int)i;
	return -1;
}

void drivers_source(const struct drivers *dv, sbuf *b)
{
	sb_add(b, "#define CUBIE_NDRIVERS %zu\n#include <cubie/device/driver.h>\n", dv->n);
	for (size_t k = 0; k < dv->n; k++) {
		const struct driver *d = &dv->d[k];
		const size_t K = d->cubic ? 4 : 2, len = d->n_int * K;
		sb_add(b, "/* driver %s */\nCUBIE_DEV cubie_real cubie_drv_%zu(double t, const cubie_real "
		       "*p, cubie_real *dvdt)\n{\n", d->name, k);
		if (d->select >= 0)
			sb_add(b, "\tconst int k = cubie_driver_series(p[%d], %zu);\n", d->select,
			       d->n_series);
		else
			sb_add(b, "\t(void)p;\n\tconst int k = 0;\n");
		sb_add(b, "\treturn cubie_driver(cubie_driver_data() + %zuLL + (long long)k * %zuLL, %zu, "
		       "%zu, %d, %.17g, %.17g, t, dvdt);\n}\n", d->offset, len, K, d->n_int,
		       d->wrap == DRV_PERIODIC ? 1 : 0, d->start, 1 / d->step);
	}
}

void *drivers_buffer(const struct drivers *dv, int precision, size_t *bytes)
{
	const size_t r = precision == 32 ? 4 : 8;
	char *buf = malloc(dv->n_coef ? dv->n_coef * r : 1);
	*bytes = dv->n_coef * r;
	for (size_t k = 0; buf && k < dv->n; k++) {
		const struct driver *d = &dv->d[k];
		const size_t len = d->n_series * d->n_int * (d->cubic ? 4 : 2);
		for (size_t i = 0; i < len; i++) {
			if (r == 4)
				((float *)buf)[d->offset + i] = (float)d->coef[i];
			else
				((double *)buf)[d->offset + i] = d->coef[i];
		}
	}
	return buf;
}

double drivers_min_step(const struct drivers *dv)
{
	double h = INFINITY;
	for (size_t k = 0; dv && k < dv->n; k++)
		h = fmin(h, dv->d[k].step);
	return h;
}

int drivers_check_runs(const struct drivers *dv, const struct run_table *rt, size_t n_states,
                       double t_lo, double t_hi, cubie_error *e)
{
	for (size_t k = 0; dv && k < dv->n; k++) {
		const struct driver *d = &dv->d[k];
		const double end = d->start + (double)(d->n_samples - 1) * d->step, slack = 1e-9 * d->step;
		if (d->wrap == DRV_ERROR && (t_lo < d->start - slack || t_hi > end + slack))
			return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [drivers] %s: wrap = error, and the runs "
			               "span [%.17g, %.17g], outside its samples' [%.17g, %.17g]", d->loc,
			               d->name, t_lo, t_hi, d->start, end);
		if (d->select < 0)
			continue;
		const double *v = rt->v + (n_states + (size_t)d->select) * rt->n_runs;
		for (size_t r = 0; r < rt->n_runs; r++)
			if (!(v[r] >= 0 && v[r] < (double)d->n_series && v[r] == floor(v[r])))
				return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [drivers] %s.select: run %zu has "
				               "%.17g, not a series number 0 .. %zu", d->select_loc, d->name,
				               r, v[r], d->n_series - 1);
	}
	return 0;
}

void drivers_describe(const struct drivers *dv, char *const *params, sbuf *b)
{
	for (size_t k = 0; dv && k < dv->n; k++) {
		const struct driver *d = &dv->d[k];
		static const char *const wraps[] = {"clamp", "periodic", "error"};
		sb_add(b, "driver:      %s, %s%s, wrap %s, %zu samples every %.17g from %.17g", d->name,
		       d->cubic ? "cubic" : "linear",
		       !d->cubic ? "" : d->wrap == DRV_PERIODIC ? " (periodic spline)"
		                                                 : " (not-a-knot spline)",
		       wraps[d->wrap], d->n_samples, d->step, d->start);
		if (d->select >= 0)
			sb_add(b, ", %zu series chosen per run by %s", d->n_series, params[d->select]);
		sb_add(b, "\n");
	}
}
