/* Shared by the fuzz harnesses: text handed to the core as a file, without
 * touching the disk (a memfd named by /proc/self/fd/N). */
#ifndef CUBIE_T_FUZZ_H
#define CUBIE_T_FUZZ_H
#include <stddef.h>
#include <stdint.h>

/* Path of a fresh in-memory file holding data; close fd when done. */
int fuzz_file(const uint8_t *data, size_t size, char path[64], int *fd);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
#endif
