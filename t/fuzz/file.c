/* In-memory files for the fuzz harnesses (see fuzz.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fuzz.h"

int fuzz_file(const uint8_t *data, size_t size, char path[64], int *fd)
{
	*fd = memfd_create("cubie-fuzz", MFD_CLOEXEC);
	if (*fd < 0)
		return -1;
	for (size_t done = 0; done < size;) {
		ssize_t n = write(*fd, data + done, size - done);
		if (n <= 0) {
			close(*fd);
			return -1;
		}
		done += (size_t)n;
	}
	snprintf(path, 64, "/proc/self/fd/%d", *fd);
	return 0;
}
