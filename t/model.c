/* The model: the expression grammar, checks and their messages, and the
 * generated source, compiled with the host compiler in both precisions and
 * compared with the same formulas evaluated here. */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "tap.h"

static char dir[PATH_MAX], inc[PATH_MAX + 16];

static double ev(const char *s)
{
	char err[256];
	double v;
	if (expr_eval_const(s, &v, err, sizeof err))
		return diag("%s: %s", s, err), NAN;
	return v;
}

static const char *ev_err(const char *s)
{
	static char err[256];
	double v;
	strcpy(err, "(no error)");
	expr_eval_const(s, &v, err, sizeof err);
	return err;
}

static void put_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		diag("cannot write %s", name), exit(99);
}

/* Builds the model of INI text written to m.ini; NULL with e filled on error. */
static struct model *build(const char *ini, cubie_error *e)
{
	cubie_config *c;
	struct model *m = NULL;
	put_file("m.ini", ini);
	e->msg[0] = 0;
	if (!cubie_config_load("m.ini", &c, e)) {
		model_build(c, &m, e);
		cubie_config_free(c);
	}
	return m;
}

/* The message of the model's error, or "(built)". */
static const char *fails(const char *ini)
{
	static cubie_error e;
	struct model *m = build(ini, &e);
	if (m)
		strcpy(e.msg, "(built)");
	model_free(m);
	return e.msg;
}

/* Compiles src with a driver in one precision and runs it at (t, y, p):
 * out gets dydt then the saved values. Returns how many numbers came back. */
static int run(const char *src, int prec, double t, const double *y, const double *p,
               double *out, int max)
{
	char cmd[3 * PATH_MAX], buf[4096];
	int n = 0, len = 0;
	len += snprintf(buf + len, sizeof buf - len,
	                "#define CUBIE_PRECISION %d\n#include <cubie/device/prelude.h>\n"
	                "#include \"model.h\"\n#include <stdio.h>\nint main(void)\n{\n"
	                "\tcubie_real y[] = {", prec);
	for (int i = 0; y[i] == y[i]; i++) /* NaN-terminated */
		len += snprintf(buf + len, sizeof buf - len, "%.17g, ", y[i]);
	len += snprintf(buf + len, sizeof buf - len, "0};\n\tcubie_real p[] = {");
	for (int i = 0; p[i] == p[i]; i++)
		len += snprintf(buf + len, sizeof buf - len, "%.17g, ", p[i]);
	snprintf(buf + len, sizeof buf - len,
	         "0};\n\tcubie_real d[CUBIE_NSTATES], v[CUBIE_NSAVED + 1];\n"
	         "\tcubie_rhs(%.17g, y, p, d);\n\tcubie_saved(%.17g, y, p, v);\n"
	         "\tfor (int i = 0; i < CUBIE_NSTATES; i++)\n\t\tprintf(\"%%.17g\\n\", (double)d[i]);\n"
	         "\tfor (int i = 0; i < CUBIE_NSAVED; i++)\n\t\tprintf(\"%%.17g\\n\", (double)v[i]);\n"
	         "\treturn 0;\n}\n", t, t);
	put_file("model.h", src);
	put_file("drv.c", buf);
	snprintf(cmd, sizeof cmd, "%s -std=c99 -pedantic -Wall -Wextra -Werror -Wdouble-promotion "
	         "-Wshadow %s -o drv drv.c -lm >cc.log 2>&1", CUBIE_CC, inc);
	if (system(cmd) != 0) {
		FILE *log = fopen("cc.log", "r");
		diag("failed: %s", cmd);
		for (int i = 0; log && i < 8 && fgets(buf, sizeof buf, log); i++)
			diag("%.200s", strtok(buf, "\n"));
		if (log)
			fclose(log);
		return -1;
	}
	FILE *f = popen("./drv", "r");
	while (f && n < max && fscanf(f, "%lf", &out[n]) == 1)
		n++;
	if (!f || pclose(f) != 0)
		return -1;
	return n;
}

static void grammar(void)
{
	is_near(ev("8/3"), 8.0 / 3.0, 0, "8/3 is real division");
	is_near(ev("-2^2"), -4, 0, "-2^2 = -(2^2)");
	is_near(ev("2^3^2"), 512, 0, "^ is right-associative");
	is_near(ev("2**3**2"), 512, 0, "** is ^");
	is_near(ev("2^-1"), 0.5, 0, "a signed exponent");
	is_near(ev("1+2*3"), 7, 0, "* before +");
	is_near(ev("(1+2)*3"), 9, 0, "parentheses");
	is_near(ev("10-4-3 + 2/4/2"), 3.25, 0, "- and / are left-associative");
	is_near(ev("-(3) + +2 - -1"), 0, 0, "unary minus and plus");
	is_near(ev("(1 < 2) + (2 <= 1)*10 + (3 >= 3)*100 + (1 > 2)*1000"), 101, 0, "comparisons");
	is_near(ev("(1 == 1) + (1 != 1)*10"), 1, 0, "== and !=");
	is_near(ev("!0 && 1 || 0"), 1, 0, "&& || !");
	is_near(ev("0 && 1 || 0"), 0, 0, "&& before ||");
	is_near(ev("1 < 2 ? 10 : 20"), 10, 0, "ternary");
	is_near(ev("0 ? 1 : 0 ? 2 : 3"), 3, 0, "ternary nests to the right");
	is_near(ev("1 + 1 < 3 && 2 > 1 ? 4 : 5"), 4, 0, "ternary binds loosest");
	is_near(ev("atan2(1, 1) * 4"), 4 * atan(1.0), 1e-15, "atan2");
	is_near(ev("min(3, max(1, 2)) + abs(-3) + floor(1.5) + ceil(1.5)"), 8, 0, "min max abs floor ceil");
	is_near(ev("pow(2, 10) + sqrt(16) + log10(1000) + exp(log(2))"), 1033, 1e-15, "pow sqrt log10 exp log");
	is_near(ev("1.5e3 + .5 + 2.E-1 + 1e+1"), 1510.7, 1e-15, "number forms");

	like(ev_err("(1 + 2))"), "unexpected ')'", "stray ')'");
	like(ev_err("1 +"), "unexpected end of expression", "missing operand");
	like(ev_err("(1"), "missing ')'", "unclosed '('");
	like(ev_err("1 2"), "unexpected '2' at column 3", "two numbers");
	like(ev_err("1 $ 2"), "unexpected '$'", "stray character");
	like(ev_err("1 = 2"), "unexpected '='", "single =");
	like(ev_err(" "), "empty expression", "empty");
	like(ev_err("1.2.3"), "malformed number '1.2.3'", "malformed number");
	like(ev_err("1e999"), "out of range", "overflowing number");
	like(ev_err("foo(1)"), "unknown function 'foo'", "unknown function");
	like(ev_err("sqr(2)"), "unknown function 'sqr' (did you mean 'sqrt'?)", "function hint");
	like(ev_err("atan2(1)"), "atan2 takes 2 arguments", "too few arguments");
	like(ev_err("sqrt(1, 2)"), "sqrt takes 1 argument", "too many arguments");
	like(ev_err("sqrt()"), "sqrt takes 1 argument", "no arguments");
	like(ev_err("min(1,)"), "unexpected ')'", "empty argument");
	like(ev_err("x + 1"), "unknown name 'x'", "no names in a constant setting");
	like(ev_err("1/0"), "not finite", "non-finite constant setting");
	char deep[2100];
	memset(deep, '(', 1000), deep[1000] = '1', memset(deep + 1001, ')', 1000), deep[2001] = 0;
	like(ev_err(deep), "nested too deeply", "deep nesting is refused, not a crash");
}

#define LORENZ_HEAD \
	"[model]\nname = lorenz\nstates = x, y, z\nparameters = rho\nobservables = r\n" \
	"[constants]\nsigma = 10\nbeta = 8/3\n"
static const char lorenz[] = LORENZ_HEAD
	"[equations]\ndx = sigma * (y - x)\ndy = x * (rho - z) - y\ndz = x * y - beta * z\n"
	"r = sqrt(x^2 + y^2 + z^2)\n";

static void checks(void)
{
	like(fails(LORENZ_HEAD "[equations]\ndx = sigmaa * (y - x)\ndy = 0\ndz = 0\nr = 1\n"),
	     "m.ini:10: unknown name 'sigmaa' in dx (did you mean 'sigma'?)", "unknown name, with hint");
	const char *msg = fails(LORENZ_HEAD "[equations]\ndx = 0\ndy = 0\ndz = 0\nr = quux\n");
	like(msg, "m.ini:13: unknown name 'quux' in r", "unknown name");
	ok(!strstr(msg, "did you mean"), "no hint when nothing is close");
	like(fails(LORENZ_HEAD "[equations]\ndx = 0\ndy = 0\nr = 1\n"),
	     "m.ini:3: state 'z' has no equation (dz in [equations])", "state without equation");
	like(fails(LORENZ_HEAD "[equations]\ndx = 0\ndy = 0\ndz = 0\n"),
	     "m.ini:5: observable 'r' has no equation", "observable without equation");
	like(fails(LORENZ_HEAD "[equations]\ndx = a\ndy = 0\ndz = 0\nr = 1\na = b + 1\nb = 2 * a\n"),
	     "m.ini:14: cycle among auxiliaries: a -> b -> a", "cycle among auxiliaries");
	like(fails(LORENZ_HEAD "[equations]\ndx = 0\ndy = 0\ndz = 0\nr = r + 1\n"),
	     "m.ini:13: cycle among auxiliaries: r -> r", "an auxiliary that uses itself");
	like(fails(LORENZ_HEAD "c1 = c2\nc2 = 2 * c1\n[equations]\ndx = 0\ndy = 0\ndz = 0\nr = 1\n"),
	     "m.ini:9: cycle among constants: c1 -> c2 -> c1", "cycle among constants");
	like(fails(LORENZ_HEAD "c = 2 * x\n[equations]\ndx = 0\ndy = 0\ndz = 0\nr = 1\n"),
	     "m.ini:9: constant c uses state 'x'", "a constant may not use a state");
	like(fails(LORENZ_HEAD "c = 1 / 0\n[equations]\ndx = 0\ndy = 0\ndz = 0\nr = 1\n"),
	     "m.ini:9: constant c is not finite", "a constant must be finite");
	like(fails(LORENZ_HEAD "[equations]\ndx = (y - x))\ndy = 0\ndz = 0\nr = 1\n"),
	     "m.ini:10: syntax error in dx: unexpected ')'", "syntax error");
	like(fails(LORENZ_HEAD "[equations]\ndx = 0\ndy = 0\ndz = 0\nr = foo(x)\n"),
	     "m.ini:13: syntax error in r: unknown function 'foo'", "unknown function in an equation");
	like(fails(LORENZ_HEAD "[equations]\ndx = 0\ndy = 0\ndz = 0\nr = atan2(x)\n"),
	     "atan2 takes 2 arguments", "arity in an equation");
	like(fails("[model]\nstates = x\nparameters = x\n[equations]\ndx = 0\n"),
	     "m.ini:3: 'x' is already a state", "a parameter named like a state");
	like(fails("[model]\nstates = x\n[constants]\nx = 1\n[equations]\ndx = 0\n"),
	     "m.ini:4: 'x' is already a state", "a constant named like a state");
	like(fails("[model]\nstates = x\nparameters = k\n[constants]\nk = 1\n[equations]\ndx = 0\n"),
	     "m.ini:5: 'k' is already a parameter", "a constant named like a parameter");
	like(fails("[model]\nstates = x\n[equations]\ndx = 0\nx = 1\n"),
	     "m.ini:5: 'x' is a state: its equation is 'dx'", "an equation named like a state");
	like(fails("[model]\nstates = t\n[equations]\ndt = 0\n"),
	     "m.ini:2: 't' is reserved for time", "t is time");
	like(fails("[model]\nstates = x\nobservables = x\n[equations]\ndx = 0\n"),
	     "m.ini:3: observable 'x' is a state", "an observable that is a state");
	like(fails("[model]\nstates = x\n[equations]\ndx = 0\nunused = 1 + nothing\n"),
	     "unknown name 'nothing' in unused", "unused auxiliaries are checked too");
	like(fails("[model]\nstates = x\n[equations]\ndx = 0\nunused = x\n"), "(built)",
	     "an unused auxiliary is fine");
}

/* Names that are C keywords or the generated code's own identifiers,
 * auxiliaries before their dependencies, every function and operator. */
static const char kw[] =
	"[model]\nname = kw\nstates = int, y, v\nparameters = return, p\nobservables = dydt, t_\n"
	"[constants]\nk = double * 2\ndouble = 8/3\n"
	"[equations]\n"
	"t_ = dydt + double + t\n"
	"dydt = int * y\n"
	"dint = -int^2 + p * y - return\n"
	"dy = atan2(int, v) + exp(-t) * (int > 0 ? 1 : -1) + pow(v, 3) + (int + v)^2\n"
	"  + abs(y)^0.5 + t_\n"
	"dv = min(int, y) - max(v, 0) + (y >= 0 && v < 1 || !(int == 0)) + sqrt(1 + v**2)\n"
	"  + k * t + log10(10 + v*v) + floor(v) + ceil(y) + sinh(0.1*v) + cosh(0.1*v)\n"
	"  + tanh(v) + sin(v) + cos(v) + tan(0.1*v) + asin(0.1) + acos(0.2*tanh(v))\n"
	"  + atan(v) + log(2 + v*v) + 2^-2*y + v^-1 + (v != v) + (1 <= 2)\n"
	"unused = 1 / 0 + y\n";

static void kw_expect(double t, const double *s, const double *p, double *d)
{
	double I = s[0], Y = s[1], V = s[2], R = p[0], P = p[1], D = 8.0 / 3, k = D * 2;
	double dydt = I * Y, tt = dydt + D + t;
	d[0] = -(I * I) + P * Y - R;
	d[1] = atan2(I, V) + exp(-t) * (I > 0 ? 1 : -1) + V * V * V + (I + V) * (I + V) +
	       sqrt(fabs(Y)) + tt;
	d[2] = fmin(I, Y) - fmax(V, 0) + ((Y >= 0 && V < 1) || I != 0) + sqrt(1 + V * V) + k * t +
	       log10(10 + V * V) + floor(V) + ceil(Y) + sinh(0.1 * V) + cosh(0.1 * V) + tanh(V) +
	       sin(V) + cos(V) + tan(0.1 * V) + asin(0.1) + acos(0.2 * tanh(V)) + atan(V) +
	       log(2 + V * V) + 0.25 * Y + 1 / V + 0 + 1;
	d[3] = V, d[4] = tt, d[5] = dydt, d[6] = I; /* saved: v, t_, dydt, int */
}

static void codegen(void)
{
	cubie_error e;
	struct model *m = build(lorenz, &e);
	if (!ok(m != NULL, "lorenz builds"))
		diag("%s", e.msg);
	if (!m)
		return;
	is_int(m->n_states, 3, "three states");
	ok(m->n_params == 1 && !strcmp(m->params[0], "rho"), "one parameter");
	ok(m->n_obs == 1 && !strcmp(m->obs[0], "r"), "one observable");
	is_int(model_var(m, "z"), 2, "model_var: a state");
	is_int(model_var(m, "r"), 3, "model_var: an observable");
	is_int(model_var(m, "rho"), -1, "model_var: a parameter is not a variable");
	int save[] = {0, 3};
	char *src = model_source(m, save, 2, NULL, 0);
	const char *saved = src ? strstr(src, "cubie_saved") : NULL;
	like(src, "#define CUBIE_NSTATES 3\n#define CUBIE_NPARAMS 1\n#define CUBIE_NSAVED 2",
	     "sizes");
	like(src, "(CUBIE_R(2.6666666666666665) * s_z)", "constants are inlined as exact literals");
	like(src, "CUBIE_M(sqrt)(((s_x * s_x) + (s_y * s_y) + (s_z * s_z)))",
	     "x^2 is x*x, and a sum shares one pair of parentheses");
	like(src, "\t(void)t;", "unused time is marked");
	ok(saved && !strstr(saved, "p_rho") && strstr(saved, "(void)p;"), "cubie_saved reads only what it needs");
	ok(saved && strstr(src, "a_r") > saved, "cubie_rhs skips the observable");
	ok(!model_source(m, (int[]){4}, 1, NULL, 0), "an index past the variables is refused");
	free(src);
	model_free(m);

	if (!(m = build(kw, &e)))
		diag("%s", e.msg);
	int kw_save[] = {2, 4, 3, 0};
	src = m ? model_source(m, kw_save, 4, NULL, 0) : NULL;
	ok(src != NULL, "keyword names build");
	like(src, "const cubie_real t_ = CUBIE_R(t);", "time converted once");
	ok(src && !strstr(src, "unused"), "unused auxiliaries are left out");
	const double t = 0.7, y[] = {0.3, -1.2, 0.8, NAN}, p[] = {0.5, 2, NAN};
	double want[7], got[8] = {0};
	kw_expect(t, y, p, want);
	for (int prec = 64; src && prec >= 32; prec -= 32) {
		int n = run(src, prec, t, y, p, got, 8);
		if (!is_int(n, 7, "float%d: compiles warning-free and runs", prec))
			continue;
		for (int i = 0; i < 7; i++)
			is_near(got[i], want[i], prec == 64 ? 1e-13 : 1e-5,
			                "float%d: %s %d", prec, i < 3 ? "dydt" : "saved", i < 3 ? i : i - 3);
	}
	free(src);
	model_free(m);

	/* The smallest model: no parameters, nothing saved. */
	m = build("[model]\nstates = x\n[equations]\ndx = -x\n", &e);
	src = m ? model_source(m, NULL, 0, NULL, 0) : NULL;
	like(src, "#define CUBIE_NSAVED 0", "nothing saved");
	if (src)
		is_int(run(src, 32, 0, (double[]){2, NAN}, (double[]){NAN}, got, 8), 1,
		       "no parameters, nothing saved: compiles warning-free");
	else
		skip("no source");
	is_near(got[0], -2, 0, "and dx = -x");
	free(src);
	model_free(m);
}

/* Issue 11: the functions and constants added to the language, evaluated
 * here and in generated code (both precisions), and its new errors. */
static void language(void)
{
	is_near(ev("pi") - 4 * atan(1.0) + ev("e") - exp(1.0), 0, 0, "pi and e");
	is_near(ev("mod(7, 3) + 10*mod(-7, 3) + 100*(7 % -3)"), 1 + 20 - 200, 1e-12,
	        "mod and %% are floored (the sign of the divisor)");
	is_near(ev("7 % 3 * 2"), 2, 0, "%% binds like *");
	is_near(ev("sign(-2) + 10*sign(0) + 100*sign(3)"), 99, 0, "sign");
	is_near(ev("heaviside(-1) + 10*heaviside(0) + 100*step(2)"), 110, 0, "heaviside and step");
	is_near(ev("where(1 < 2, 10, 20) + if(0, 1, 2)"), 12, 0, "where and if");
	is_near(ev("hypot(3, 4) + cbrt(-27) + log2(8) + exp2(3)"), 5 - 3 + 3 + 8, 1e-15,
	        "hypot cbrt log2 exp2");
	is_near(ev("log1p(1e-20)*1e20 + expm1(1e-20)*1e20"), 2, 1e-15, "log1p expm1");
	is_near(ev("erf(0.5) + erfc(0.5)"), 1, 1e-15, "erf erfc");
	is_near(ev("round(2.5) + round(-2.5)*10 + trunc(-2.7)*100 + floor(-2.5)*1000 + ceil(-2.5)*10000"),
	        3 - 30 - 200 - 3000 - 20000, 0, "round trunc floor ceil");
	is_near(ev("asinh(sinh(0.3)) + acosh(cosh(0.4)) + atanh(tanh(0.2))"), 0.9, 1e-15,
	        "inverse hyperbolic functions");
	is_near(ev("min(4, 2, 8, 3) + 10*max(1, 7, 2) + min(5, 6)"), 2 + 70 + 5, 0, "n-ary min and max");
	like(ev_err("min(1)"), "min takes at least 2 arguments", "min of one");
	like(ev_err("0 < 0.5 < 1"), "chained comparison at column 9", "chained < is an error");
	like(ev_err("1 == 1 == 1"), "chained comparison", "chained == is an error");
	is_near(ev("(0 < 0.5) <= 1"), 1, 0, "a parenthesised comparison is fine");
	is_near(ev("0 < 0.5 && 0.5 < 1"), 1, 0, "and so is &&");
	like(ev_err("wher(1, 2, 3)"), "did you mean 'where'?", "where in the hints");

	like(fails("[model]\nstates = x\n[equations]\ndx = -x\ndz = 1\n"),
	     "m.ini:5: 'dz' is not the equation of a state ('z' is not in [model] states) and "
	     "nothing uses it: add 'z' to states", "an equation for a non-state is an error");
	like(fails("[model]\nstates = x\n[equations]\ndx = -x\nd = 1\ndelta = 2*x\n"
	           "drag = delta\n[model]\nobservables = drag\n"), "(built)",
	     "auxiliaries starting with d that are used are fine");
	like(fails("[model]\nstates = x, e\n[equations]\ndx = -e\nde = pi\n"), "(built)",
	     "a state named e shadows the constant");

	/* generated code: every function, on states so that nothing folds */
	cubie_error e;
	struct model *m = build("[model]\nstates = x, y\nobservables = a, b, c\n[equations]\n"
	                        "dx = mod(x, y) + 3 % y + sign(x - 1) + heaviside(x - 0.5) + step(-y)\n"
	                        "dy = where(x < y, hypot(x, y), cbrt(-x)) + log2(y) + exp2(x) + "
	                        "log1p(x) + expm1(y) + pi*e\n"
	                        "a = erf(x) + erfc(y) + round(x*3) + trunc(y*3) + asinh(x) + "
	                        "acosh(1 + y) + atanh(x/2)\n"
	                        "b = min(x, y, 0.5, 2*x) + max(x, y, 0.1)\nc = if(x > 0.5, 1, 2)\n",
	                        &e);
	if (!ok(m != NULL, "a model with every new function builds"))
		diag("%s", e.msg);
	int save[] = {2, 3, 4};
	char *src = m ? model_source(m, save, 3, NULL, 0) : NULL;
	const double x = 0.7, y = 1.3, want[] = {
		fmod(x, y) + 3 - y * floor(3 / y) + 1 * (x > 1 ? 1 : -1) + 1 + 0,
		hypot(x, y) + log2(y) + exp2(x) + log1p(x) + expm1(y) + M_PI * M_E,
		erf(x) + erfc(y) + round(x * 3) + trunc(y * 3) + asinh(x) + acosh(1 + y) + atanh(x / 2),
		fmin(x, 0.5) + fmax(x, y), 1};
	double got[8] = {0};
	for (int prec = 64; src && prec >= 32; prec -= 32) {
		int n = run(src, prec, 0, (double[]){x, y, NAN}, (double[]){NAN}, got, 8);
		if (!is_int(n, 5, "float%d: the new functions compile warning-free and run", prec))
			continue;
		for (int i = 0; i < 5; i++)
			is_near(got[i], want[i], prec == 64 ? 1e-13 : 2e-5, "float%d: value %d", prec, i);
	}
	if (!src)
		skip("no source");
	free(src);
	model_free(m);
}

int main(void)
{
	const char *srcdir = getenv("CUBIE_SRCDIR");
	char abs_src[PATH_MAX];
	const char *tmp = getenv("TMPDIR");
	if (!realpath(srcdir && *srcdir ? srcdir : ".", abs_src))
		return perror("CUBIE_SRCDIR"), 99;
	snprintf(inc, sizeof inc, "-I'%s/include'", abs_src);
	snprintf(dir, sizeof dir, "%s/cubie-model-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir) || chdir(dir))
		return perror(dir), 99;

	grammar();
	checks();
	codegen();
	language();

	remove("m.ini"), remove("model.h"), remove("cc.log"), remove("drv.c"), remove("drv");
	if (chdir("/") || rmdir(dir))
		diag("cannot remove %s: %s", dir, strerror(errno));
	done_testing();
	return tap_exit();
}
