/* Host memory of a cpu solve: the peak stays near the result itself plus
 * a few bounded chunks (not a multiple of the result). */
#include <sys/resource.h>
#include "internal.h"
#include "solve.h"

static double peak_mib(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

int main(void)
{
	/* 2^21 runs, 9 saves of 3 float64 states: a 432 MiB result */
	const char *ini = "[model]\nstates = x, y, z\nparameters = k\n[equations]\ndx = -k * x\n"
	                  "dy = -y\ndz = -z\n[initial]\nx = 1\ny = 1\nz = 1\n"
	                  "[parameters]\nk = linspace(0, 1, 2097152)\n[solve]\nintegrator = euler\n"
	                  "duration = 0.8\ndt = 0.1\n[output]\nsave_every = 0.1\n[device]\nbackend = cpu\n";
	cubie_error e = {0};
	double before = peak_mib();
	cubie_result *r = solve_text(ini, NULL, &e);
	if (!ok(r != NULL, "a 2^21-run cpu solve with 9 saves"))
		diag("%s", e.msg);
	const cubie_array *v = r ? cubie_result_find(r, "values") : NULL;
	double result = v ? (double)(v->shape[0] * v->shape[1] * v->shape[2] * 8) / 1048576 : 0;
	double inputs = 4.0 * 8 * 2097152 / 1048576;
	double grew = peak_mib() - before;
	diag("result %.0f MiB (values) + %.0f MiB (inputs); peak grew by %.0f MiB", result, inputs, grew);
	ok(v && grew < result + inputs + 4 * 64 + 64,
	   "peak host memory: the result and inputs plus at most a few 64 MiB chunks");
	ok(v && fabs(value_at(r, 8, 0, 2097151) - pow(0.9, 8)) < 1e-12, "... and the values are right");
	cubie_result_free(r);
	done_testing();
	return tap_exit();
}
