/* Run tables: grid and zip combinations, errors. */
#include "config.h"
#include "internal.h"
#include "settings.h"
#include "tap.h"

static int build(const char *ini, struct run_table *rt, cubie_error *e)
{
	char *p = write_tmp("runs", ini);
	cubie_config *c;
	struct model *m = NULL;
	struct settings st = {0};
	int rc = cubie_config_load(p, &c, e);
	if (!rc)
		rc = model_build(c, &m, e);
	if (!rc)
		rc = settings_read(c, &st, e);
	if (!rc)
		rc = runs_build(c, &st, m, rt, e);
	settings_free(&st);
	model_free(m);
	cubie_config_free(c);
	unlink(p);
	free(p);
	return rc;
}

static void write_csv(const char *text)
{
	FILE *f = fopen("t/tmp-runs.csv", "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		printf("Bail out! cannot write t/tmp-runs.csv\n");
		exit(1);
	}
}

/* The device's sweep.h, compiled here for MODEL's two states and two
 * parameters: the value it works out for each run and input. */
#define CUBIE_DEV static
typedef double cubie_real;
#define CUBIE_NSTATES 2
#define CUBIE_NPARAMS 2
#include <cubie/device/sweep.h>

/* Every input of every run as the device works it out is the table's,
 * bit for bit: run by run (the GPU's cubie_sweep_value), and by the cpu's
 * cubie_cpu_sweep for chunks that start part-way through the axes (first)
 * and launches that start part-way through the chunk (begin); *lin counts
 * the axes worked out as linspaces. */
static int sweep_matches(const struct run_table *rt, int *lin)
{
	*lin = 0;
	if (!rt->sweep)
		return 0;
	int same = 1;
	for (int j = 0; j < 4; j++) {
		*lin += (int)rt->sweep->axes[j].lin;
		for (size_t r = 0; r < rt->n_runs; r++) {
			double u = cubie_sweep_value(rt->sweep->axes, j, (long long)r);
			same &= !memcmp(&u, &rt->v[j * rt->n_runs + r], sizeof u);
		}
	}
	double *cols = malloc(4 * rt->n_runs * sizeof *cols);
	for (long long first = 0; cols && first < 7 && first < (long long)rt->n_runs; first++) {
		const long long n = (long long)rt->n_runs - first, begin = first % 3 < n ? first % 3 : 0;
		struct cubie_args a = {.y0 = cols, .params = cols + 2 * n, .sweep = rt->sweep->axes,
		                       .first = first, .begin = begin, .n = n, .stride = n};
		cubie_cpu_sweep(&a);
		for (int j = 0; j < 4; j++)
			same &= !memcmp(cols + j * n + begin, rt->v + j * rt->n_runs + first + begin,
			                (size_t)(n - begin) * sizeof *cols);
	}
	free(cols);
	return cols && same;
}

#define MODEL "[model]\nstates = x, y\nparameters = a, b\n[equations]\ndx = a\ndy = b\n"

int main(void)
{
	struct run_table rt;
	cubie_error e = {0};
	ok(build(MODEL "[initial]\nx = 1, 2\ny = 5\n[parameters]\na = 10, 20, 30\nb = 7\n", &rt, &e) == 0,
	   "grid builds");
	is_int(rt.n_runs, 6, "grid: 2 x 3 runs");
	is_int(rt.n_inputs, 4, "inputs: states then parameters");
	/* first input slowest: x = 1 1 1 2 2 2, a = 10 20 30 10 20 30 */
	double wx[] = {1, 1, 1, 2, 2, 2}, wa[] = {10, 20, 30, 10, 20, 30};
	int good = 1;
	for (int r = 0; r < 6; r++)
		good &= rt.v[0 * 6 + r] == wx[r] && rt.v[1 * 6 + r] == 5 && rt.v[2 * 6 + r] == wa[r] &&
		        rt.v[3 * 6 + r] == 7;
	ok(good, "grid order: the first swept input varies slowest, scalars broadcast");
	runs_free(&rt);

	ok(build(MODEL "[initial]\nx = 1, 2, 3\ny = 0\n[parameters]\na = linspace(0, 1, 3)\nb = 4, 5, 6\n"
	               "[runs]\ncombine = zip\n", &rt, &e) == 0, "zip builds");
	is_int(rt.n_runs, 3, "zip: element-wise, 3 runs");
	ok(rt.v[0 * 3 + 2] == 3 && rt.v[2 * 3 + 1] == 0.5 && rt.v[3 * 3 + 2] == 6 && rt.v[1 * 3 + 2] == 0,
	   "zip pairs the i-th values");
	runs_free(&rt);

	ok(build(MODEL "[initial]\nx = 1, 2, 3\ny = 0\n[parameters]\na = 1, 2\nb = 4\n"
	               "[runs]\ncombine = zip\n", &rt, &e) == CUBIE_ERR_CONFIG, "zip of unequal lengths refused");
	like(e.msg, ":14: combine = zip needs equal lengths, but 'x' has 3 values and 'a' has 2",
	     "... naming both and the line");
	ok(build(MODEL "[initial]\nx = 1\n[parameters]\na = 1\nb = 1\n", &rt, &e) == CUBIE_ERR_CONFIG,
	   "missing initial value refused");
	like(e.msg, "no value for state 'y': add it to [initial]", "... saying where to add it");
	ok(build(MODEL "[initial]\nx = 1\ny = 1\nq = 3\n[parameters]\na = 1\nb = 1\n", &rt, &e) ==
	       CUBIE_ERR_CONFIG, "an [initial] key that is not a state is refused");
	like(e.msg, ":10: 'q' in [initial] is not a state of the model", "... with its line");
	ok(build(MODEL "[initial]\nx = 1\ny = 1\n[parameters]\na = 1\nb = logspace(0, 2, 3)\n", &rt, &e) == 0 &&
	       rt.n_runs == 3 && fabs(rt.v[3 * 3 + 2] - 100) < 1e-12, "single sweep via logspace");
	runs_free(&rt);

	/* the sweep the device works out instead of copying the table */
	int lin;
	ok(build(MODEL "[initial]\nx = 1, -0, 2\ny = linspace(-1, 0.3, 77)\n[parameters]\n"
	               "a = logspace(-3, 3, 5)\nb = linspace(0, 1/3, 4)\n", &rt, &e) == 0 &&
	       sweep_matches(&rt, &lin) && lin == 2,
	   "grid: the sweep gives the table's inputs; y and b as linspaces");
	runs_free(&rt);
	ok(build(MODEL "[initial]\nx = linspace(5, 2, 1000)\ny = 3\n[parameters]\n"
	               "a = linspace(0, 7, 1000)\nb = logspace(0, 1, 1000)\n[runs]\ncombine = zip\n",
	         &rt, &e) == 0 && sweep_matches(&rt, &lin) && lin == 2,
	   "zip: the sweep gives the table's inputs");
	runs_free(&rt);
	ok(build(MODEL "[initial]\nx = 1\ny = 1\n[parameters]\na = 1, 2\nb = 1\n"
	               "[solve]\nduration = 1, 2\n", &rt, &e) == 0 && rt.spans && !rt.sweep,
	   "runs of their own spans: no sweep, the table goes to the device");
	runs_free(&rt);

	/* [runs] file: explicit runs from a CSV next to the INI file */
	write_csv("a, x\n1, 10\n2, 20\n\n3.5, 8/2\n");
	if (!ok(build(MODEL "[initial]\ny = 5\n[parameters]\nb = 7\n[runs]\nfile = tmp-runs.csv\n", &rt,
	              &e) == 0, "runs from a CSV file"))
		diag("%s", e.msg);
	ok(rt.n_runs == 3 && rt.v[0 * 3 + 2] == 4 && rt.v[2 * 3 + 0] == 1 && rt.v[1 * 3 + 1] == 5 &&
	   rt.v[3 * 3 + 2] == 7 && !rt.sweep, "... one run per row, other inputs from the INI file");
	runs_free(&rt);
	ok(build(MODEL "[initial]\ny = 5, 6\n[parameters]\nb = 7\n[runs]\nfile = tmp-runs.csv\n", &rt, &e) ==
	       CUBIE_ERR_CONFIG && strstr(e.msg, "[runs] file gives the runs, so 'y' may have one value only"),
	   "a list beside a runs file is refused");
	ok(build(MODEL "[initial]\n[parameters]\nb = 7\n[runs]\nfile = tmp-runs.csv\n", &rt, &e) ==
	       CUBIE_ERR_CONFIG && strstr(e.msg, "tmp-runs.csv:1: no column for 'y'"),
	   "an input with neither a column nor a value is refused");
	write_csv("a, x, q\n1, 2, 3\n");
	ok(build(MODEL "[initial]\ny = 5\n[parameters]\nb = 7\n[runs]\nfile = tmp-runs.csv\n", &rt, &e) ==
	       CUBIE_ERR_CONFIG && strstr(e.msg, "tmp-runs.csv:1: column 'q' is neither a state nor a parameter"),
	   "an unknown column is refused at its line");
	write_csv("a,x\n1,2\n3,oops\n4\n");
	ok(build(MODEL "[initial]\ny = 5\n[parameters]\nb = 7\n[runs]\nfile = tmp-runs.csv\n", &rt, &e) ==
	       CUBIE_ERR_CONFIG && strstr(e.msg, "tmp-runs.csv:3: not a number"),
	   "a malformed value is refused at its line");
	write_csv("a,x\n1,2\n4\n");
	ok(build(MODEL "[initial]\ny = 5\n[parameters]\nb = 7\n[runs]\nfile = tmp-runs.csv\n", &rt, &e) ==
	       CUBIE_ERR_CONFIG && strstr(e.msg, "tmp-runs.csv:3: 1 values for 2 columns"),
	   "a short row is refused at its line");
	ok(build(MODEL "[initial]\ny = 5\n[parameters]\nb = 7\n[runs]\nfile = nope.csv\n", &rt, &e) ==
	       CUBIE_ERR_CONFIG && strstr(e.msg, "[runs] file: t/nope.csv: No such file"),
	   "a missing runs file is refused");
	unlink("t/tmp-runs.csv");
	done_testing();
	return tap_exit();
}
