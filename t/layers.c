/* Layered configuration: schema defaults < the system defaults file
 * ($CUBIE_SYSTEM_DEFAULTS here) < $XDG_CONFIG_HOME/cubie/defaults.ini
 * (~/.config when unset) < the user's file < -s overrides. TAP. */
#include "config.h"
#include "internal.h"
#include "tap.h"

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

static char *dir; /* t/tmp-layers-XXXXXX: home/, xdg/, the files */

/* Paths live to the end of the test, then go (for LeakSanitizer). */
static char *paths[128];
static size_t n_paths;

static void free_paths(void)
{
	while (n_paths)
		free(paths[--n_paths]);
}

static char *path_in(const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);
	sprintf(p, "%s/%s", dir, name);
	if (!n_paths)
		atexit(free_paths);
	if (n_paths < sizeof paths / sizeof paths[0])
		paths[n_paths++] = p;
	return p;
}

static char *put_file(const char *name, const char *text)
{
	char *p = path_in(name);
	FILE *f = fopen(p, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		printf("Bail out! cannot write %s\n", p);
		exit(1);
	}
	return p;
}

/* The line `cubie check` shows for section.key. */
static char *shown(const cubie_config *c, const char *sec, const char *key)
{
	static char line[1024];
	char *all = cubie_config_describe(c), want[256];
	snprintf(want, sizeof want, "[%s] %s = ", sec, key);
	line[0] = 0;
	for (char *p = all; p && *p;) {
		char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (!strncmp(p, want, strlen(want)) && n < sizeof line) {
			memcpy(line, p, n);
			line[n] = 0;
			break;
		}
		p = nl ? nl + 1 : p + n;
	}
	free(all);
	return line;
}

static const char model[] =
	"[model]\n"             /* 1 */
	"states = x\n"          /* 2 */
	"[equations]\n"         /* 3 */
	"dx = -k * x\n"         /* 4 */
	"[constants]\n"         /* 5 */
	"k = 2\n"               /* 6 */
	"[initial]\n"           /* 7 */
	"x = 1\n";              /* 8 */

int main(void)
{
	char tmpl[] = "t/tmp-layers-XXXXXX";
	cubie_config *c;
	cubie_error e;
	char want[1200];
	/* absolute: a relative XDG_CONFIG_HOME is ignored, as the spec says */
	if (!mkdtemp(tmpl) || !(dir = realpath(tmpl, NULL))) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	char *home = path_in("home"), *xdg = path_in("xdg"), *xdg_cubie = path_in("xdg/cubie");
	char *home_cfg = path_in("home/.config"), *home_cubie = path_in("home/.config/cubie");
	mkdir(home, 0755), mkdir(xdg, 0755), mkdir(xdg_cubie, 0755);
	mkdir(home_cfg, 0755), mkdir(home_cubie, 0755);
	char *user = put_file("model.ini", model);
	char *sys = path_in("system.ini");
	setenv("HOME", home, 1);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	setenv("CUBIE_SYSTEM_DEFAULTS", sys, 1);

	/* Neither defaults file exists: only the user's file and the schema. */
	is_int(cubie_config_load(user, &c, &e), 0, "missing defaults files are no error");
	like(shown(c, "solve", "dt"), "[solve] dt = 0.001", "dt from the schema default");
	ok(!strchr(shown(c, "solve", "dt"), ';'), "... shown without a location");
	cubie_config_free(c);

	/* The system file alone. */
	put_file("system.ini", "; system-wide\n[solve]\ndt = 0.5\nduration = 3\n[device]\nbackend = cpu\n");
	is_int(cubie_config_load(user, &c, &e), 0, "system defaults load");
	snprintf(want, sizeof want, "[solve] dt = 0.5    ; %s:3", sys);
	like(shown(c, "solve", "dt"), want, "dt from the system file, with its file:line");
	ok(c && !strcmp(c->path, user), "the configuration's path is the user's file");
	cubie_config_free(c);

	/* The user's defaults file over the system one. */
	char *xdg_file = put_file("xdg/cubie/defaults.ini", "[solve]\ndt = 0.25\n[memory]\nstreams = 3\n");
	is_int(cubie_config_load(user, &c, &e), 0, "system and user defaults load");
	snprintf(want, sizeof want, "[solve] dt = 0.25    ; %s:2", xdg_file);
	like(shown(c, "solve", "dt"), want, "the XDG file overrides the system file");
	snprintf(want, sizeof want, "[solve] duration = 3    ; %s:4", sys);
	like(shown(c, "solve", "duration"), want, "... and keeps what it does not set");
	snprintf(want, sizeof want, "[memory] streams = 3    ; %s:4", xdg_file);
	like(shown(c, "memory", "streams"), want, "... adding its own keys");
	cubie_config_free(c);

	/* The user's file over both, without a duplicate-key error; -s on top. */
	char *user2 = put_file("model2.ini",
	                       "[model]\nstates = x\n[equations]\ndx = -k * x\n[constants]\nk = 2\n"
	                       "[initial]\nx = 1\n[solve]\ndt = 0.01\n[device]\nbackend = cpu\n");
	e.msg[0] = 0;
	is_int(cubie_config_load(user2, &c, &e), 0, "the user's file sets keys the defaults set");
	if (e.msg[0])
		diag("%s", e.msg);
	snprintf(want, sizeof want, "[solve] dt = 0.01    ; %s:10", user2);
	like(shown(c, "solve", "dt"), want, "the user's file overrides the defaults");
	snprintf(want, sizeof want, "[device] backend = cpu    ; %s:12", user2);
	like(shown(c, "device", "backend"), want, "... shown at the user's line");
	is_int(c ? cubie_config_set(c, "solve.dt=1e-4", &e) : -1, 0, "-s on top of the layers");
	like(shown(c, "solve", "dt"), "[solve] dt = 1e-4    ; command line", "-s wins");
	snprintf(want, sizeof want, "[solve] duration = 3    ; %s:4", sys);
	like(shown(c, "solve", "duration"), want, "the system file still shows through");
	ok(c && !strcmp(c->path, user2), "path is still the user's file");
	cubie_config_free(c);

	/* Free-form sections layer key by key. */
	put_file("xdg/cubie/defaults.ini", "[constants]\nk = 5\nunused = 1\n");
	is_int(cubie_config_load(user, &c, &e), 0, "constants in a defaults file");
	const struct cfg_entry *en = c ? cfg_get(c, "constants", "k") : NULL;
	ok(en && !strcmp(en->value, "2") && !strcmp(en->file, user) && en->line == 6,
	   "the user's constant replaces the default one, with its location");
	en = c ? cfg_get(c, "constants", "unused") : NULL;
	ok(en && !strcmp(en->file, xdg_file), "a constant only the defaults set stays");
	cubie_config_free(c);

	/* Continuation lines in the user's file, for a key a defaults file sets. */
	put_file("xdg/cubie/defaults.ini", "[output]\nsave = x\n");
	char *user3 = put_file("model3.ini",
	                       "[model]\nstates = x, y\n[equations]\ndx = y\ndy = -x\n[initial]\n"
	                       "x = 1\ny = 0\n[output]\nsave = y,\n    x\n");
	is_int(cubie_config_load(user3, &c, &e), 0, "a continued value over a default");
	en = c ? cfg_get(c, "output", "save") : NULL;
	ok(en && !strcmp(en->value, "y, x"), "... joined, and the user's");
	if (en)
		diag("save = '%s'", en->value);
	cubie_config_free(c);

	/* Errors in a defaults file name that file and line. */
	put_file("xdg/cubie/defaults.ini", "[solve]\ndt = 0.1\n\ndt = 0.2\n");
	is_int(cubie_config_load(user, &c, &e), CUBIE_ERR_CONFIG, "a duplicate within a defaults file");
	snprintf(want, sizeof want, "%s:4: duplicate key 'dt' in [solve] (first set at %s:2)",
	         xdg_file, xdg_file);
	like(e.msg, want, "... is an error naming its lines");
	ok(c == NULL, "... and gives no configuration");

	put_file("xdg/cubie/defaults.ini", "[solve]\nbogus = 1\n");
	is_int(cubie_config_load(user, &c, &e), CUBIE_ERR_CONFIG, "an unknown key in a defaults file");
	snprintf(want, sizeof want, "%s:2: unknown key 'bogus' in [solve]", xdg_file);
	like(e.msg, want, "... names the file and line");

	put_file("xdg/cubie/defaults.ini", "[solve]\n");
	put_file("system.ini", "[device]\nbackend = gpu\n");
	is_int(cubie_config_load(user, &c, &e), CUBIE_ERR_CONFIG, "a bad value in the system file");
	snprintf(want, sizeof want, "%s:2: [device] backend = 'gpu'", sys);
	like(e.msg, want, "... names the file and line");

	put_file("system.ini", "[nosuch]\nkey = 1\n");
	is_int(cubie_config_load(user, &c, &e), CUBIE_ERR_CONFIG, "an unknown section in the system file");
	snprintf(want, sizeof want, "%s:2: unknown section [nosuch]", sys); /* at its key */
	like(e.msg, want, "... names the file and line");

	/* CUBIE_SYSTEM_DEFAULTS set and empty: no system file at all. */
	setenv("CUBIE_SYSTEM_DEFAULTS", "", 1);
	is_int(cubie_config_load(user, &c, &e), 0, "CUBIE_SYSTEM_DEFAULTS empty: no system file");
	cubie_config_free(c);
	setenv("CUBIE_SYSTEM_DEFAULTS", sys, 1);
	remove(sys);

	/* XDG_CONFIG_HOME unset, empty or relative: ~/.config. */
	char *home_file = put_file("home/.config/cubie/defaults.ini", "[solve]\nt0 = 7\n");
	snprintf(want, sizeof want, "[solve] t0 = 7    ; %s:2", home_file);
	unsetenv("XDG_CONFIG_HOME");
	is_int(cubie_config_load(user, &c, &e), 0, "XDG_CONFIG_HOME unset");
	like(shown(c, "solve", "t0"), want, "... reads ~/.config/cubie/defaults.ini");
	cubie_config_free(c);
	setenv("XDG_CONFIG_HOME", "", 1);
	is_int(cubie_config_load(user, &c, &e), 0, "XDG_CONFIG_HOME empty");
	like(shown(c, "solve", "t0"), want, "... reads ~/.config/cubie/defaults.ini");
	cubie_config_free(c);
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);
	is_int(cubie_config_load(user, &c, &e), 0, "XDG_CONFIG_HOME relative");
	like(shown(c, "solve", "t0"), want, "... is ignored, as the XDG spec says");
	cubie_config_free(c);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	is_int(cubie_config_load(user, &c, &e), 0, "XDG_CONFIG_HOME set");
	like(shown(c, "solve", "t0"), "[solve] t0 = 0", "... replaces ~/.config");
	cubie_config_free(c);

	/* The user's file must exist; defaults files need not. */
	char *missing = path_in("nosuch.ini");
	is_int(cubie_config_load(missing, &c, &e), CUBIE_ERR_CONFIG, "a missing user file is an error");
	like(e.msg, missing, "... naming it");

	remove(home_file), remove(xdg_file), remove(user), remove(user2), remove(user3);
	rmdir(home_cubie), rmdir(home_cfg), rmdir(home), rmdir(xdg_cubie), rmdir(xdg), rmdir(dir);
	free(dir);
	done_testing();
	return tap_exit();
}
