/*
 * The one formatter (lib/format.c) that the hypervisor, the root
 * partition's runtime (rt/) and the child runtime (tests/guest/crt)
 * compile: freestanding, no allocation, no state.
 */
#ifndef LIB_FORMAT_H
#define LIB_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

/* %d %i %u %x %X %p %s %c %%, the l/ll/z/h modifiers, field width (or *),
 * the '0' and '-' flags and a precision for %s. Always NUL-terminates
 * (size > 0); returns the length the whole output would have had. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
