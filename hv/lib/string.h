/* Freestanding string and memory routines.
 *
 * The prototypes match the C library's so the same callers build for the
 * host (unit tests link libc's versions) and for hv.efi (string.c). */
#ifndef HV_LIB_STRING_H
#define HV_LIB_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

/* Copies at most size-1 bytes and always terminates (when size > 0).
 * Returns strlen(src) so callers can detect truncation. */
size_t str_copy(char *dst, const char *src, size_t size);

#endif
