/* Built without MPI: every process is a job of one rank (see ranks.h). */
#include "config.h"
#include "ranks.h"

int mpi_size(void)
{
	return 1;
}

int mpi_gpu(int gpu)
{
	return gpu;
}

int mpi_threads(int threads)
{
	return threads;
}

int mpi_solve_write(cubie_solver *s, const struct plugin *wp, const char *path,
                    cubie_result **summary, cubie_error *e)
{
	return cb_fail(e, CUBIE_ERR_RUNTIME, "cubie was built without MPI");
}

void mpi_report_unfinished(void)
{
}
