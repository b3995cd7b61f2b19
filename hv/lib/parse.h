/* Strict parsers for numbers and sizes typed by people or read from config.
 * All return false (and leave *out untouched) on any malformed input: empty
 * strings, trailing junk, overflow. */
#ifndef HV_LIB_PARSE_H
#define HV_LIB_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* A digit's value in bases up to 16 (99 for anything else). */
int parse_digit_value(char c);
/* A hexadecimal digit's value, or -1. */
int parse_hex_digit(char c);

/* Decimal, or hexadecimal with a 0x prefix. */
bool parse_u64(const char *s, uint64_t *out);

/* A byte count with an optional binary suffix: K, M, G, T (case-insensitive,
 * optionally followed by "iB" or "B"), e.g. "64M", "1GiB", "4096". */
bool parse_size(const char *s, uint64_t *out);

/* An IPv4 dotted quad, result in host byte order. */
bool parse_ipv4(const char *s, uint32_t *out);

#endif
