/* Configuration: parsing, locations in messages, overrides, values. */
#include "config.h"
#include "internal.h"
#include "tap.h"

static const char *base =
	"[model]\n"                 /* 1 */
	"states = x, y\n"           /* 2 */
	"parameters = k\n"          /* 3 */
	"[equations]\n"             /* 4 */
	"dx = -k * x\n"             /* 5 */
	"dy = x\n"                  /* 6 */
	"[solve]\n"                 /* 7 */
	"dt = 0.01 ; a comment\n";  /* 8 */

/* Load base + extra; return the error message, or NULL on success. */
static char msg[1100];
static const char *load_err(const char *extra, cubie_config **out)
{
	char *text = malloc(strlen(base) + strlen(extra) + 1);
	strcpy(text, base);
	strcat(text, extra);
	char *path = write_tmp("config", text);
	cubie_config *c = NULL;
	cubie_error e = {0};
	int rc = cubie_config_load(path, &c, &e);
	snprintf(msg, sizeof msg, "%s", e.msg);
	unlink(path);
	free(path);
	free(text);
	if (out)
		*out = c;
	else
		cubie_config_free(c);
	return rc ? msg : NULL;
}

int main(void)
{
	cubie_config *c;
	cubie_error e = {0};
	ok(load_err("", &c) == NULL, "a valid file loads");
	like(cfg_str(c, "solve", "dt"), "0.01", "inline comment stripped from a value");
	ok(!strcmp(cfg_str(c, "solve", "integrator"), "rk4"), "default comes from the schema");
	ok(cfg_get(c, "solve", "dt")->line == 8, "values know their line");
	double d;
	ok(cfg_num(c, "solve", "dt", &d, &e) == 0 && d == 0.01, "number read");
	ok(cfg_num(c, "solve", "duration", &d, &e) == 0 && d == 1, "number defaulted");
	ok(cubie_config_set(c, "solve.dt=1e-4", &e) == 0 && cfg_num(c, "solve", "dt", &d, &e) == 0 &&
	       d == 1e-4, "-s overrides a key");
	ok(!strcmp(cfg_get(c, "solve", "dt")->file, "command line"), "override remembers its origin");
	ok(cubie_config_set(c, "solve.duration=8/4", &e) == 0 &&
	       cfg_num(c, "solve", "duration", &d, &e) == 0 && d == 2, "numeric values may be expressions");
	ok(cubie_config_set(c, "solve.dtt=1", &e) == CUBIE_ERR_CONFIG, "-s with an unknown key fails");
	like(e.msg, "command line: unknown key 'dtt' in [solve]", "... and names the key");
	ok(cubie_config_set(c, "solvedt=1", &e) == CUBIE_ERR_CONFIG, "-s without a section fails");
	like(e.msg, "SECTION.KEY=VALUE", "... with the expected form");
	ok(cubie_config_set(c, "solve.precision=float16", &e) == CUBIE_ERR_CONFIG, "bad choice refused");
	like(e.msg, "float32|float64", "... listing the choices");
	char *desc = cubie_config_describe(c);
	like(desc, "[solve] dt = 1e-4    ; command line", "describe shows where a value came from");
	like(desc, "[solve] integrator = rk4\n", "describe shows defaults");
	free(desc);
	cubie_config_free(c);

	like(load_err("foo = 1\n", NULL), ":9: unknown key 'foo' in [solve]", "unknown key: file:line");
	like(load_err("[solver]\ndt = 1\n", NULL), ":10: unknown section [solver]", "unknown section");
	like(load_err("dt = 0.1\n", NULL), ":9: duplicate key 'dt' in [solve] (first set at ",
	     "duplicate key, with the first location");
	like(load_err("t0 = abc\n", NULL), ":9: [solve] t0 = 'abc': ", "malformed number");
	like(load_err("[device]\ngpu = 1.5\n", NULL), ":10: [device] gpu = '1.5': expected an integer",
	     "malformed integer");
	like(load_err("[device]\nblock_size = lots\n", NULL), "expected an integer or auto",
	     "auto-or-integer");
	like(load_err("[output]\nsave = x, 2y\n", NULL), ":10: [output] save = 'x, 2y': '2y' is not a name",
	     "malformed name list");
	like(load_err("[output]\nsave = x, x\n", NULL), "'x' is listed twice", "repeated name");
	like(load_err("this is not ini\n", NULL), ":9: expected 'key = value' or '[section]'",
	     "syntax error names the line");
	like(load_err("[model]\nstates = z\n", NULL), ":10: duplicate key 'states' in [model] (first set at ",
	     "a key repeated in a reopened section is a duplicate");

	/* a file without [model] states */
	char *p = write_tmp("nostates", "[solve]\ndt = 1\n");
	ok(cubie_config_load(p, &c, &e) == CUBIE_ERR_CONFIG, "missing [model] states refused");
	like(e.msg, "[model] states is required", "... saying so");
	unlink(p);
	free(p);
	ok(cubie_config_load("t/does-not-exist.ini", &c, &e) == CUBIE_ERR_CONFIG &&
	       strstr(e.msg, "does-not-exist.ini: No such file"), "missing file");

	/* continuation lines and value lists */
	ok(load_err("[parameters]\nk = 1,\n    2, 3\n", &c) == NULL, "continuation line accepted");
	double *v;
	size_t n;
	const struct cfg_entry *en = cfg_get(c, "parameters", "k");
	ok(cfg_values(en, &v, &n, &e) == 0 && n == 3 && v[2] == 3, "continued list has 3 values");
	free(v);
	cubie_config_free(c);

	struct cfg_entry fake = {"parameters", "k", "linspace(0, 21, 8)", "f.ini", 3};
	ok(cfg_values(&fake, &v, &n, &e) == 0 && n == 8 && v[0] == 0 && v[7] == 21 && v[1] == 3,
	   "linspace: ends exact, even spacing");
	free(v);
	fake.value = "logspace(-2, 1, 4)";
	ok(cfg_values(&fake, &v, &n, &e) == 0 && n == 4 && fabs(v[0] - 0.01) < 1e-15 && v[3] == 10,
	   "logspace is 10^a .. 10^b");
	free(v);
	fake.value = "8/3";
	ok(cfg_values(&fake, &v, &n, &e) == 0 && n == 1 && v[0] == 8.0 / 3.0, "8/3 is real division");
	free(v);
	fake.value = "linspace(0, 1)";
	ok(cfg_values(&fake, &v, &n, &e) == CUBIE_ERR_CONFIG, "linspace with 2 arguments refused");
	like(e.msg, "f.ini:3: [parameters] k = 'linspace(0, 1)': expected 3 arguments", "... with location");
	fake.value = "linspace(0, 1, 2.5)";
	ok(cfg_values(&fake, &v, &n, &e) == CUBIE_ERR_CONFIG && strstr(e.msg, "whole number"),
	   "fractional count refused");
	fake.value = "1, , 3";
	ok(cfg_values(&fake, &v, &n, &e) == CUBIE_ERR_CONFIG && strstr(e.msg, "item 2"),
	   "empty list item refused, naming it");
	done_testing();
	return tap_exit();
}
