/* Plugin registry: where plugins are searched, how one is opened and
 * checked against the ABI, how a name or alias resolves to a file, and the
 * listing behind `cubie plugins`. A refusal always names the file and says
 * what to do about it. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"

#ifndef CUBIE_PLUGINDIR
#define CUBIE_PLUGINDIR "/usr/local/lib/cubie"
#endif

const char *plugin_kind_name(int kind)
{
	switch (kind) {
	case CUBIE_PLUGIN_INTEGRATOR: return "integrator";
	case CUBIE_PLUGIN_ALLOCATOR: return "allocator";
	case CUBIE_PLUGIN_WRITER: return "writer";
	}
	return "unknown";
}

/* "an integrator", "an allocator", "a writer" */
static const char *kind_article(int kind)
{
	return kind == CUBIE_PLUGIN_WRITER ? "a" : "an";
}

/* ---- search directories ---- */

struct dirlist {
	char **v;
	size_t n, cap;
};

/* Append dir (n bytes) unless it is empty or already listed, by spelling or
 * by canonical path: the build tree is often named twice, through
 * CUBIE_PLUGIN_PATH and through the running executable, and listing it twice
 * would mark every plugin in it as shadowed by itself. */
static void dl_add(struct dirlist *d, const char *base, const char *dir, size_t n)
{
	while (n > 0 && (*dir == ' ' || *dir == '\t'))
		dir++, n--;
	while (n > 0 && (dir[n - 1] == ' ' || dir[n - 1] == '\t'))
		n--;
	if (n == 0)
		return;
	char *s;
	if (base && *base && dir[0] != '/')
		s = cb_printf("%s/%.*s", base, (int)n, dir);
	else
		s = cb_printf("%.*s", (int)n, dir);
	if (!s)
		return;
	char *canon = realpath(s, NULL);
	for (size_t i = 0; i < d->n; i++) {
		int same = strcmp(d->v[i], s) == 0;
		if (!same && canon) {
			char *other = realpath(d->v[i], NULL);
			same = other && strcmp(other, canon) == 0;
			free(other);
		}
		if (same) {
			free(canon);
			free(s);
			return;
		}
	}
	free(canon);
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 8;
		char **v = realloc(d->v, cap * sizeof *v);
		if (!v) {
			free(s);
			return;
		}
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = s;
}

/* Split list at sep and add each piece. */
static void dl_add_list(struct dirlist *d, const char *base, const char *list, char sep)
{
	while (list && *list) {
		const char *end = strchr(list, sep);
		size_t n = end ? (size_t)(end - list) : strlen(list);
		dl_add(d, base, list, n);
		list = end ? end + 1 : NULL;
	}
}

/* <build>/plugin-dir when this executable runs from a libtool build tree
 * (<build>/.libs/prog or <build>/sub/.libs/prog), else NULL. */
static char *build_tree_dir(void)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len <= 0)
		return NULL;
	exe[len] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = '\0'; /* exe is now the executable's directory */
	const char *leaf = strrchr(exe, '/');
	if (!leaf || strcmp(leaf + 1, ".libs") != 0)
		return NULL;
	char *dir = cb_printf("%s/../plugin-dir", exe);
	struct stat st;
	if (!dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		free(dir);
		return NULL;
	}
	char *canon = realpath(dir, NULL);
	if (canon) {
		free(dir);
		return canon;
	}
	return dir;
}

char **plugin_dirs(const cubie_config *c, size_t *n)
{
	struct dirlist d = {0};
	if (c) {
		const struct cfg_entry *en = cfg_get(c, "plugins", "path");
		/* Relative to the file, as cfg_path has it; from the command line,
		 * relative to the working directory. */
		if (en && en->value)
			dl_add_list(&d, en->line > 0 ? c->dir : NULL, en->value, ',');
		for (size_t i = 0; i < d.n; i++) { /* said, not silently skipped */
			struct stat st;
			char loc[600];
			int found = stat(d.v[i], &st) == 0;
			if (!found || !S_ISDIR(st.st_mode))
				cb_log(CUBIE_LOG_WARN, "%s: [plugins] path: %s %s; ignoring it",
				       cfg_loc(en, loc, sizeof loc), d.v[i],
				       found ? "is not a directory" : strerror(errno));
		}
	}
	dl_add_list(&d, NULL, getenv("CUBIE_PLUGIN_PATH"), ':');
	char *build = build_tree_dir();
	if (build) {
		dl_add(&d, NULL, build, strlen(build));
		free(build);
	}
	dl_add(&d, NULL, CUBIE_PLUGINDIR, strlen(CUBIE_PLUGINDIR));
	*n = d.n;
	return d.v;
}

/* ---- opening one file ---- */

typedef const cubie_plugin *(*describe_fn)(void);

/* The ops table a kind needs before the core may call into it. */
static const char *missing_ops(const cubie_plugin *p)
{
	switch (p->kind) {
	case CUBIE_PLUGIN_INTEGRATOR: {
		const cubie_integrator_ops *o = p->ops;
		return o->source ? NULL : "device source";
	}
	case CUBIE_PLUGIN_ALLOCATOR: {
		const cubie_allocator_ops *o = p->ops;
		return o->create && o->alloc && o->free && o->end_solve && o->trim && o->destroy
		       ? NULL : "create, alloc, free, end_solve, trim or destroy";
	}
	case CUBIE_PLUGIN_WRITER: {
		const cubie_writer_ops *o = p->ops;
		return o->write ? NULL : "write function";
	}
	}
	return NULL;
}

int plugin_open(const char *path, struct plugin *out, cubie_error *e)
{
	memset(out, 0, sizeof *out);
	/* A bare file name would make dlopen search the library path. */
	char *full = strchr(path, '/') ? cb_strdup(path) : cb_printf("./%s", path);
	if (!full)
		return cb_fail(e, CUBIE_ERR_RUNTIME, "%s: out of memory", path);
	dlerror();
	void *h = dlopen(full, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		size_t n = strlen(full);
		/* glibc starts with the file name, which the message has already */
		if (why && strncmp(why, full, n) == 0 && strncmp(why + n, ": ", 2) == 0)
			why += n + 2;
		free(full);
		return cb_fail(e, CUBIE_ERR_CONFIG,
		               "%s: not a loadable shared object (%s): remove it from the "
		               "plugin directory or rebuild it", path, why ? why : "dlopen failed");
	}
	free(full);
	void *sym = dlsym(h, "cubie_plugin_describe");
	if (!sym) {
		dlclose(h);
		return cb_fail(e, CUBIE_ERR_CONFIG,
		               "%s does not export cubie_plugin_describe: not a cubie plugin "
		               "(remove it from the plugin directory)", path);
	}
	describe_fn fn;
	memcpy(&fn, &sym, sizeof fn); /* object to function pointer, portably */
	const cubie_plugin *p = fn();
	int rc = CUBIE_ERR_CONFIG;
	if (!p) {
		cb_fail(e, rc, "%s: cubie_plugin_describe returned no descriptor: fix or "
		        "remove the plugin", path);
	} else if (p->abi_major != CUBIE_ABI_MAJOR) {
		cb_fail(e, rc, "%s: built for cubie plugin ABI %u.x, this cubie has %d.%d: "
		        "rebuild the plugin against cubie %s's headers", path,
		        (unsigned)p->abi_major, CUBIE_ABI_MAJOR, CUBIE_ABI_MINOR,
		        CUBIE_VERSION_STRING);
	} else if (p->abi_minor > CUBIE_ABI_MINOR) {
		cb_fail(e, rc, "%s: built for cubie plugin ABI %u.%u, newer than this "
		        "cubie's %d.%d: upgrade cubie, or rebuild the plugin against cubie "
		        "%s's headers", path, (unsigned)p->abi_major, (unsigned)p->abi_minor,
		        CUBIE_ABI_MAJOR, CUBIE_ABI_MINOR, CUBIE_VERSION_STRING);
	} else if (p->kind != CUBIE_PLUGIN_INTEGRATOR && p->kind != CUBIE_PLUGIN_ALLOCATOR &&
	           p->kind != CUBIE_PLUGIN_WRITER) {
		cb_fail(e, rc, "%s: unknown plugin kind %d (this cubie knows integrator, "
		        "allocator and writer): fix the plugin's descriptor", path, p->kind);
	} else if (!p->name || !*p->name || strchr(p->name, '/')) {
		cb_fail(e, rc, "%s: the plugin's descriptor has no valid name: fix the "
		        "plugin's descriptor", path);
	} else if (!p->ops) {
		cb_fail(e, rc, "%s: %s plugin '%s' has no ops table: fix the plugin's "
		        "descriptor", path, plugin_kind_name(p->kind), p->name);
	} else if (missing_ops(p)) {
		cb_fail(e, rc, "%s: %s plugin '%s' lacks its %s: fix the plugin", path,
		        plugin_kind_name(p->kind), p->name, missing_ops(p));
	} else {
		rc = 0;
	}
	if (rc) {
		dlclose(h);
		return rc;
	}
	out->path = cb_strdup(path);
	if (!out->path) {
		dlclose(h);
		return cb_fail(e, CUBIE_ERR_RUNTIME, "%s: out of memory", path);
	}
	out->desc = p;
	out->handle = h;
	return 0;
}

void plugin_close(struct plugin *p)
{
	if (!p)
		return;
	if (p->handle)
		dlclose(p->handle);
	free(p->path);
	memset(p, 0, sizeof *p);
}

/* ---- finding a plugin by name or alias ---- */

static int is_so(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 3 && strcmp(d->d_name + n - 3, ".so") == 0;
}

/* Sorted *.so files of dir/kind, so that scans are reproducible. */
static int scan_kind(const char *dir, int kind, struct dirent ***list)
{
	char *sub = cb_printf("%s/%s", dir, plugin_kind_name(kind));
	int n = sub ? scandir(sub, list, is_so, alphasort) : -1;
	free(sub);
	return n;
}

static void free_scan(struct dirent **list, int n)
{
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static const char *const *aliases_of(const cubie_plugin *p)
{
	if (p->kind != CUBIE_PLUGIN_INTEGRATOR)
		return NULL;
	return ((const cubie_integrator_ops *)p->ops)->aliases;
}

static int claims(const cubie_plugin *p, const char *name)
{
	if (strcmp(p->name, name) == 0)
		return 1;
	const char *const *a = aliases_of(p);
	for (; a && *a; a++)
		if (strcmp(*a, name) == 0)
			return 1;
	return 0;
}

/* Remember a plugin name; returns 1 when it was met before (shadowed). */
static int seen_before(char ***seen, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*seen)[i], name) == 0)
			return 1;
	char **grown = realloc(*seen, (*n + 1) * sizeof **seen);
	if (!grown)
		return 0;
	*seen = grown;
	if ((grown[*n] = cb_strdup(name)))
		(*n)++;
	return 0;
}

static void free_seen(char **seen, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(seen[i]);
	free(seen);
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return (size_t)-1;
	size_t row[65];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Keep the closest name seen so far as a did-you-mean candidate. */
static void consider(const char *want, const char *cand, char *best, size_t *best_d)
{
	size_t d = edit_distance(want, cand);
	size_t limit = strlen(want) / 3 + 1;
	if (d > 0 && d <= limit && d < *best_d && strlen(cand) < 64) {
		*best_d = d;
		strcpy(best, cand);
	}
}

/* The file <dir>/<kind>/<name>.so exists: it is the plugin, or a refusal. */
static int load_file(int kind, const char *name, const char *path, struct plugin *out,
                     cubie_error *e)
{
	int rc = plugin_open(path, out, e);
	if (rc)
		return rc;
	const cubie_plugin *p = out->desc;
	if (p->kind != kind) {
		cb_fail(e, CUBIE_ERR_CONFIG, "%s is %s %s plugin, found where %s %s plugin "
		        "was expected: move it to %s %s/ directory", path,
		        kind_article(p->kind), plugin_kind_name(p->kind), kind_article(kind),
		        plugin_kind_name(kind), kind_article(p->kind), plugin_kind_name(p->kind));
		plugin_close(out);
		return CUBIE_ERR_CONFIG;
	}
	if (strcmp(p->name, name) != 0) {
		cb_fail(e, CUBIE_ERR_CONFIG, "%s: the file is named %s.so but the plugin "
		        "calls itself '%s': rename the file to %s.so", path, name, p->name,
		        p->name);
		plugin_close(out);
		return CUBIE_ERR_CONFIG;
	}
	return 0;
}

int plugin_load(int kind, const char *name, char *const *dirs, size_t n_dirs,
                struct plugin *out, cubie_error *e)
{
	const char *kname = plugin_kind_name(kind);
	memset(out, 0, sizeof *out);
	if (!name || !*name || strchr(name, '/') || name[0] == '.')
		return cb_fail(e, CUBIE_ERR_CONFIG, "'%s' is not a valid %s plugin name: "
		               "use the name `cubie plugins` lists", name ? name : "",
		               kname);

	/* By file name: the first directory holding <kind>/<name>.so wins. */
	for (size_t i = 0; i < n_dirs; i++) {
		char *path = cb_printf("%s/%s/%s.so", dirs[i], kname, name);
		if (!path)
			return cb_fail(e, CUBIE_ERR_RUNTIME, "out of memory");
		if (access(path, F_OK) == 0) {
			int rc = load_file(kind, name, path, out, e);
			free(path);
			return rc;
		}
		free(path);
	}

	/* By descriptor name or alias: every plugin of the kind is opened. A
	 * plugin whose name an earlier directory already provided is shadowed
	 * and cannot clash; two different plugins claiming name can. */
	struct plugin found = {0};
	char **seen = NULL; /* plugin names met so far, for shadowing */
	size_t n_seen = 0, n_broken = 0, best_d = (size_t)-1;
	char best[64] = "";
	int rc = 0;
	for (size_t i = 0; i < n_dirs && !rc; i++) {
		struct dirent **list;
		int n = scan_kind(dirs[i], kind, &list);
		for (int j = 0; j < n && !rc; j++) {
			char *path = cb_printf("%s/%s/%s", dirs[i], kname, list[j]->d_name);
			struct plugin p;
			cubie_error ignore;
			if (!path || plugin_open(path, &p, &ignore) != 0) {
				n_broken += path != NULL;
				free(path);
				continue;
			}
			free(path);
			const cubie_plugin *d = p.desc;
			if (d->kind != kind || seen_before(&seen, &n_seen, d->name)) {
				plugin_close(&p); /* misplaced, or shadowed */
				continue;
			}
			if (!claims(d, name)) {
				consider(name, d->name, best, &best_d);
				for (const char *const *a = aliases_of(d); a && *a; a++)
					consider(name, *a, best, &best_d);
				plugin_close(&p);
			} else if (found.desc) {
				rc = cb_fail(e, CUBIE_ERR_CONFIG, "duplicate name: %s plugins '%s' "
				             "(%s) and '%s' (%s) both claim the name '%s': remove or "
				             "rename one of them", kname, found.desc->name,
				             found.path, d->name, p.path, name);
				plugin_close(&p);
			} else {
				found = p;
			}
		}
		if (n > 0)
			free_scan(list, n);
	}
	free_seen(seen, n_seen);
	if (rc) {
		plugin_close(&found);
		return rc;
	}
	if (found.desc) {
		*out = found;
		return 0;
	}

	sbuf msg = {0};
	sb_add(&msg, "no %s plugin '%s' (searched: ", kname, name);
	for (size_t i = 0; i < n_dirs; i++)
		sb_add(&msg, "%s%s", i ? ", " : "", dirs[i]);
	sb_add(&msg, "%s)", n_dirs ? "" : "no directories");
	if (best[0])
		sb_add(&msg, ": did you mean '%s'?", best);
	else
		sb_add(&msg, ": `cubie plugins` lists those found");
	if (n_broken)
		sb_add(&msg, " (%zu file%s could not be loaded; `cubie plugins` says why)",
		       n_broken, n_broken == 1 ? "" : "s");
	rc = cb_fail(e, CUBIE_ERR_CONFIG, "%s", msg.s ? msg.s : "no such plugin");
	free(msg.s);
	return rc;
}

/* ---- listing ---- */

char *plugin_list(char *const *dirs, size_t n_dirs)
{
	static const int kinds[] = {CUBIE_PLUGIN_INTEGRATOR, CUBIE_PLUGIN_ALLOCATOR,
	                            CUBIE_PLUGIN_WRITER};
	sbuf b = {0};
	size_t lines = 0;
	for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
		int kind = kinds[k];
		const char *kname = plugin_kind_name(kind);
		char **seen = NULL;
		size_t n_seen = 0;
		for (size_t i = 0; i < n_dirs; i++) {
			struct dirent **list;
			int n = scan_kind(dirs[i], kind, &list);
			for (int j = 0; j < n; j++) {
				char *path = cb_printf("%s/%s/%s", dirs[i], kname, list[j]->d_name);
				if (!path)
					continue;
				struct plugin p;
				cubie_error err;
				lines++;
				if (plugin_open(path, &p, &err) != 0) {
					sb_add(&b, "%-10s  refused: %s\n", kname, err.msg);
					free(path);
					continue;
				}
				const cubie_plugin *d = p.desc;
				int shadowed = d->kind == kind && seen_before(&seen, &n_seen, d->name);
				sbuf al = {0};
				for (const char *const *a = aliases_of(d); a && *a; a++)
					sb_add(&al, "%s%s", al.len ? "," : "aliases: ", *a);
				sb_add(&b, "%-10s  %-19s %-7s %-30s %s  ABI %u.%u", kname, d->name,
				       d->version ? d->version : "-", al.s ? al.s : "", path,
				       (unsigned)d->abi_major, (unsigned)d->abi_minor);
				free(al.s);
				if (d->kind != kind)
					sb_add(&b, "  (misplaced: %s %s plugin)", kind_article(d->kind),
					       plugin_kind_name(d->kind));
				else if (shadowed)
					sb_add(&b, "  (shadowed)");
				sb_add(&b, "\n");
				plugin_close(&p);
				free(path);
			}
			if (n > 0)
				free_scan(list, n);
		}
		free_seen(seen, n_seen);
	}
	if (!lines) {
		sb_add(&b, "no plugins found (searched: ");
		for (size_t i = 0; i < n_dirs; i++)
			sb_add(&b, "%s%s", i ? ", " : "", dirs[i]);
		sb_add(&b, "%s)\n", n_dirs ? "" : "no directories");
	}
	return b.s ? b.s : cb_strdup("");
}
