/* The plugin registry: search order, name and alias resolution, and every
 * refusal, against a throw-away tree of symlinks to the fixture plugins
 * (t/fixtures) and to the real ones (plugin-dir). */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE /* tap.h uses mkstemps */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "tap.h"

static char root[1024]; /* the temporary tree */
static const char *builddir;

/* <root>/<rel>, in one of a few rotating buffers. */
static const char *at(const char *rel)
{
	static char buf[8][PATH_MAX];
	static int i;
	char *b = buf[i++ % 8];
	snprintf(b, PATH_MAX, "%s/%s", root, rel);
	return b;
}

/* <root>/<rel>, kept: for the directory lists, which outlive at()'s buffers. */
static char *kept[16];
static size_t n_kept;
static const char *keep(const char *rel)
{
	return kept[n_kept++] = cb_strdup(at(rel));
}

static void mkdirs(const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s", at(rel));
	for (char *s = p + strlen(root) + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			mkdir(p, 0777);
			*s = '/';
		}
	mkdir(p, 0777);
}

/* <root>/<rel> -> <builddir>/<target> */
static void link_build(const char *target, const char *rel)
{
	char t[PATH_MAX];
	snprintf(t, sizeof t, "%s/%s", builddir, target);
	if (access(t, R_OK) != 0)
		diag("missing %s: run make first", t);
	if (symlink(t, at(rel)) != 0)
		diag("symlink %s: %s", at(rel), strerror(errno));
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static int load(int kind, const char *name, const char **dirs, size_t n,
                struct plugin *p, cubie_error *e)
{
	e->code = 0;
	e->msg[0] = 0;
	return plugin_load(kind, name, (char *const *)dirs, n, p, e);
}

/* A refusal: CUBIE_ERR_CONFIG naming the file, with the actionable words. */
static void refused(const char *what, int kind, const char *name, const char **dirs,
                    size_t n, const char *path, const char *words)
{
	struct plugin p;
	cubie_error e;
	int rc = load(kind, name, dirs, n, &p, &e);
	is_int(rc, CUBIE_ERR_CONFIG, "%s: refused", what);
	is_int(e.code, CUBIE_ERR_CONFIG, "%s: error code", what);
	if (path)
		like(e.msg, path, "%s: message names the file", what);
	like(e.msg, words, "%s: message says '%s'", what, words);
	if (rc == 0)
		plugin_close(&p);
}

static void loads(const char *what, int kind, const char *name, const char **dirs,
                  size_t n, const char *want_name, const char *want_path)
{
	struct plugin p;
	cubie_error e;
	int rc = load(kind, name, dirs, n, &p, &e);
	if (!is_int(rc, 0, "%s: loads", what))
		diag("%s", e.msg);
	if (rc != 0) {
		skip("not loaded");
		skip("not loaded");
		return;
	}
	ok(p.desc && strcmp(p.desc->name, want_name) == 0, "%s: is '%s'", what, want_name);
	ok(p.path && strcmp(p.path, want_path) == 0, "%s: from %s", what, want_path);
	if (p.path && strcmp(p.path, want_path) != 0)
		diag("got %s", p.path);
	plugin_close(&p);
}

static void test_dirs(void)
{
	size_t n;
	char **d;

	setenv("CUBIE_PLUGIN_PATH", "/p/one::/p/two:/p/one", 1);
	d = plugin_dirs(NULL, &n);
	ok(n >= 3 && !strcmp(d[0], "/p/one") && !strcmp(d[1], "/p/two"),
	   "dirs: CUBIE_PLUGIN_PATH in order, empty entries and repeats dropped");
	size_t len = n ? strlen(d[n - 1]) : 0;
	ok(n >= 3 && len > 6 && !strcmp(d[n - 1] + len - 6, "/cubie"),
	   "dirs: installed directory ($(pkglibdir)) last");
	cfg_free_names(d, n);

	struct cfg_entry en = {(char *)"plugins", (char *)"path", (char *)"mine, /abs/theirs",
	                       (char *)"/cfg/model.ini", 7};
	struct cubie_config c = {(char *)"/cfg/model.ini", (char *)"/cfg", &en, 1, 1};
	d = plugin_dirs(&c, &n);
	ok(n >= 5 && !strcmp(d[0], "/cfg/mine") && !strcmp(d[1], "/abs/theirs") &&
	   !strcmp(d[2], "/p/one") && !strcmp(d[3], "/p/two"),
	   "dirs: [plugins] path (relative to the file) before CUBIE_PLUGIN_PATH");
	for (size_t i = 0; i < n; i++)
		diag("dir %zu: %s", i, d[i]);
	cfg_free_names(d, n);

	/* One directory spelled two ways is searched once. */
	char twice[2 * PATH_MAX + 8];
	snprintf(twice, sizeof twice, "%s:%s/./real/../real", at("real"), root);
	setenv("CUBIE_PLUGIN_PATH", twice, 1);
	d = plugin_dirs(NULL, &n);
	ok(n >= 2 && !strcmp(d[0], at("real")) && !strstr(d[1], "/real/../real"),
	   "dirs: a directory named twice is listed once");
	cfg_free_names(d, n);
}

int main(void)
{
	builddir = getenv("CUBIE_BUILDDIR");
	if (!builddir)
		builddir = ".";
	snprintf(root, sizeof root, "%s/t/tmp-registry-XXXXXX", builddir);
	if (!mkdtemp(root)) {
		printf("Bail out! cannot create %s: %s\n", root, strerror(errno));
		return 1;
	}

	static const char *const fixtures[] = {"abi_major", "abi_minor", "wrong_kind",
	                                       "no_entry", "dup_one", "dup_two"};
	char src[PATH_MAX], dst[PATH_MAX];
	mkdirs("bad/integrator");
	for (size_t i = 0; i < sizeof fixtures / sizeof *fixtures; i++) {
		snprintf(src, sizeof src, "t/fixtures/.libs/%s.so", fixtures[i]);
		snprintf(dst, sizeof dst, "bad/integrator/%s.so", fixtures[i]);
		link_build(src, dst);
	}
	FILE *f = fopen(at("bad/integrator/notso.so"), "w");
	if (f) {
		fputs("this is text, not ELF\n", f);
		fclose(f);
	}
	mkdirs("real/integrator");
	mkdirs("real/allocator");
	mkdirs("real/writer");
	link_build("plugin-dir/integrator/euler.so", "real/integrator/euler.so");
	link_build("plugin-dir/integrator/rk4.so", "real/integrator/rk4.so");
	link_build("plugin-dir/allocator/default.so", "real/allocator/default.so");
	link_build("plugin-dir/writer/npydir.so", "real/writer/npydir.so");
	link_build("plugin-dir/writer/csv.so", "real/writer/csv.so");
	mkdirs("shadow/integrator");
	link_build("plugin-dir/integrator/rk4.so", "shadow/integrator/rk4.so");
	mkdirs("misnamed/integrator");
	link_build("plugin-dir/integrator/rk4.so", "misnamed/integrator/euler.so");

	const int I = CUBIE_PLUGIN_INTEGRATOR;
	const char *bad[] = {keep("bad")};
	const char *bad_real[] = {keep("bad"), keep("real")};
	const char *real[] = {keep("real")};
	const char *shadow_real[] = {keep("shadow"), keep("real")};
	const char *real_shadow[] = {keep("real"), keep("shadow")};
	const char *misnamed[] = {keep("misnamed")};

	/* plugin_open on its own: any kind, the descriptor as exported. */
	struct plugin p;
	cubie_error e;
	if (is_int(plugin_open(at("real/integrator/rk4.so"), &p, &e), 0, "open rk4")) {
		const cubie_integrator_ops *o = p.desc->ops;
		ok(p.desc->kind == I && !strcmp(p.desc->name, "rk4") && o->order == 4 &&
		   o->stages == 4 && o->error_order == 0 && o->aliases &&
		   !strcmp(o->aliases[0], "classical_rk4") && !o->aliases[1] &&
		   strstr(o->source, "cubie/device/erk.h"),
		   "rk4: descriptor and tableau source");
		plugin_close(&p);
	} else {
		diag("%s", e.msg);
		skip("rk4 not opened");
	}
	if (is_int(plugin_open(at("real/integrator/euler.so"), &p, &e), 0, "open euler")) {
		const cubie_integrator_ops *o = p.desc->ops;
		ok(!strcmp(p.desc->name, "euler") && o->order == 1 && o->stages == 1 &&
		   p.desc->abi_major == CUBIE_ABI_MAJOR && p.desc->version,
		   "euler: descriptor");
		plugin_close(&p);
	} else {
		skip("euler not opened");
	}
	if (is_int(plugin_open(at("bad/integrator/wrong_kind.so"), &p, &e), 0,
	           "open a plugin of any kind"))
		plugin_close(&p);

	/* Refusals. */
	refused("ABI major", I, "abi_major", bad, 1, at("bad/integrator/abi_major.so"),
	        "rebuild the plugin against cubie");
	refused("ABI major", I, "abi_major", bad, 1, NULL, "ABI 2.x, this cubie has 1.3");
	refused("ABI minor", I, "abi_minor", bad, 1, at("bad/integrator/abi_minor.so"),
	        "upgrade cubie");
	refused("ABI minor", I, "abi_minor", bad, 1, NULL, "ABI 1.4, newer");
	refused("wrong kind", I, "wrong_kind", bad, 1, at("bad/integrator/wrong_kind.so"),
	        "is an allocator plugin, found where an integrator plugin was expected");
	refused("missing entry", I, "no_entry", bad, 1, at("bad/integrator/no_entry.so"),
	        "does not export cubie_plugin_describe: not a cubie plugin");
	refused("not a shared object", I, "notso", bad, 1, at("bad/integrator/notso.so"),
	        "not a loadable shared object");
	refused("duplicate alias", I, "twin", bad, 1, at("bad/integrator/dup_one.so"),
	        "duplicate name");
	refused("duplicate alias", I, "twin", bad, 1, at("bad/integrator/dup_two.so"),
	        "'twin'");
	refused("not found", I, "nosuch", bad_real, 2, at("bad"), "no integrator plugin 'nosuch'");
	refused("not found", I, "nosuch", bad_real, 2, at("real"), "searched: ");
	refused("did you mean", I, "rk5", real, 1, NULL, "did you mean 'rk4'?");
	refused("file name differs", I, "euler", misnamed, 1, at("misnamed/integrator/euler.so"),
	        "calls itself 'rk4'");
	refused("no directories", I, "rk4", NULL, 0, NULL, "no integrator plugin 'rk4'");
	refused("not a name", I, "../rk4", real, 1, NULL, "not a valid integrator plugin name");
	refused("kind searched", CUBIE_PLUGIN_ALLOCATOR, "euler", real, 1, NULL,
	        "no allocator plugin 'euler'");

	/* The real plugins, by name and alias; broken neighbours do not matter. */
	loads("euler", I, "euler", bad_real, 2, "euler", at("real/integrator/euler.so"));
	loads("rk4", I, "rk4", bad_real, 2, "rk4", at("real/integrator/rk4.so"));
	loads("alias classical_rk4", I, "classical_rk4", bad_real, 2, "rk4",
	      at("real/integrator/rk4.so"));
	loads("fixture by file name despite its twin", I, "dup_one", bad, 1, "dup_one",
	      at("bad/integrator/dup_one.so"));
	loads("allocator default", CUBIE_PLUGIN_ALLOCATOR, "default", real, 1, "default",
	      at("real/allocator/default.so"));
	loads("writer npydir", CUBIE_PLUGIN_WRITER, "npydir", real, 1, "npydir", at("real/writer/npydir.so"));
	loads("writer csv", CUBIE_PLUGIN_WRITER, "csv", real, 1, "csv", at("real/writer/csv.so"));

	/* Search order: an earlier directory shadows a later one. */
	loads("shadowing", I, "rk4", shadow_real, 2, "rk4", at("shadow/integrator/rk4.so"));
	loads("shadowing, reversed", I, "rk4", real_shadow, 2, "rk4",
	      at("real/integrator/rk4.so"));
	loads("an alias of a shadowed plugin is no clash", I, "classical_rk4", shadow_real, 2,
	      "rk4", at("shadow/integrator/rk4.so"));

	/* The listing: everything, loadable or not, never aborting. */
	const char *all[] = {shadow_real[0], bad_real[0], bad_real[1]};
	char *list = plugin_list((char *const *)all, 3);
	like(list, at("real/integrator/euler.so"), "list: euler with its path");
	like(list, "classical_rk4", "list: rk4's alias");
	like(list, "(shadowed)", "list: the shadowed rk4 is marked");
	like(list, "ABI 1.3", "list: ABI version");
	like(list, at("real/allocator/default.so"), "list: allocator");
	like(list, at("real/writer/npydir.so"), "list: npydir writer");
	like(list, at("real/writer/csv.so"), "list: csv writer");
	like(list, "dup_one", "list: dup_one");
	like(list, "dup_two", "list: dup_two");
	like(list, "refused: ", "list: refusals are listed");
	like(list, at("bad/integrator/notso.so"), "list: the text file, refused");
	like(list, at("bad/integrator/abi_major.so"), "list: abi_major, refused");
	like(list, "misplaced: an allocator plugin", "list: the misplaced allocator");
	size_t shadow_lines = 0;
	for (const char *s = list; s && (s = strstr(s, "(shadowed)")); s++)
		shadow_lines++;
	is_int(shadow_lines, 1, "list: only the second rk4 is shadowed");
	if (tap_failed)
		diag("list:\n%s", list);
	free(list);
	const char *none[] = {keep("nowhere")};
	list = plugin_list((char *const *)none, 1);
	like(list, "no plugins found", "list: an empty search path says so");
	free(list);

	test_dirs();

	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	ok(access(root, F_OK) != 0, "temporary tree removed");
	while (n_kept)
		free(kept[--n_kept]);
	done_testing();
	return tap_exit();
}
