/* include/cubie/device/lu.h once more, for CUBIE_NSTATES states, each of
 * its functions named by LU_P (e.g. #define LU_P(x) lu3##x: lu3,
 * lu3_solve, ...); both are undefined after. No include guard: t/lu.c
 * includes it once per size. */
#define cubie_lu LU_P()
#define cubie_lu_solve LU_P(_solve)
#define cubie_lu_c LU_P(_c)
#define cubie_lu_solve_c LU_P(_solve_c)
#define cubie_lu_size LU_P(_size)
#define cubie_lu_pivot LU_P(_pivot)
#include <cubie/device/lu.h>
#undef CUBIE_DEVICE_LU_H
#undef CUBIE_LU_UNROLL
#undef CUBIE_NSTATES
#undef LU_P
#undef cubie_lu
#undef cubie_lu_solve
#undef cubie_lu_c
#undef cubie_lu_solve_c
#undef cubie_lu_size
#undef cubie_lu_pivot
