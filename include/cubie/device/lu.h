/* Dense LU factorization with partial pivoting, and the solves, for the
 * per-thread linear systems of implicit methods: n = CUBIE_NSTATES,
 * row-major, in place. Row swaps use compile-time indices only (a swap is
 * a predicated copy), so that for small n the fully unrolled loops keep
 * the matrix in registers. Up to CUBIE_LU_UNROLL_MAX states the loops are
 * unrolled; beyond, they are ordinary loops over local memory: slower, not
 * limited. A zero or non-finite pivot is CUBIE_STATUS_SINGULAR. */
#ifndef CUBIE_DEVICE_LU_H
#define CUBIE_DEVICE_LU_H

#ifndef CUBIE_LU_UNROLL_MAX
#define CUBIE_LU_UNROLL_MAX 16
#endif
#if CUBIE_NSTATES <= CUBIE_LU_UNROLL_MAX
#define CUBIE_LU_UNROLL CUBIE_UNROLL
#else
#define CUBIE_LU_UNROLL
#endif
#define CUBIE_LU_N CUBIE_NSTATES

/* An entry's size for pivoting: |A[i]|, or with Ai the imaginary parts
 * (0: none, a constant at every call, so the test folds away) |re| + |im|. */
CUBIE_DEV cubie_real cubie_lu_size(const cubie_real *A, const cubie_real *Ai, int i)
{
	return Ai ? CUBIE_M(fabs)(A[i]) + CUBIE_M(fabs)(Ai[i]) : CUBIE_M(fabs)(A[i]);
}

/* Step k's pivot: the first row from k down with the largest entry in
 * column k; that entry's size in *best. */
CUBIE_DEV int cubie_lu_pivot(const cubie_real *A, const cubie_real *Ai, int k, cubie_real *best)
{
	const int n = CUBIE_LU_N;
	int pr = k;
	*best = cubie_lu_size(A, Ai, k * n + k);
	CUBIE_LU_UNROLL
	for (int r = k + 1; r < n; r++) {
		const cubie_real v = cubie_lu_size(A, Ai, r * n + k);
		if (v > *best) {
			*best = v;
			pr = r;
		}
	}
	return pr;
}

/* Gaussian elimination in LINPACK's layout (dgefa/dgesl, Hairer-Wanner's
 * DEC/SOL): piv[k] is the row exchanged with row k at step k, and a swap
 * moves only columns k.. of the two rows, so each multiplier stays where
 * the step that made it left it. cubie_lu_solve relies on that: it
 * interleaves the swaps of b with the elimination, exactly as the
 * factorization did. (Swapping whole rows gives LAPACK's P A = L U, whose
 * solve must apply every swap before the first elimination; mixing the two
 * conventions solves a wrong system whenever a swap happens at k >= 1.) */
CUBIE_DEV int cubie_lu(cubie_real *A, int *piv)
{
	const int n = CUBIE_LU_N;
	CUBIE_LU_UNROLL
	for (int k = 0; k < n; k++) {
		cubie_real best;
		const int pr = cubie_lu_pivot(A, 0, k, &best);
		piv[k] = pr;
		if (!(best > 0) || !isfinite(best))
			return CUBIE_STATUS_SINGULAR;
		CUBIE_LU_UNROLL
		for (int r = k + 1; r < n; r++)
			if (r == pr) {
				CUBIE_LU_UNROLL
				for (int j = k; j < n; j++) {
					const cubie_real x = A[k * n + j];
					A[k * n + j] = A[r * n + j];
					A[r * n + j] = x;
				}
			}
		const cubie_real inv = CUBIE_R(1) / A[k * n + k];
		CUBIE_LU_UNROLL
		for (int r = k + 1; r < n; r++) {
			const cubie_real l = A[r * n + k] * inv;
			A[r * n + k] = l;
			CUBIE_LU_UNROLL
			for (int j = k + 1; j < n; j++)
				A[r * n + j] -= l * A[k * n + j];
		}
	}
	return 0;
}

/* b = A^-1 b with the factors of cubie_lu. */
CUBIE_DEV void cubie_lu_solve(const cubie_real *A, const int *piv, cubie_real *b)
{
	const int n = CUBIE_LU_N;
	CUBIE_LU_UNROLL
	for (int k = 0; k < n; k++) {
		/* the swap as selects of values: a branch on piv[k] would let the
		 * compiler index b dynamically, and b would leave the registers */
		const int pk = piv[k];
		CUBIE_LU_UNROLL
		for (int r = k + 1; r < n; r++) {
			const cubie_real bk = b[k], br = b[r];
			b[k] = r == pk ? br : bk;
			b[r] = r == pk ? bk : br;
		}
		CUBIE_LU_UNROLL
		for (int r = k + 1; r < n; r++)
			b[r] -= A[r * n + k] * b[k];
	}
	CUBIE_LU_UNROLL
	for (int k = n - 1; k >= 0; k--) {
		cubie_real s = b[k];
		CUBIE_LU_UNROLL
		for (int j = k + 1; j < n; j++)
			s -= A[k * n + j] * b[j];
		b[k] = s / A[k * n + k];
	}
}

/* The same over complex numbers held as real and imaginary parts (Radau's
 * complex pair); pivots by |re| + |im|. */
CUBIE_DEV int cubie_lu_c(cubie_real *Ar, cubie_real *Ai, int *piv)
{
	const int n = CUBIE_LU_N;
	CUBIE_LU_UNROLL
	for (int k = 0; k < n; k++) {
		cubie_real best;
		const int pr = cubie_lu_pivot(Ar, Ai, k, &best);
		piv[k] = pr;
		if (!(best > 0) || !isfinite(best))
			return CUBIE_STATUS_SINGULAR;
		CUBIE_LU_UNROLL
		for (int r = k + 1; r < n; r++)
			if (r == pr) {
				CUBIE_LU_UNROLL
				for (int j = k; j < n; j++) {
					cubie_real x = Ar[k * n + j];
					Ar[k * n + j] = Ar[r * n + j];
					Ar[r * n + j] = x;
					x = Ai[k * n + j];
					Ai[k * n + j] = Ai[r * n + j];
					Ai[r * n + j] = x;
				}
			}
		const cubie_real pr_ = Ar[k * n + k], pi_ = Ai[k * n + k];
		const cubie_real m = CUBIE_R(1) / (pr_ * pr_ + pi_ * pi_);
		const cubie_real ir = pr_ * m, ii = -pi_ * m; /* 1 / pivot */
		CUBIE_LU_UNROLL
		for (int r = k + 1; r < n; r++) {
			const cubie_real ar = Ar[r * n + k], ai = Ai[r * n + k];
			const cubie_real lr = ar * ir - ai * ii, li = ar * ii + ai * ir;
			Ar[r * n + k] = lr;
			Ai[r * n + k] = li;
			CUBIE_LU_UNROLL
			for (int j = k + 1; j < n; j++) {
				const cubie_real ur = Ar[k * n + j], ui = Ai[k * n + j];
				Ar[r * n + j] -= lr * ur - li * ui;
				Ai[r * n + j] -= lr * ui + li * ur;
			}
		}
	}
	return 0;
}

CUBIE_DEV void cubie_lu_solve_c(const cubie_real *Ar, const cubie_real *Ai, const int *piv,
                                cubie_real *br, cubie_real *bi)
{
	const int n = CUBIE_LU_N;
	CUBIE_LU_UNROLL
	for (int k = 0; k < n; k++) {
		const int pk = piv[k]; /* swaps as selects, as in cubie_lu_solve */
		CUBIE_LU_UNROLL
		for (int r = k + 1; r < n; r++) {
			const cubie_real rk = br[k], rr = br[r], ik = bi[k], ir = bi[r];
			br[k] = r == pk ? rr : rk;
			br[r] = r == pk ? rk : rr;
			bi[k] = r == pk ? ir : ik;
			bi[r] = r == pk ? ik : ir;
		}
		CUBIE_LU_UNROLL
		for (int r = k + 1; r < n; r++) {
			const cubie_real lr = Ar[r * n + k], li = Ai[r * n + k];
			br[r] -= lr * br[k] - li * bi[k];
			bi[r] -= lr * bi[k] + li * br[k];
		}
	}
	CUBIE_LU_UNROLL
	for (int k = n - 1; k >= 0; k--) {
		cubie_real sr = br[k], si = bi[k];
		CUBIE_LU_UNROLL
		for (int j = k + 1; j < n; j++) {
			const cubie_real ur = Ar[k * n + j], ui = Ai[k * n + j];
			sr -= ur * br[j] - ui * bi[j];
			si -= ur * bi[j] + ui * br[j];
		}
		const cubie_real pr_ = Ar[k * n + k], pi_ = Ai[k * n + k];
		const cubie_real m = CUBIE_R(1) / (pr_ * pr_ + pi_ * pi_);
		br[k] = (sr * pr_ + si * pi_) * m;
		bi[k] = (si * pr_ - sr * pi_) * m;
	}
}
#endif
