/* The symbolic Jacobian (core/expr_diff.c, model_jacobian) against finite
 * differences, on every example and test model and on one model that uses
 * every function and operator of the expression language. The generated
 * model source, with cubie_jac and cubie_dfdt, is compiled by the host
 * compiler with a small harness that compares J and df/dt with central
 * differences of cubie_rhs at two points: the first run's initial values,
 * and a point moved off them. */
#include "config.h"
#include <sys/wait.h>
#include "internal.h"
#include "settings.h"
#include "expr_ast.h"
#include "tap.h"
#include "stiff.h"

/* A model that exercises every derivative rule, at points where the
 * piecewise functions (abs, min, max, floor, ceil, comparisons) are smooth. */
static const char *every_function =
	"[model]\nstates = a, b, c\nparameters = k\n"
	"[constants]\nq = 2/3\n"
	"[equations]\n"
	"u = exp(0.1 * a) + log(b) + log10(c) + sqrt(a * b)\n"
	"v = sin(a) * cos(b) + tan(0.3 * c) + asin(0.2 * a) + acos(0.1 * b) + atan(c)\n"
	"w = atan2(a, b) + sinh(0.5 * a) + cosh(0.2 * b) + tanh(c) + abs(a - b) + min(a, c) + "
	"max(b, c)\n"
	"da = pow(a, 1.5) + a^k + b^c + floor(a) + ceil(b) * a + u * v - t * w\n"
	"db = (a > b ? a * b : b / a) + (a < 1 && b > 0 || !(c > 2) ? c^2 : -c) + q * u / (1 + w^2)\n"
	"dc = -k * c + 2^a + t^2 * v + (c >= 0.5) * a + a^-2 + (-a)^2 / b - -a + pow(2, t) * c + z\n"
	"z = round(a) + trunc(b) + hypot(a, c) + cbrt(a - 2) + log2(b) + exp2(c) + log1p(a) + "
	"expm1(b) + erf(c) + erfc(a) + asinh(a) + acosh(b + 1) + atanh(0.5 * c) + mod(b, a) + "
	"b % 0.3 + sign(a - 1) * c + heaviside(b) * a + step(c) + where(a < b, a, b) + "
	"if(c > 0, c^2, 0) + min(a, b, c) * max(a, b, c, t) + pi * e * c\n"
	"[initial]\na = 0.7\nb = 1.3\nc = 0.9\n[parameters]\nk = 1.7\n";

static const char *test_models[] = {
	"[model]\nstates = x\nparameters = k\n[equations]\ndx = -k * x\n"
	"[initial]\nx = 1\n[parameters]\nk = 1, 2\n",
	"[model]\nstates = x, v\nparameters = w\n[equations]\ndx = v\ndv = -w^2 * x\n"
	"[initial]\nx = 1\nv = 0\n[parameters]\nw = 2\n",
	"[model]\nstates = x, y\n[equations]\ndx = 2 * t * y\ndy = -2 * t * x\n"
	"[initial]\nx = 1\ny = 0\n",
	"[model]\nstates = x\n[equations]\ndx = x^2\n[initial]\nx = 2, 0.1, -1\n",
	/* the Robertson benchmark, with k1 per run and constants */
	"[model]\nstates = y1, y2, y3\nparameters = k1\n[constants]\nk2 = 3e7\nk3 = 1e4\n"
	"[equations]\nr1 = k1 * y1\nr2 = k2 * y2^2\nr3 = k3 * y2 * y3\n"
	"dy1 = -r1 + r3\ndy2 = r1 - r2 - r3\ndy3 = r2\n"
	"[initial]\ny1 = 1\ny2 = 0\ny3 = 0\n[parameters]\nk1 = 0.04\n",
};

/* Compile and run the harness; returns 0 with the worst scaled errors. */
static int check_model(const char *label, const char *ini, double *ej, double *et)
{
	cubie_error e = {0};
	char *path = write_tmp("jac", ini), *jac = NULL, *msrc = NULL, *src = NULL;
	cubie_config *c = NULL;
	struct model *m = NULL;
	struct run_table rt = {0};
	struct settings st = {0};
	int rc = cubie_config_load(path, &c, &e);
	if (!rc)
		rc = model_build(c, &m, &e);
	if (!rc)
		rc = settings_read(c, &st, &e);
	if (!rc)
		rc = runs_build(c, &st, m, &rt, &e);
	settings_free(&st);
	if (!rc)
		rc = model_jacobian(m, "the test", &jac, &e);
	if (rc) {
		diag("%s: %s", label, e.msg);
		goto out;
	}
	sbuf h = {0};
	const size_t n = m->n_states, np = m->n_params;
	char *model = model_source(m, NULL, 0, NULL, 0);
	sb_add(&h, "#define CUBIE_CONTROLLER 0\n#define CUBIE_ERR_ORDER 0\n"
	       "#define CUBIE_MAX_STEPS 1LL\n%s%s", model, jac);
	free(model);
	msrc = h.s;
	h = (sbuf){0};
	sb_add(&h, "#include <stdio.h>\n"
	       "CUBIE_DEV void cubie_step(double t, cubie_real h, const cubie_real *y,\n"
	       "    const cubie_real *p, cubie_real *y_new, cubie_real *err, cubie_real *f0,\n"
	       "    cubie_real *f1, int f0_ok) { (void)t, (void)h, (void)y, (void)p, (void)y_new,\n"
	       "    (void)err, (void)f0, (void)f1, (void)f0_ok; }\n"
	       "int main(void)\n{\n\tconst int n = %zu;\n\tdouble y0[%zu] = {", n, n);
	for (size_t i = 0; i < n; i++)
		sb_add(&h, "%s%.17g", i ? ", " : "", rt.v[i * rt.n_runs]);
	sb_add(&h, "}, p[%zu] = {", np ? np : 1);
	for (size_t i = 0; i < np; i++)
		sb_add(&h, "%s%.17g", i ? ", " : "", rt.v[(n + i) * rt.n_runs]);
	sb_add(&h, "%s};\n", np ? "" : "0");
	sb_add(&h,
	       "\tdouble ej = 0, et = 0;\n"
	       "\tfor (int pt = 0; pt < 2; pt++) {\n"
	       "\t\tdouble y[%zu], J[%zu], dt[%zu], fp[%zu], fm[%zu], yy[%zu];\n"
	       "\t\tconst double t = 0.7 + 0.3 * pt;\n"
	       "\t\tfor (int i = 0; i < n; i++)\n"
	       "\t\t\ty[i] = pt ? 1.1 * y0[i] + 0.05 : y0[i];\n"
	       "\t\tcubie_jac(t, y, p, J);\n"
	       "\t\tcubie_dfdt(t, y, p, dt);\n"
	       "\t\tfor (int j = 0; j <= n; j++) {\n"
	       "\t\t\tconst double d = 1e-6 * (1 + fabs(j < n ? y[j] : t));\n"
	       "\t\t\tfor (int i = 0; i < n; i++)\n"
	       "\t\t\t\tyy[i] = y[i];\n"
	       "\t\t\tif (j < n) yy[j] = y[j] + d;\n"
	       "\t\t\tcubie_rhs(j < n ? t : t + d, yy, p, fp);\n"
	       "\t\t\tif (j < n) yy[j] = y[j] - d;\n"
	       "\t\t\tcubie_rhs(j < n ? t : t - d, yy, p, fm);\n"
	       "\t\t\tfor (int i = 0; i < n; i++) {\n"
	       "\t\t\t\tdouble row = 1;\n"
	       "\t\t\t\tfor (int k = 0; k < n; k++)\n"
	       "\t\t\t\t\trow = fmax(row, fabs(J[i * n + k]));\n"
	       "\t\t\t\tconst double fd = (fp[i] - fm[i]) / (2 * d);\n"
	       "\t\t\t\tconst double an = j < n ? J[i * n + j] : dt[i];\n"
	       "\t\t\t\tconst double r = fabs(an - fd) / fmax(row, fabs(dt[i]));\n"
	       "\t\t\t\tif (j < n) ej = fmax(ej, r != r ? 1e300 : r);\n"
	       "\t\t\t\telse et = fmax(et, r != r ? 1e300 : r);\n"
	       "\t\t\t}\n"
	       "\t\t}\n"
	       "\t}\n"
	       "\tprintf(\"%%.3e %%.3e\\n\", ej, et);\n"
	       "\treturn 0;\n}\n",
	       n, n * n, n, n, n, n);
	src = kernel_source(64, msrc, h.s);
	free(h.s);
	char *cfile = write_tmp("jac-harness.c", src);
	char *bin = cb_printf("%s.bin", cfile);
	const char *cc = getenv("CUBIE_TEST_CC");
	char *cmd = cb_printf("%s -std=gnu11 -O1 -o '%s' -x c '%s' -lm 2>&1", cc && *cc ? cc : "cc",
	                      bin, cfile);
	FILE *f = popen(cmd, "r");
	char line[4096];
	while (f && fgets(line, sizeof line, f))
		diag("cc: %s", line);
	rc = f ? pclose(f) : -1;
	free(cmd);
	if (rc) {
		diag("%s: the harness does not compile (%s)", label, cfile);
	} else {
		cmd = cb_printf("'%s'", bin);
		f = popen(cmd, "r");
		rc = !(f && fgets(line, sizeof line, f) && sscanf(line, "%lf %lf", ej, et) == 2);
		if (f)
			pclose(f);
		free(cmd);
		unlink(bin);
		unlink(cfile);
	}
	free(bin);
	free(cfile);
out:
	free(jac);
	free(msrc);
	free(src);
	runs_free(&rt);
	model_free(m);
	cubie_config_free(c);
	unlink(path);
	free(path);
	return rc;
}

static void check(const char *label, const char *ini)
{
	double ej = 1, et = 1;
	int rc = check_model(label, ini, &ej, &et);
	ok(rc == 0 && ej < 1e-6, "%s: d f / d y matches central differences (worst %.2g)", label,
	   rc ? NAN : ej);
	ok(rc == 0 && et < 1e-6, "%s: d f / d t matches central differences (worst %.2g)", label,
	   rc ? NAN : et);
}

/* The text of a file of the source tree, or NULL. */
static char *src_text(const char *rel)
{
	const char *srcdir = getenv("CUBIE_SRCDIR");
	char *p = cb_printf("%s/%s", srcdir ? srcdir : ".", rel), *s = slurp(p, NULL);
	free(p);
	return s;
}

static int dep_x(const char *name, void *ctx, const char **dname)
{
	return !strcmp(name, "x");
}

int main(void)
{
	/* a function the differentiator does not know is reported, not guessed
	 * (every function of the language has a derivative today, so the test
	 * makes one up by its index) */
	{
		struct expr *x = NULL;
		const char *bad = NULL;
		char err[128];
		if (ok(expr_parse("2 * exp(x)", &x, err, sizeof err) == 0 && x->op == X_MUL &&
		       x->a[1]->op == X_CALL, "parse 2 * exp(x)")) {
			x->a[1]->fn = 100000;
			struct expr *dx = expr_diff(x, dep_x, NULL, NULL, &bad);
			ok(!dx && bad && *bad, "an unknown function has no derivative: '%s'", bad ? bad : "");
			expr_free(dx);
		}
		expr_free(x);
	}
	check("every function", every_function);
	for (size_t i = 0; i < sizeof test_models / sizeof *test_models; i++) {
		char label[64];
		snprintf(label, sizeof label, "test model %zu", i + 1);
		check(label, test_models[i]);
	}
	for (size_t i = 0; i < N_STIFF; i++)
		check(stiff_problems[i].name, stiff_problems[i].ini);
	static const char *const examples[] = {"examples/lorenz.ini", "bench/robertson.ini"};
	for (size_t i = 0; i < sizeof examples / sizeof *examples; i++) {
		char *ini = src_text(examples[i]);
		if (!ok(ini != NULL, "read %s", examples[i]))
			continue;
		check(examples[i], ini);
		free(ini);
	}

	/* shared subexpressions: exp(-a x) and cos(x y) appear in several
	 * entries, and are computed once each */
	{
		const char *ini = "[model]\nstates = x, y\nparameters = a\n[equations]\n"
		                  "dx = exp(-a * x) * y + sin(x * y)\ndy = exp(-a * x) * x - sin(x * y)\n"
		                  "[initial]\nx = 1\ny = 2\n[parameters]\na = 0.5\n";
		check("shared subexpressions", ini);
		char *path = write_tmp("jac", ini), *jac = NULL;
		cubie_config *c = NULL;
		struct model *m = NULL;
		cubie_error e1 = {0};
		int rc = cubie_config_load(path, &c, &e1) || model_build(c, &m, &e1) ||
		         model_jacobian(m, "the test", &jac, &e1);
		int n_exp = 0, n_cos = 0;
		for (const char *q = jac; !rc && (q = strstr(q, "(exp)(")); q++)
			n_exp++;
		for (const char *q = jac; !rc && (q = strstr(q, "(cos)(")); q++)
			n_cos++;
		ok(!rc && n_exp == 1 && n_cos == 1,
		   "exp(-a x) and cos(x y) are each evaluated once in cubie_jac (%d, %d)", n_exp, n_cos);
		free(jac);
		model_free(m);
		cubie_config_free(c);
		unlink(path);
		free(path);
	}
	/* an autonomous model says so; a time-dependent one does not */
	cubie_error e = {0};
	const char *ini[2] = {test_models[0], test_models[2]};
	for (int k = 0; k < 2; k++) {
		char *path = write_tmp("jac", ini[k]), *jac = NULL;
		cubie_config *c = NULL;
		struct model *m = NULL;
		int rc = cubie_config_load(path, &c, &e) || model_build(c, &m, &e) ||
		         model_jacobian(m, "the test", &jac, &e);
		ok(!rc && strstr(jac, k ? "#define CUBIE_AUTONOMOUS 0" : "#define CUBIE_AUTONOMOUS 1"),
		   "%s model: CUBIE_AUTONOMOUS %d", k ? "a time-dependent" : "an autonomous", !k);
		if (!rc && !k)
			ok(strstr(jac, "J[0] = (-p_k);") != NULL, "d(-k x)/dx is emitted as -k");
		free(jac);
		model_free(m);
		cubie_config_free(c);
		unlink(path);
		free(path);
	}
	done_testing();
	return tap_exit();
}
