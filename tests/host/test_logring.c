/*
 * The log ring (hv/logring.c): every byte from the first on until it is
 * full, then the oldest go and are counted (bytes and lines); reads by
 * position. And HC_LOG_READ through the hypercall layer (hv/hypercall.c)
 * over the host's ring (tests/host/host_console_stubs.c): the header, the
 * text, what it refuses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/errno.h"
#include "hv/guest_mem.h"
#include "hv/hypercall.h"
#include "hv/logring.h"
#include "hv/vm.h"
#include "host_console_stubs.h"

static char buf16[16];
static struct logring small = LOGRING_INIT(buf16);

static void reset(struct logring *r)
{
	r->head = 0;
	r->lines_dropped = 0;
}

static size_t rd(struct logring *r, uint64_t pos, char *out, size_t size, uint64_t *next,
		 uint64_t *dropped)
{
	size_t n = logring_read(r, pos, out, size, next, dropped);

	out[n] = '\0';
	return n;
}

static void from_the_first_line(void **state)
{
	char out[64];
	uint64_t next, dropped;

	reset(&small);
	logring_write(&small, "one\ntwo\n", 8);
	assert_int_equal(logring_tail(&small), 0);
	assert_int_equal(rd(&small, 0, out, sizeof(out) - 1, &next, &dropped), 8);
	assert_string_equal(out, "one\ntwo\n");
	assert_int_equal(next, 8);
	assert_int_equal(dropped, 0);
	/* From a position, and in pieces. */
	assert_int_equal(rd(&small, 4, out, 2, &next, &dropped), 2);
	assert_string_equal(out, "tw");
	assert_int_equal(next, 6);
	/* At the head: nothing; beyond it: nothing, next stays. */
	assert_int_equal(rd(&small, 8, out, 10, &next, &dropped), 0);
	assert_int_equal(next, 8);
	assert_int_equal(rd(&small, 50, out, 10, &next, &dropped), 0);
	assert_int_equal(next, 50);
	assert_int_equal(dropped, 0);
}

static void oldest_dropped_and_counted(void **state)
{
	char out[64];
	uint64_t next, dropped;

	reset(&small);
	logring_write(&small, "aaa\nbbb\nccc\n", 12);
	logring_write(&small, "ddd\neee\n", 8);         /* 20 bytes in a 16-byte ring */
	assert_int_equal(small.head, 20);
	assert_int_equal(logring_tail(&small), 4);
	assert_int_equal(small.lines_dropped, 1);       /* "aaa\n" went */
	assert_int_equal(rd(&small, 0, out, sizeof(out) - 1, &next, &dropped), 16);
	assert_int_equal(dropped, 4);
	assert_string_equal(out, "bbb\nccc\nddd\neee\n");
	assert_int_equal(next, 20);
	/* A reader that stopped at 6 missed nothing: 4..19 are all there. */
	assert_int_equal(rd(&small, 6, out, sizeof(out) - 1, &next, &dropped), 14);
	assert_int_equal(dropped, 0);
	assert_string_equal(out, "b\nccc\nddd\neee\n");
}

static void write_larger_than_the_ring(void **state)
{
	char out[64];
	uint64_t next, dropped;

	memset(buf16, '\n', sizeof(buf16));    /* stale bytes must not count */
	reset(&small);
	logring_write(&small, "x\n", 2);
	logring_write(&small, "0123456789\nabcdefghij\nKLMNOP\n", 29);
	assert_int_equal(small.head, 31);
	assert_int_equal(small.lines_dropped, 2);       /* "x", "0123456789" */
	assert_int_equal(rd(&small, 0, out, sizeof(out) - 1, &next, &dropped), 16);
	assert_int_equal(dropped, 15);
	assert_string_equal(out, "cdefghij\nKLMNOP\n");
	logring_write(&small, "0123456789abcdef", 16);     /* exactly the size */
	assert_int_equal(small.lines_dropped, 4);
	assert_int_equal(rd(&small, 0, out, sizeof(out) - 1, &next, &dropped), 16);
	assert_string_equal(out, "0123456789abcdef");
}

/* Wrapping many times keeps exactly the newest `size` bytes, and counts
 * every line end that went. */
static void many_wraps(void **state)
{
	static char big[4096], all[16384];
	struct logring r = LOGRING_INIT(big);
	char out[4097];
	uint64_t next, dropped, lost = 0;
	size_t n, len = 0;

	for (int i = 0; i < 1000; i++) {
		int k = snprintf(all + len, sizeof(all) - len, "line %d\n", i);

		logring_write(&r, all + len, (size_t)k);
		len += (size_t)k;
	}
	n = logring_read(&r, 0, out, sizeof(out) - 1, &next, &dropped);
	assert_int_equal(n, 4096);
	assert_int_equal(r.head, len);
	assert_int_equal(next, len);
	assert_int_equal(dropped, len - 4096);
	assert_memory_equal(out, all + len - 4096, 4096);
	for (size_t i = 0; i < len - 4096; i++)
		lost += all[i] == '\n';
	assert_int_equal(r.lines_dropped, lost);
}

/* -------------------------------------------------- HC_LOG_READ */

#define ROOT_RAM (1u << 20)
static uint8_t *root_ram;
static struct vcpu root_caller, child_caller;
static struct vm child_vm;

static int64_t hc(struct vcpu *caller, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct hypercall_regs r = { nr, { a0, a1, a2, 0 }, caller };

	return hypercall_dispatch(&r);
}

static int hc_setup(void **state)
{
	if (!root_ram)
		root_ram = aligned_alloc(4096, ROOT_RAM);
	root_mem_reset();
	assert_int_equal(root_mem_add((uint64_t)root_ram, ROOT_RAM), 0);
	root_vm.is_root = true;
	root_caller.vm = &root_vm;
	child_caller.vm = &child_vm;
	hypercall_uninstall();
	assert_int_equal(hypercall_install(), 0);
	hypercall_set_accepting(true);
	reset(&host_logring);
	return 0;
}

static void hc_log_read(void **state)
{
	struct hv_log_read *h = (struct hv_log_read *)root_ram;
	uint64_t buf = (uint64_t)root_ram;

	assert_int_equal(hc(&root_caller, HC_CHECK_CAP, HV_CAP_LOG, 0, 0), host_logring.size);
	logring_write(&host_logring, "[cpu0] hv: ready\n", 17);
	assert_int_equal(hc(&root_caller, HC_LOG_READ, buf, 4096, 0), 17);
	assert_int_equal(h->len, 17);
	assert_int_equal(h->next_position, 17);
	assert_int_equal(h->dropped, 0);
	assert_memory_equal(h->text, "[cpu0] hv: ready\n", 17);
	/* Only what fits after the header. */
	assert_int_equal(hc(&root_caller, HC_LOG_READ, buf, sizeof(*h) + 5, 0), 5);
	assert_int_equal(h->next_position, 5);
	assert_int_equal(hc(&root_caller, HC_LOG_READ, buf, sizeof(*h), 0), 0);
	/* At the end, past it. */
	assert_int_equal(hc(&root_caller, HC_LOG_READ, buf, 4096, 17), 0);
	assert_int_equal(h->next_position, 17);
	assert_int_equal(hc(&root_caller, HC_LOG_READ, buf, 4096, 18), -HV_EINVAL);
	/* Sizes, places and callers it refuses. */
	assert_int_equal(hc(&root_caller, HC_LOG_READ, buf, 4097, 0), -HV_EINVAL);
	assert_int_equal(hc(&root_caller, HC_LOG_READ, buf, sizeof(*h) - 1, 0), -HV_EINVAL);
	assert_int_equal(hc(&root_caller, HC_LOG_READ, buf + ROOT_RAM - 100, 4096, 0), -HV_EFAULT);
	assert_int_equal(hc(&root_caller, HC_LOG_READ, 0x1000, 4096, 0), -HV_EFAULT);
	assert_int_equal(hc(&child_caller, HC_LOG_READ, buf, 4096, 0), -HV_EPERM);
	assert_int_equal(hc(NULL, HC_LOG_READ, buf, 4096, 0), -HV_EPERM);
}

static void hc_log_read_after_wrap(void **state)
{
	struct hv_log_read *h = (struct hv_log_read *)root_ram;
	char line[32];
	uint64_t pos = 0, total = 0;
	int64_t n;

	for (int i = 0; i < 2000; i++) {
		int len = snprintf(line, sizeof(line), "[cpu0] line %d\n", i);

		logring_write(&host_logring, line, (size_t)len);
	}
	/* A reader starting at 0 learns what it missed, then reads the rest. */
	n = hc(&root_caller, HC_LOG_READ, (uint64_t)root_ram, 4096, 0);
	assert_true(n > 0);
	assert_int_equal(h->dropped, host_logring.head - host_logring.size);
	pos = h->next_position;
	total = (uint64_t)n;
	while ((n = hc(&root_caller, HC_LOG_READ, (uint64_t)root_ram, 4096, pos)) > 0) {
		assert_int_equal(h->dropped, 0);
		pos = h->next_position;
		total += (uint64_t)n;
	}
	assert_int_equal(n, 0);
	assert_int_equal(pos, host_logring.head);
	assert_int_equal(total, host_logring.size);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(from_the_first_line),
		cmocka_unit_test(oldest_dropped_and_counted),
		cmocka_unit_test(write_larger_than_the_ring),
		cmocka_unit_test(many_wraps),
		cmocka_unit_test_setup(hc_log_read, hc_setup),
		cmocka_unit_test_setup(hc_log_read_after_wrap, hc_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
