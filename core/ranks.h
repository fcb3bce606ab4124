/* The ranks of an MPI job (mpi.c; mpi_none.c when built without MPI,
 * where every process is a job of one). Named ranks.h, not mpi.h, so that
 * <mpi.h> still finds MPI's own header. */
#ifndef CUBIE_RANKS_H
#define CUBIE_RANKS_H
#include "solver.h"

/* Ranks in the job: 1 without MPI, and in a process not started by an MPI
 * launcher (mpirun, srun), which then behaves exactly as without MPI. The
 * first call initializes MPI when a launcher started the process. */
int mpi_size(void);
/* The GPU this rank uses: [device] gpu plus the rank's place on its host,
 * modulo the host's GPUs, so that ranks on one host take one GPU each. */
int mpi_gpu(int gpu);
/* cpu backend threads: "auto" (0) shares the host's cores among its ranks. */
int mpi_threads(int threads);
/* cubie_solve_write over the job's ranks: every rank solves blocks of runs
 * handed out by rank 0, which writes them to one output through wp and
 * commits it (one rename) only when every rank's blocks arrived. Rank 0
 * gets the summary; the other ranks *summary NULL and, on failure, the
 * code with an empty message (rank 0 reports it). */
int mpi_solve_write(cubie_solver *s, const struct plugin *wp, const char *path,
                    cubie_result **summary, cubie_error *e);
/* On a signal that ends the job (a rank died: the launcher stops the
 * others): rank 0 names the blocks of runs still in progress, and on
 * which ranks. Async-signal-safe. */
void mpi_report_unfinished(void);
#endif
