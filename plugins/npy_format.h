/* The NumPy .npy format 1.0 header, shared by the npydir and npz writers
 * (each a plugin of its own, so this is a header of static functions). */
#ifndef CUBIE_PLUGINS_NPY_FORMAT_H
#define CUBIE_PLUGINS_NPY_FORMAT_H
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cubie/plugin.h>

/* Data go out in host byte order; the descr says which that is. */
static char npy_byte_order(void)
{
	const uint16_t one = 1;
	return *(const unsigned char *)&one ? '<' : '>';
}

static size_t npy_dtype_size(int dtype)
{
	return dtype == CUBIE_DTYPE_FLOAT64 ? 8 : dtype == CUBIE_DTYPE_FLOAT32 ||
	       dtype == CUBIE_DTYPE_INT32 ? 4 : 0;
}

/* descr: "f8", "f4", "i4" or "U<n>" (the byte order is prefixed). Magic,
 * version 1.0, header length, then the dict padded with spaces and a
 * newline so that the data start on a 64-byte boundary. Returns the
 * header's length, 0 when it does not fit in cap. */
static size_t npy_header(char *head, size_t cap, const char *descr, int ndim,
                         const size_t *shape)
{
	char dims[128];
	int len = snprintf(dims, sizeof dims, "(");
	for (int i = 0; i < ndim && len < (int)sizeof dims; i++)
		len += snprintf(dims + len, sizeof dims - (size_t)len, "%s%zu", i ? ", " : "",
		                shape[i]);
	if (len >= (int)sizeof dims - 3 || cap < 16)
		return 0;
	snprintf(dims + len, sizeof dims - (size_t)len, ndim == 1 ? ",)" : ")");
	int n = snprintf(head + 10, cap - 10,
	                 "{'descr': '%c%s', 'fortran_order': False, 'shape': %s, }",
	                 npy_byte_order(), descr, dims);
	size_t total = (10 + (size_t)n + 1 + 63) / 64 * 64;
	if (n < 0 || total > cap)
		return 0;
	memcpy(head, "\x93NUMPY\x01\x00", 8);
	head[8] = (char)((total - 10) & 0xff);
	head[9] = (char)((total - 10) >> 8);
	memset(head + 10 + n, ' ', total - 10 - (size_t)n - 1);
	head[total - 1] = '\n';
	return total;
}

static const char *npy_descr(int dtype)
{
	return dtype == CUBIE_DTYPE_FLOAT64 ? "f8" : dtype == CUBIE_DTYPE_FLOAT32 ? "f4" : "i4";
}
#endif
