/* The log ring behind the host's console_log_* (host_console_stubs.c). */
#ifndef HOST_CONSOLE_STUBS_H
#define HOST_CONSOLE_STUBS_H

#include "hv/logring.h"

extern struct logring host_logring;

#endif
