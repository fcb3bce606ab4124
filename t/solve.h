/* Solve an INI text through the public API, for tests. */
#ifndef CUBIE_T_SOLVE_H
#define CUBIE_T_SOLVE_H
#include <cubie/cubie.h>
#include "tap.h"

/* Returns the result (NULL on error, message in *e); overrides are
 * "section.key=value" strings, NULL-terminated. */
TAP_FN cubie_result *solve_text(const char *ini, const char *const *overrides, cubie_error *e)
{
	char *p = write_tmp("solve", ini);
	cubie_config *c = NULL;
	cubie_solver *s = NULL;
	cubie_result *r = NULL;
	int rc = cubie_config_load(p, &c, e);
	for (size_t i = 0; !rc && overrides && overrides[i]; i++)
		rc = cubie_config_set(c, overrides[i], e);
	if (!rc)
		rc = cubie_solver_create(c, &s, e);
	if (!rc)
		rc = cubie_solve(s, &r, e);
	cubie_solver_free(s);
	cubie_config_free(c);
	unlink(p);
	free(p);
	return r;
}

/* values[save][var][run] as double, whatever the precision */
TAP_FN double value_at(const cubie_result *r, size_t save, size_t var, size_t run)
{
	const cubie_array *a = cubie_result_find(r, "values");
	size_t i = (save * a->shape[1] + var) * a->shape[2] + run;
	return a->dtype == CUBIE_DTYPE_FLOAT32 ? ((const float *)a->data)[i]
	                                       : ((const double *)a->data)[i];
}
#endif
