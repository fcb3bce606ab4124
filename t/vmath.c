/* The loop's own math (include/cubie/device/vmath.h) as the cpu backend
 * compiles it, in the precision CUBIE_PRECISION names (a program per
 * precision): exp2 and log2 as accurate as a float, over the ranges the
 * step-size controller gives them, and the error scale's floor for
 * atol = 0. TAP. */
#include "config.h"
#include "tap.h"

#include <cubie/device/prelude.h>
#include <float.h>

int main(void)
{
	/* about a float's ulp (2^-23): 1.3 of it in double, 3 in float,
	 * whose own rounding adds to the polynomials' */
	const double tol = CUBIE_PRECISION == 32 ? 3.6e-7 : 1.6e-7;
	double worst = 0;
	for (double x = -120; x <= 120; x += 1.0 / 64) {
		const double t = exp2(x), r = cubie_exp2(CUBIE_R(x));
		worst = fmax(worst, fabs(r - t) / t);
	}
	ok(worst <= tol, "exp2 on [-120, 120]: %.2e relative at worst", worst);
	ok(cubie_exp2(CUBIE_R(-1e4)) == cubie_exp2(CUBIE_R(-120)) &&
	   cubie_exp2(CUBIE_R(1e4)) == cubie_exp2(CUBIE_R(120)),
	   "exp2 clamps its argument to [-120, 120]");
	worst = 0;
	const double lo = CUBIE_PRECISION == 32 ? 1e-37 : 1e-300;
	for (double x = lo; x < 1e30; x *= 1.0123) {
		const double t = log2(x), r = cubie_log2(CUBIE_R(x));
		worst = fmax(worst, fabs(r - t) / fmax(1, fabs(t)));
	}
	ok(worst <= tol, "log2 from %g to 1e30: %.2e at worst (relative, absolute below 1)", lo,
	   worst);
	const double tiny = CUBIE_PRECISION == 32 ? FLT_MIN : DBL_MIN;
	/* exact values: the compiler may fuse atol + rtol m or not */
	ok(cubie_err_scale(0, 1e-6, CUBIE_R(0)) == CUBIE_R(tiny) &&
	   cubie_err_scale(0, 0.25, CUBIE_R(2)) == CUBIE_R(0.5),
	   "error scale, atol 0: floored at the smallest normal, else rtol m");
	ok(cubie_err_scale(1e-30, 0, CUBIE_R(0)) == CUBIE_R(1e-30) &&
	   cubie_err_scale(0.5, 0.25, CUBIE_R(4)) == CUBIE_R(1.5),
	   "error scale, atol > 0: atol + rtol m, not floored");
	done_testing();
	return tap_exit();
}
