/* Reading the INI file (through inih, counting lines ourselves so that
 * locations do not depend on how inih was built), command-line overrides,
 * schema validation and typed access. */
#include "config.h"
#include "internal.h"
#include "schema.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct cfg_key *schema_key(const char *sec, const char *key)
{
	for (const struct cfg_key *k = cfg_schema; k->section; k++)
		if (!strcmp(k->section, sec) && !strcmp(k->key, key))
			return k;
	return NULL;
}

static int free_section(const char *sec)
{
	for (const char *const *s = cfg_free_sections; *s; s++)
		if (!strcmp(*s, sec))
			return 1;
	return 0;
}

static int known_section(const char *sec)
{
	if (free_section(sec))
		return 1;
	for (const struct cfg_key *k = cfg_schema; k->section; k++)
		if (!strcmp(k->section, sec))
			return 1;
	return 0;
}

const char *cfg_loc(const struct cfg_entry *en, char *buf, size_t len)
{
	if (en->line > 0)
		snprintf(buf, len, "%s:%d", en->file, en->line);
	else
		snprintf(buf, len, "%s", en->file);
	return buf;
}

static struct cfg_entry *find(const cubie_config *c, const char *sec, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->e[i].section, sec) && !strcmp(c->e[i].key, key))
			return &c->e[i];
	return NULL;
}

const struct cfg_entry *cfg_get(const cubie_config *c, const char *sec, const char *key)
{
	return find(c, sec, key);
}

/* Check that section.key is known and add or (override) replace it. */
static int put(cubie_config *c, const char *sec, const char *key, const char *value,
               const char *file, int line, int override, cubie_error *e)
{
	char where[600];
	if (line > 0)
		snprintf(where, sizeof where, "%s:%d", file, line);
	else
		snprintf(where, sizeof where, "%s", file);
	if (!*sec)
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: key '%s' outside any section", where, key);
	if (!known_section(sec))
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: unknown section [%s]", where, sec);
	if (!free_section(sec) && !schema_key(sec, key))
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: unknown key '%s' in [%s]", where, key, sec);
	struct cfg_entry *old = find(c, sec, key);
	if (old && !override) {
		char first[600];
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: duplicate key '%s' in [%s] (first set at %s)",
		               where, key, sec, cfg_loc(old, first, sizeof first));
	}
	if (old) {
		char *v = cb_strdup(value), *f = cb_strdup(file);
		if (!v || !f) {
			free(v);
			free(f);
			return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		}
		free(old->value);
		free(old->file);
		old->value = v;
		old->file = f;
		old->line = line;
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 32;
		struct cfg_entry *p = realloc(c->e, cap * sizeof *p);
		if (!p)
			return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		c->e = p;
		c->cap = cap;
	}
	struct cfg_entry *en = &c->e[c->n];
	en->section = cb_strdup(sec);
	en->key = cb_strdup(key);
	en->value = cb_strdup(value);
	en->file = cb_strdup(file);
	en->line = line;
	if (!en->section || !en->key || !en->value || !en->file) {
		free(en->section), free(en->key), free(en->value), free(en->file);
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	}
	c->n++;
	return 0;
}

/* inih reads through this, so the line number is ours to count. A line
 * that starts with blanks and is not blank continues the previous value.
 * inih's line buffer is fixed when inih is built (200 characters in some
 * distributions): a longer line is read whole here, and inih is handed a
 * stand-in `key = \x01` (or an indented `\x01` for a continuation)
 * whose value on_value replaces by the long one. */
struct reader {
	FILE *f;
	int line;
	int continuation;
	cubie_config *c;
	const char *file;
	cubie_error *e;
	int failed;
	char *long_value; /* the value of the current long line, or NULL */
	struct cfg_entry *last; /* the entry continuation lines extend, */
	size_t last_len, last_cap; /* and its value's length and allocated size */
};

static char *reader_fail(struct reader *r, const char *what)
{
	cb_fail(r->e, CUBIE_ERR_CONFIG, "%s:%d: %s", r->file, r->line, what);
	r->failed = 1;
	return NULL;
}

#define NUL_BYTE "NUL byte in the line: is this a text file?"

#define LONG_MARK "\x01"

/* The rest of a long line (buf holds its start) as key and value: inih's
 * rules (the first '=' or ':', a comment from ';' or '#' after a blank),
 * then the stand-in line in buf. 1: a NUL byte in the line. */
static int read_long(struct reader *r, char *buf, int size)
{
	sbuf b = {0};
	int ch;
	sb_addn(&b, buf, strlen(buf));
	while ((ch = fgetc(r->f)) != EOF && ch != '\n') {
		char c = (char)ch;
		if (!c) {
			free(b.s);
			return 1;
		}
		sb_addn(&b, &c, 1);
	}
	if (!b.s)
		return -1;
	char *p = b.s, *end;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == ';' || *p == '#') { /* a long comment */
		free(b.s);
		snprintf(buf, (size_t)size, ";\n");
		return 0;
	}
	int cont = p != b.s;
	char *eq = cont ? p : p + strcspn(p, "=:");
	if (!cont && !*eq) { /* no key: let inih report the line */
		free(b.s);
		snprintf(buf, (size_t)size, "%s", "?\n");
		return 0;
	}
	char *v = cont ? p : eq + 1;
	for (end = v; *end; end++)
		if ((*end == ';' || *end == '#') && end > v && (end[-1] == ' ' || end[-1] == '\t'))
			break;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t klen = cont ? 0 : (size_t)(eq - b.s);
	if (klen + 8 > (size_t)size) {
		free(b.s);
		return -1;
	}
	free(r->long_value);
	r->long_value = cb_printf("%.*s", (int)(end > v ? end - v : 0), v);
	if (cont)
		snprintf(buf, (size_t)size, " " LONG_MARK "\n");
	else
		snprintf(buf, (size_t)size, "%.*s= " LONG_MARK "\n", (int)klen, b.s);
	free(b.s);
	return r->long_value ? 0 : -1;
}

static char *read_line(char *buf, int size, void *stream)
{
	struct reader *r = stream;
	int ch = 0, n = 0, nul = 0, rc;
	if (r->failed)
		return NULL;
	/* not fgets: a NUL byte would cut the line short unseen */
	while (n < size - 1 && (ch = getc(r->f)) != EOF) {
		nul |= ch == 0;
		buf[n++] = (char)ch;
		if (ch == '\n')
			break;
	}
	if (n == 0)
		return NULL;
	buf[n] = 0;
	r->line++;
	if (nul)
		return reader_fail(r, NUL_BYTE);
	if (n == size - 1 && buf[n - 1] != '\n' && (ch = getc(r->f)) != EOF) {
		ungetc(ch, r->f);
		if ((rc = read_long(r, buf, size)))
			return reader_fail(r, rc > 0 ? NUL_BYTE : "cannot read this long line");
	}
	const char *p = buf;
	while (*p == ' ' || *p == '\t')
		p++;
	r->continuation = p != buf && *p && *p != '\n' && *p != '\r' && *p != ';' && *p != '#';
	if (p == buf && *p == '[' && !strchr(p, ']'))
		return reader_fail(r, "expected ']' to end the section name");
	return buf;
}

static int store_value(struct reader *r, const char *sec, const char *key, const char *value);

static int on_value(void *user, const char *sec, const char *key, const char *value)
{
	struct reader *r = user;
	if (r->failed)
		return 0;
	if (r->long_value && !strcmp(value, LONG_MARK))
		value = r->long_value;
	/* inih ends a value at " ;"; " #" starts a comment too, as at the
	 * start of a line (no expression uses '#') */
	char *cut = NULL;
	for (const char *h = strchr(value, '#'); h && !cut; h = strchr(h + 1, '#'))
		if (h > value && (h[-1] == ' ' || h[-1] == '\t') && (cut = cb_strdup(value))) {
			size_t k = (size_t)(h - value);
			while (k > 0 && (cut[k - 1] == ' ' || cut[k - 1] == '\t'))
				k--;
			cut[k] = 0;
		}
	if (cut)
		value = cut;
	int ok = store_value(r, sec, key, value);
	free(cut);
	return ok;
}

/* on_value's second half: a continuation, else a new entry. */
static int store_value(struct reader *r, const char *sec, const char *key, const char *value)
{
	if (r->continuation) {
		struct cfg_entry *en = find(r->c, sec, key);
		if (en) {
			/* grown geometrically: a value continued over many lines is
			 * read in linear time */
			size_t have, add = strlen(value);
			if (en != r->last)
				r->last = en, r->last_len = strlen(en->value), r->last_cap = r->last_len + 1;
			have = r->last_len;
			if (have + add + 2 > r->last_cap) {
				size_t cap = 2 * (have + add + 2);
				char *v = realloc(en->value, cap);
				if (!v) {
					cb_fail(r->e, CUBIE_ERR_RUNTIME, "out of memory");
					r->failed = 1;
					return 0;
				}
				en->value = v;
				r->last_cap = cap;
			}
			en->value[have] = ' ';
			memcpy(en->value + have + 1, value, add + 1);
			r->last_len += add + 1;
			return 1;
		}
	}
	if (put(r->c, sec, key, value, r->file, r->line, 0, r->e)) {
		r->failed = 1;
		return 0;
	}
	r->last = NULL;
	return 1;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return cb_strdup(".");
	if (slash == path)
		return cb_strdup("/");
	char *d = cb_strdup(path);
	if (d)
		d[slash - path] = 0;
	return d;
}

static int bad(const cubie_config *c, const char *sec, const char *key, cubie_error *e,
               const char *what);

/* Check a schema key's value against its type, so that a bad value is
 * reported where it was written, before anything else happens. */
static int validate(const cubie_config *c, const struct cfg_entry *en, cubie_error *e)
{
	const struct cfg_key *k = schema_key(en->section, en->key);
	if (!k)
		return 0;
	double d;
	long long i;
	char **names;
	size_t n;
	switch (k->type) {
	case CFG_NUM:
		return cfg_num(c, en->section, en->key, &d, e);
	case CFG_INT:
	case CFG_AUTO_INT:
		return cfg_int(c, en->section, en->key, &i, e);
	case CFG_GPUS: {
		int *g, all;
		int rc = cfg_gpus(c, en->section, en->key, &g, &n, &all, e);
		if (!rc)
			free(g);
		return rc;
	}
	case CFG_NAMES: {
		int rc = cfg_names(c, en->section, en->key, &names, &n, e);
		if (!rc)
			cfg_free_names(names, n);
		return rc;
	}
	case CFG_NUMS: {
		double *v;
		int rc = cfg_values(en, &v, &n, e);
		if (!rc)
			free(v);
		return rc;
	}
	case CFG_CHOICE: {
		size_t len = strlen(en->value);
		for (const char *p = k->doc; p; p = strchr(p, '|') ? strchr(p, '|') + 1 : NULL)
			if (!strncmp(p, en->value, len) && (p[len] == '|' || p[len] == 0))
				return 0;
		char msg[300];
		snprintf(msg, sizeof msg, "expected one of %s", k->doc);
		return bad(c, en->section, en->key, e, msg);
	}
	}
	return 0;
}

/* Parse one file into a fresh configuration, validated on its own:
 * duplicates within the file are errors, bad values are reported at their
 * file:line. optional: a file that does not exist is no error (*out NULL). */
static int load_file(const char *path, int optional, cubie_config **out, cubie_error *e)
{
	*out = NULL;
	FILE *f = fopen(path, "r");
	if (!f) {
		if (optional && (errno == ENOENT || errno == ENOTDIR))
			return 0;
		return cb_fail(e, CUBIE_ERR_CONFIG, "%s: %s", path, strerror(errno));
	}
	cubie_config *c = calloc(1, sizeof *c);
	if (!c) {
		fclose(f);
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	}
	c->path = cb_strdup(path);
	c->dir = dir_of(path);
	struct reader r = {f, 0, 0, c, path, e, 0, NULL, NULL, 0, 0};
	int rc = ini_parse_stream(read_line, &r, on_value, &r);
	free(r.long_value);
	fclose(f);
	if (rc != 0 && !r.failed)
		cb_fail(e, CUBIE_ERR_CONFIG, rc > 0 ? "%s:%d: expected 'key = value' or '[section]'"
		                                    : "%s:%d: cannot read the file", path, rc);
	if (rc != 0 || r.failed) {
		cubie_config_free(c);
		return CUBIE_ERR_CONFIG;
	}
	for (size_t i = 0; i < c->n; i++)
		if (validate(c, &c->e[i], e)) {
			cubie_config_free(c);
			return CUBIE_ERR_CONFIG;
		}
	*out = c;
	return 0;
}

/* Lay the entries of a later layer over c: a key it sets replaces the
 * earlier value (keeping the earlier position in free-form sections). */
static int merge(cubie_config *c, const cubie_config *layer, cubie_error *e)
{
	for (size_t i = 0; i < layer->n; i++) {
		const struct cfg_entry *en = &layer->e[i];
		if (put(c, en->section, en->key, en->value, en->file, en->line, 1, e))
			return CUBIE_ERR_CONFIG;
	}
	return 0;
}

#include "core/paths.h" /* CUBIE_SYSCONFDIR, generated by make */

/* The defaults files under the user's file, lowest first: the system one
 * ($CUBIE_SYSTEM_DEFAULTS, for tests and relocated installs; set and empty:
 * none), then $XDG_CONFIG_HOME/cubie/defaults.ini (XDG_CONFIG_HOME unset,
 * empty or relative: ~/.config). Entries may be NULL. */
static void defaults_files(char *files[2])
{
	const char *sys = getenv("CUBIE_SYSTEM_DEFAULTS");
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	if (sys)
		files[0] = *sys ? cb_strdup(sys) : NULL;
	else
		files[0] = cb_strdup(CUBIE_SYSCONFDIR "/cubie/defaults.ini");
	if (xdg && xdg[0] == '/')
		files[1] = cb_printf("%s/cubie/defaults.ini", xdg);
	else if (home && *home)
		files[1] = cb_printf("%s/.config/cubie/defaults.ini", home);
	else
		files[1] = NULL;
}

/* The defaults layers under a user's file (path NULL: those alone, for
 * commands that take no file). */
static int load_layers(const char *path, cubie_config **out, cubie_error *e)
{
	*out = NULL;
	cubie_config *c = NULL, *layer = NULL;
	char *files[2];
	int rc = path ? load_file(path, 0, &c, e) : 0;
	if (rc)
		return rc;
	defaults_files(files);
	/* Build the stack from the bottom: defaults, then the user's file. */
	cubie_config *all = calloc(1, sizeof *all);
	if (!all) {
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		goto out;
	}
	if (c) {
		all->path = c->path;
		all->dir = c->dir;
		c->path = c->dir = NULL;
	} else if (!(all->path = cb_strdup("(defaults)")) || !(all->dir = cb_strdup("."))) {
		rc = cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		goto out;
	}
	for (int i = 0; i < 2 && !rc; i++) {
		if (!files[i])
			continue;
		if (!(rc = load_file(files[i], 1, &layer, e)) && layer)
			rc = merge(all, layer, e);
		cubie_config_free(layer);
		layer = NULL;
	}
	if (!rc && c)
		rc = merge(all, c, e);
	if (!rc && path && !cfg_get(all, "model", "states"))
		rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s: [model] states is required", path);
out:
	free(files[0]);
	free(files[1]);
	cubie_config_free(c);
	if (rc) {
		cubie_config_free(all);
		return rc;
	}
	*out = all;
	return 0;
}

int cubie_config_load(const char *path, cubie_config **out, cubie_error *e)
{
	return load_layers(path, out, e);
}

int cfg_load_defaults(cubie_config **out, cubie_error *e)
{
	return load_layers(NULL, out, e);
}

int cubie_config_set(cubie_config *c, const char *a, cubie_error *e)
{
	const char *dot = strchr(a, '.'), *eq = strchr(a, '=');
	if (!dot || !eq || dot > eq)
		return cb_fail(e, CUBIE_ERR_CONFIG,
		               "-s %s: expected SECTION.KEY=VALUE, e.g. -s solve.dt=1e-4", a);
	char *sec = cb_strdup(a);
	if (!sec)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	sec[dot - a] = 0;
	char *key = sec + (dot - a) + 1;
	sec[eq - a] = 0;
	const char *v = eq + 1;
	while (isspace((unsigned char)*v))
		v++;
	int rc = put(c, sec, key, v, "command line", 0, 1, e);
	if (!rc)
		rc = validate(c, find(c, sec, key), e);
	free(sec);
	return rc;
}

void cubie_config_free(cubie_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].section);
		free(c->e[i].key);
		free(c->e[i].value);
		free(c->e[i].file);
	}
	free(c->e);
	free(c->path);
	free(c->dir);
	free(c);
}

const char *cfg_str(const cubie_config *c, const char *sec, const char *key)
{
	const struct cfg_entry *en = find(c, sec, key);
	if (en)
		return en->value;
	const struct cfg_key *k = schema_key(sec, key);
	return k ? k->def : NULL;
}

/* Prefix for a message about section.key: "file:line: [sec] key" */
static int bad(const cubie_config *c, const char *sec, const char *key, cubie_error *e,
               const char *what)
{
	const struct cfg_entry *en = find(c, sec, key);
	char loc[600];
	return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [%s] %s = '%s': %s",
	               en ? cfg_loc(en, loc, sizeof loc) : "default", sec, key,
	               en ? en->value : "", what);
}

int cfg_require(const cubie_config *c, const char *sec, const char *key, int cond,
                const char *what, cubie_error *e)
{
	if (cond)
		return 0;
	const struct cfg_entry *en = find(c, sec, key);
	char loc[600];
	return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [%s] %s must be %s",
	               en ? cfg_loc(en, loc, sizeof loc) : c->path, sec, key, what);
}

int cfg_num(const cubie_config *c, const char *sec, const char *key, double *v, cubie_error *e)
{
	const char *s = cfg_str(c, sec, key);
	char msg[256];
	if (!s)
		return bad(c, sec, key, e, "a value is required");
	if (expr_eval_const(s, v, msg, sizeof msg))
		return bad(c, sec, key, e, msg);
	if (!isfinite(*v))
		return bad(c, sec, key, e, "not a finite number");
	return 0;
}

int cfg_int(const cubie_config *c, const char *sec, const char *key, long long *v, cubie_error *e)
{
	const char *s = cfg_str(c, sec, key);
	char *end;
	if (!s)
		return bad(c, sec, key, e, "a value is required");
	const struct cfg_key *k = schema_key(sec, key);
	if (k && k->type == CFG_AUTO_INT && !strcmp(s, "auto")) {
		*v = 0;
		return 0;
	}
	errno = 0;
	*v = strtoll(s, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno || end == s || *end)
		return bad(c, sec, key, e, k && k->type == CFG_AUTO_INT ? "expected an integer or auto"
		                                                         : "expected an integer");
	return 0;
}

int cfg_gpus(const cubie_config *c, const char *sec, const char *key, int **list, size_t *n,
             int *all, cubie_error *e)
{
	const char *s = cfg_str(c, sec, key);
	*list = NULL;
	*n = 0;
	*all = 0;
	if (!s)
		return bad(c, sec, key, e, "a value is required");
	while (isspace((unsigned char)*s))
		s++;
	if (!strncmp(s, "all", 3) && !s[3 + strspn(s + 3, " \t")]) {
		*all = 1;
		return 0;
	}
	int *g = calloc(strlen(s) / 2 + 1, sizeof *g);
	if (!g)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	for (const char *p = s;; p++) {
		char *end;
		errno = 0;
		long long v = strtoll(p, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (errno || end == p || (*end && *end != ',')) {
			free(g);
			return bad(c, sec, key, e, "expected an integer, a list of them (0, 2) or all");
		}
		if (v < 0 || v > 1023) {
			free(g);
			return cfg_require(c, sec, key, 0, "between 0 and 1023, a list of them, or all", e);
		}
		for (size_t i = 0; i < *n; i++)
			if (g[i] == (int)v) {
				free(g);
				return bad(c, sec, key, e, "a GPU is listed twice");
			}
		g[(*n)++] = (int)v;
		if (!*end)
			break;
		p = end;
	}
	*list = g;
	return 0;
}

static int is_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

void cfg_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Split on commas, trimming blanks. Empty text gives no items. */
static int split(const char *s, char ***items, size_t *n)
{
	*items = NULL;
	*n = 0;
	size_t cap = 1;
	for (const char *p = s; *p; p++)
		cap += *p == ',';
	char **v = calloc(cap, sizeof *v);
	if (!v)
		return -1;
	const char *p = s;
	while (isspace((unsigned char)*p))
		p++;
	if (!*p) {
		*items = v;
		return 0;
	}
	for (;;) {
		const char *q = strchr(p, ',');
		const char *end = q ? q : p + strlen(p);
		while (isspace((unsigned char)*p) && p < end)
			p++;
		const char *z = end;
		while (z > p && isspace((unsigned char)z[-1]))
			z--;
		v[*n] = malloc((size_t)(z - p) + 1);
		if (!v[*n]) {
			cfg_free_names(v, *n);
			return -1;
		}
		memcpy(v[*n], p, (size_t)(z - p));
		v[(*n)++][z - p] = 0;
		if (!q)
			break;
		p = q + 1;
	}
	*items = v;
	return 0;
}

int cfg_names(const cubie_config *c, const char *sec, const char *key, char ***names,
              size_t *n, cubie_error *e)
{
	const char *s = cfg_str(c, sec, key);
	*names = NULL;
	*n = 0;
	if (!s)
		return 0;
	if (split(s, names, n))
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	char msg[300] = "";
	for (size_t i = 0; i < *n && !*msg; i++) {
		for (size_t j = 0; j < i && !*msg; j++)
			if (!strcmp((*names)[i], (*names)[j]))
				snprintf(msg, sizeof msg, "'%s' is listed twice", (*names)[i]);
		if (!*msg && !is_name((*names)[i]))
			snprintf(msg, sizeof msg, "'%s' is not a name (letters, digits, _)", (*names)[i]);
	}
	if (*msg) {
		cfg_free_names(*names, *n);
		*names = NULL;
		*n = 0;
		return bad(c, sec, key, e, msg);
	}
	return 0;
}

const struct cfg_entry **cfg_section(const cubie_config *c, const char *sec, size_t *n)
{
	const struct cfg_entry **v = malloc((c->n + 1) * sizeof *v);
	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->e[i].section, sec))
			v[(*n)++] = &c->e[i];
	return v;
}

static int entry_error(const struct cfg_entry *en, cubie_error *e, const char *what)
{
	char loc[600];
	return cb_fail(e, CUBIE_ERR_CONFIG, "%s: [%s] %s = '%s': %s", cfg_loc(en, loc, sizeof loc),
	               en->section, en->key, en->value, what);
}

int cfg_values(const struct cfg_entry *en, double **v, size_t *n, cubie_error *e)
{
	return cfg_values_names(en, NULL, NULL, v, n, e);
}

int cfg_values_names(const struct cfg_entry *en, expr_value_fn value, void *ctx, double **v,
                     size_t *n, cubie_error *e)
{
	const char *s = en->value;
	char msg[256];
	*v = NULL;
	*n = 0;
	while (isspace((unsigned char)*s))
		s++;
	int lin = !strncmp(s, "linspace", 8), lg = !strncmp(s, "logspace", 8);
	if (lin || lg) {
		const char *open = s + 8;
		while (isspace((unsigned char)*open))
			open++;
		const char *close = strrchr(s, ')');
		if (*open != '(' || !close)
			return entry_error(en, e, lin ? "expected linspace(start, stop, count)"
			                              : "expected logspace(start, stop, count)");
		char *inner = cb_strdup(open + 1);
		if (!inner)
			return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		inner[close - open - 1] = 0;
		char **parts;
		size_t np;
		double a[3];
		int rc = split(inner, &parts, &np);
		free(inner);
		if (rc)
			return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		rc = np != 3;
		for (size_t i = 0; !rc && i < 3; i++)
			rc = expr_eval_text(parts[i], value, ctx, &a[i], msg, sizeof msg);
		cfg_free_names(parts, np);
		if (rc)
			return entry_error(en, e, np != 3 ? "expected 3 arguments: start, stop, count" : msg);
		if (a[2] < 1 || a[2] != floor(a[2]))
			return entry_error(en, e, "the count must be a whole number >= 1");
		if (a[2] * sizeof(double) > (double)cb_memory_bytes()) { /* before allocating */
			char what[200];
			snprintf(what, sizeof what, "%.17g values need %.3g bytes, more than this "
			         "machine's memory (%.3g bytes)", a[2], a[2] * sizeof(double),
			         (double)cb_memory_bytes());
			return entry_error(en, e, what);
		}
		size_t count = (size_t)a[2];
		double *x = malloc(count * sizeof *x);
		char loc[600];
		if (!x)
			return cb_fail(e, CUBIE_ERR_RUNTIME, "%s: [%s] %s: out of memory for %zu values",
			               cfg_loc(en, loc, sizeof loc), en->section, en->key, count);
		for (size_t i = 0; i < count; i++) {
			double u = cb_linspace(a[0], a[1], i, count);
			x[i] = lg ? pow(10.0, u) : u;
		}
		*v = x;
		*n = count;
		return 0;
	}
	char **parts;
	size_t np;
	if (split(s, &parts, &np))
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	if (np == 0) {
		cfg_free_names(parts, np);
		return entry_error(en, e, "a value is required");
	}
	double *x = malloc(np * sizeof *x);
	if (!x) {
		cfg_free_names(parts, np);
		return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
	}
	for (size_t i = 0; i < np; i++)
		if (expr_eval_text(parts[i], value, ctx, &x[i], msg, sizeof msg) || !isfinite(x[i])) {
			char what[400];
			snprintf(what, sizeof what, "item %zu '%s': %s", i + 1, parts[i],
			         isfinite(x[i]) ? msg : "not finite");
			free(x);
			cfg_free_names(parts, np);
			return entry_error(en, e, what);
		}
	cfg_free_names(parts, np);
	*v = x;
	*n = np;
	return 0;
}

char *cfg_path(const cubie_config *c, const struct cfg_entry *en)
{
	/* command-line paths are relative to the working directory */
	if (en->value[0] == '/' || en->line == 0)
		return cb_strdup(en->value);
	return cb_printf("%s/%s", c->dir, en->value);
}

char *cubie_config_describe(const cubie_config *c)
{
	sbuf b = {0};
	char loc[600];
	for (const struct cfg_key *k = cfg_schema; k->section; k++) {
		const struct cfg_entry *en = find(c, k->section, k->key);
		const char *v = en ? en->value : k->def;
		sb_add(&b, "[%s] %s = %s", k->section, k->key, v ? v : "(unset)");
		if (en)
			sb_add(&b, "    ; %s", cfg_loc(en, loc, sizeof loc));
		sb_add(&b, "\n");
	}
	return b.s;
}
