/* Device source of the midpoint plugin, kept in a file of its own so that
 * editors and compilers see it as code: the Makefile turns it into the C
 * string midpoint_source (midpoint_device.inc) that midpoint.c hands to
 * cubie. The core compiles it into the kernel as C (cpu) and as CUDA C++
 * (NVRTC), so it is written in the subset both accept; compiler messages
 * name its lines "integrator midpoint:LINE". Check it for CUDA on any
 * machine with `cubie check model.ini --arch sm_90`. */
#define ERK_STAGES 2
#define ERK_A {{0, 0}, {0.5, 0}}
#define ERK_B {0, 1}
#define ERK_C {0, 0.5}
#include <cubie/device/erk.h>
