/* The hand-written reference of bench/cpu.c: Lorenz (sigma 10, beta 8/3,
 * from (1, 0, 0)) by rk4 with n fixed steps, and by dopri5 with a PI
 * controller as control.h's (0.9 exp2(-(0.7 le - 0.4 le1) / 5), gain in
 * [0.2, 5], 1 after a rejection; le = log2 of the RMS error), landing on
 * t1 exactly. W runs in SIMD lanes, OpenMP over blocks of W. Included
 * once per precision with R (float, double), F(name), FN(fn) (the math
 * function of that precision) and W defined. */
#ifndef LORENZ
#define UNROLL _Pragma("GCC unroll 8") /* the tableau loops, so k stays in registers */
#define LORENZ(dx, dy, dz, x, y, z, rho)                                          \
	do {                                                                      \
		const R x_ = (x), y_ = (y), z_ = (z);                             \
		dx = 10 * (y_ - x_), dy = x_ * ((rho) - z_) - y_, dz = x_ * y_ - (R)(8.0 / 3) * z_; \
	} while (0)
#endif
static void F(ref_rk4)(long n, const R *rho, R *out, int steps, R h)
{
#pragma omp parallel for schedule(dynamic, 4)
	for (long b = 0; b < (n + W - 1) / W; b++) {
		R x[W], y[W], z[W], r[W];
		for (int l = 0; l < W; l++)
			x[l] = 1, y[l] = z[l] = 0, r[l] = rho[b * W + l < n ? b * W + l : n - 1];
		for (int s = 0; s < steps; s++) {
#pragma omp simd
			for (int l = 0; l < W; l++) {
				R k[4][3], X = x[l], Y = y[l], Z = z[l];
				for (int q = 0; q < 4; q++) { /* stage q at y + c h k[q-1] */
					const R c = q == 0 ? 0 : q == 3 ? h : h / 2;
					LORENZ(k[q][0], k[q][1], k[q][2], X + c * (q ? k[q - 1][0] : 0),
					       Y + c * (q ? k[q - 1][1] : 0), Z + c * (q ? k[q - 1][2] : 0), r[l]);
				}
				x[l] = X + h / 6 * (k[0][0] + 2 * k[1][0] + 2 * k[2][0] + k[3][0]);
				y[l] = Y + h / 6 * (k[0][1] + 2 * k[1][1] + 2 * k[2][1] + k[3][1]);
				z[l] = Z + h / 6 * (k[0][2] + 2 * k[1][2] + 2 * k[2][2] + k[3][2]);
			}
		}
		for (int l = 0; l < W && b * W + l < n; l++)
			out[b * W + l] = x[l], out[n + b * W + l] = y[l], out[2 * n + b * W + l] = z[l];
	}
}

#ifndef A5_DEFINED
#define A5_DEFINED
static const double A5[7][6] = {{0}, {1.0 / 5}, {3.0 / 40, 9.0 / 40},
	{44.0 / 45, -56.0 / 15, 32.0 / 9}, {19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
	{9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
	{35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84}};
static const double E5[7] = {71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200,
	22.0 / 525, -1.0 / 40};
#endif

static void F(ref_dopri5)(long n, const R *rho, R *out, R h0, double t1, R tol)
{
#pragma omp parallel for schedule(dynamic, 4)
	for (long b = 0; b < (n + W - 1) / W; b++) {
		R y[3][W], f[3][W], r[W], h[W], le1[W]; /* f: the FSAL stage f(t, y) */
		double t[W];
		int rej[W], act[W], any = 1;
		for (int l = 0; l < W; l++) {
			y[0][l] = 1, y[1][l] = y[2][l] = 0, r[l] = rho[b * W + l < n ? b * W + l : n - 1];
			LORENZ(f[0][l], f[1][l], f[2][l], y[0][l], y[1][l], y[2][l], r[l]);
			h[l] = h0, le1[l] = 0, t[l] = 0, rej[l] = 0, act[l] = 1;
		}
		while (any) {
			any = 0;
#pragma omp simd reduction(| : any)
			for (int l = 0; l < W; l++) {
				R k[7][3], u[3], sum = 0, hh = h[l];
				const int last = t[l] + 1.0001 * (double)hh >= t1;
				hh = last ? (R)(t1 - t[l]) : hh;
				UNROLL
				for (int j = 0; j < 3; j++)
					k[0][j] = f[j][l];
				UNROLL
				for (int s = 1; s < 7; s++) {
					UNROLL
					for (int j = 0; j < 3; j++) {
						u[j] = 0;
						UNROLL
						for (int q = 0; q < s; q++)
							u[j] += (R)A5[s][q] * k[q][j];
						u[j] = y[j][l] + hh * u[j]; /* at s = 6: y_new */
					}
					LORENZ(k[s][0], k[s][1], k[s][2], u[0], u[1], u[2], r[l]);
				}
				UNROLL
				for (int j = 0; j < 3; j++) {
					R e = 0;
					UNROLL
					for (int s = 0; s < 7; s++)
						e += (R)E5[s] * k[s][j];
					const R m = FN(fabs)(y[j][l]) > FN(fabs)(u[j]) ? FN(fabs)(y[j][l]) : FN(fabs)(u[j]);
					const R q = hh * e / (tol + tol * m);
					sum += q * q;
				}
				const R le = (R)0.5 * FN(log2)(sum / 3 > (R)1e-20 ? sum / 3 : (R)1e-20);
				const int ok = (sum <= 3) & act[l];
				R fac = (R)0.9 * FN(exp2)((ok ? (R)-0.7 * le + (R)0.4 * le1[l] : -le) / 5);
				fac = fac < (R)0.2 ? (R)0.2 : fac > (rej[l] ? 1 : 5) ? (rej[l] ? 1 : 5) : fac;
				h[l] = !act[l] | (ok & last & (hh * fac < h[l])) ? h[l] : hh * fac;
				UNROLL
				for (int j = 0; j < 3; j++)
					y[j][l] = ok ? u[j] : y[j][l], f[j][l] = ok ? k[6][j] : f[j][l];
				le1[l] = ok ? le : le1[l], rej[l] = act[l] ? !ok : rej[l];
				const double tn = last ? t1 : t[l] + hh;
				t[l] = ok ? tn : t[l];
				act[l] = act[l] & !(ok & last);
				any |= act[l];
			}
		}
		for (int l = 0; l < W && b * W + l < n; l++)
			out[b * W + l] = y[0][l], out[n + b * W + l] = y[1][l], out[2 * n + b * W + l] = y[2][l];
	}
}
