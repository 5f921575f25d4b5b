/*
 * The text screen behind the VGA and framebuffer consoles
 * (drivers/screen.c), with a recording device: text lands in the grid and
 * is drawn only by screen_sync, within its budget, cell by differing cell;
 * lines wrap and scroll (by a jump, or by the device's own scrolling);
 * each line's colour comes from its log level.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "hv/screen.h"

#define COLS 16
#define ROWS 4

static struct screen scr;
static uint16_t grid[COLS * ROWS], shown[COLS * ROWS];
static uint16_t device[COLS * ROWS];    /* what the fake device shows */
static unsigned int draws, hw_scrolls;
static bool hw_ok;

static void draw(void *dev, unsigned int row, unsigned int col, uint16_t cell)
{
	assert_ptr_equal(dev, device);
	assert_true(row < ROWS && col < COLS);
	device[row * COLS + col] = cell;
	draws++;
}

static bool hw_scroll(void *dev, unsigned int n)
{
	hw_scrolls++;
	if (!hw_ok)
		return false;
	memmove(device, device + n * COLS, (ROWS - n) * COLS * sizeof(*device));
	for (unsigned int i = (ROWS - n) * COLS; i < ROWS * COLS; i++)
		device[i] = 0xdead;     /* whatever the new rows held */
	return true;
}

static void setup(uint16_t scroll)
{
	screen_init(&scr, COLS, ROWS, scroll, grid, shown, draw, device);
	for (int i = 0; i < COLS * ROWS; i++)
		device[i] = SCREEN_BLANK;
	draws = hw_scrolls = 0;
}

static void put(const char *s)
{
	screen_put(&scr, s, strlen(s));
}

/* Row r of the device as text (attributes dropped). */
static const char *row_text(unsigned int r)
{
	static char buf[COLS + 1];
	int n = COLS;

	for (int c = 0; c < COLS; c++)
		buf[c] = (char)(device[r * COLS + c] & 0xff);
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return buf;
}

static uint8_t row_attr(unsigned int r)
{
	return (uint8_t)(device[r * COLS] >> 8);
}

static void text_is_drawn_only_by_sync(void **state)
{
	setup(1);
	put("hello\n");
	assert_int_equal(draws, 0);             /* put draws nothing */
	assert_true(screen_sync(&scr, 1000));
	assert_int_equal(draws, 5);             /* only the cells that changed */
	assert_string_equal(row_text(0), "hello");
	assert_true(screen_sync(&scr, 1000));   /* nothing left */
	assert_int_equal(draws, 5);
}

static void budget_is_honoured(void **state)
{
	setup(1);
	put("0123456789\n");
	assert_false(screen_sync(&scr, 4));
	assert_int_equal(draws, 4);
	assert_string_equal(row_text(0), "0123");
	assert_false(screen_sync(&scr, 4));
	assert_true(screen_sync(&scr, 4));
	assert_int_equal(draws, 10);
	assert_string_equal(row_text(0), "0123456789");
	/* A change left of where a pending sync stands is not missed. */
	setup(1);
	put("aaaa\nbbbb\ncccc\ndddd\n");
	assert_true(screen_sync(&scr, 1000));
	put("eeee\n");                          /* row 0 becomes cccc... */
	assert_false(screen_sync(&scr, 2));     /* ...drawn up to column 2 */
	put("ffff\n");                          /* and changes again from column 0 */
	assert_true(screen_sync(&scr, 1000));
	assert_string_equal(row_text(0), "dddd");
	assert_string_equal(row_text(2), "ffff");
}

static void wrap_tab_and_control_bytes(void **state)
{
	setup(1);
	put("0123456789abcdefXY\n");            /* 18 bytes on 16 columns */
	put("a\tb\x01\x7f\rc\n");
	assert_true(screen_sync(&scr, 1000));
	assert_string_equal(row_text(0), "0123456789abcdef");
	assert_string_equal(row_text(1), "XY");
	assert_string_equal(row_text(2), "a       bc");
	/* Exactly a row's width, then LF: no empty row between. */
	setup(1);
	put("0123456789abcdef\nnext\n");
	assert_true(screen_sync(&scr, 1000));
	assert_string_equal(row_text(1), "next");
}

static void jump_scroll_redraws_what_changed(void **state)
{
	setup(2);
	put("r0\nr1\nr2\nr3\n");                /* the 4th LF scrolls by 2 */
	assert_true(screen_sync(&scr, 1000));
	assert_string_equal(row_text(0), "r2");
	assert_string_equal(row_text(1), "r3");
	assert_string_equal(row_text(2), "");
	assert_string_equal(row_text(3), "");
	put("r4\n");
	assert_true(screen_sync(&scr, 1000));
	assert_string_equal(row_text(2), "r4");
	/* A burst: only the final picture is drawn. */
	draws = 0;
	for (int i = 0; i < 100; i++)
		put("xx\n");
	put("end\n");
	assert_true(screen_sync(&scr, 1000));
	assert_true(draws <= ROWS * COLS);
	assert_string_equal(row_text(0), "xx");
	assert_string_equal(row_text(1), "end");
}

static void device_scrolling(void **state)
{
	setup(1);
	screen_set_hw_scroll(&scr, hw_scroll);
	hw_ok = true;
	put("a\nb\nc\nd\n");
	assert_true(screen_sync(&scr, 1000));
	draws = 0;
	put("e\n");                             /* the device moves the picture */
	assert_int_equal(hw_scrolls, 2);
	assert_true(screen_sync(&scr, 1000));
	assert_string_equal(row_text(0), "c");
	assert_string_equal(row_text(2), "e");
	assert_string_equal(row_text(3), "");
	/* Only the new rows were drawn: "e" and the rows that came in blank. */
	assert_true(draws <= 2 * COLS);
	/* The device cannot (the end of its memory): everything is redrawn. */
	hw_ok = false;
	draws = 0;
	put("f\n");
	assert_true(screen_sync(&scr, 1000));
	assert_int_equal(draws, ROWS * COLS);
	assert_string_equal(row_text(0), "d");
	assert_string_equal(row_text(2), "f");
}

static void colour_from_level(void **state)
{
	static const struct { const char *line; uint8_t attr; } lines[] = {
		{ "[cpu0] hv: ready\n", SCREEN_ATTR_INFO },
		{ "[cpu1] error: x\n", SCREEN_ATTR_ERR },
		{ "[cpu12] warning: y\n", SCREEN_ATTR_WARN },
		{ "[cpu3] debug: z\n", SCREEN_ATTR_DEBUG },
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		assert_int_equal(screen_line_attr(lines[i].line, strlen(lines[i].line)),
				 lines[i].attr);
	assert_int_equal(screen_line_attr("root: hello\n", 12), SCREEN_ATTR_ROOT);
	assert_int_equal(screen_line_attr("[cpu", 4), SCREEN_ATTR_ROOT);
	assert_int_equal(screen_line_attr("[cpu0]x", 7), SCREEN_ATTR_ROOT);

	setup(1);
	put("[cpu0] error: a\n[cpu0] b\n");
	put("[cpu0] warning: c");               /* 17 bytes: wraps, keeps its colour */
	assert_true(screen_sync(&scr, 1000));
	assert_int_equal(row_attr(0), SCREEN_ATTR_ERR);
	assert_int_equal(row_attr(1), SCREEN_ATTR_INFO);
	assert_int_equal(row_attr(2), SCREEN_ATTR_WARN);
	assert_int_equal(row_attr(3), SCREEN_ATTR_WARN);
	assert_string_equal(row_text(2), "[cpu0] warning:");
	assert_string_equal(row_text(3), "c");
	setup(1);
	put("root: hi\n");
	assert_true(screen_sync(&scr, 1000));
	assert_int_equal(row_attr(0), SCREEN_ATTR_ROOT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_is_drawn_only_by_sync),
		cmocka_unit_test(budget_is_honoured),
		cmocka_unit_test(wrap_tab_and_control_bytes),
		cmocka_unit_test(jump_scroll_redraws_what_changed),
		cmocka_unit_test(device_scrolling),
		cmocka_unit_test(colour_from_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
