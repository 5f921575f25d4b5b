/*
 * A text screen: the character grid behind the VGA text and framebuffer
 * consoles. Text goes into the grid (RAM, cheap); screen_sync then draws
 * the cells that differ from what the device shows, a bounded number per
 * call, so a burst of lines or a scroll costs what changed on the screen,
 * not what was written. Each line's colour comes from its log level (the
 * "[cpuN] error: " prefix printk writes), the root's lines have their own.
 */
#ifndef HV_SCREEN_H
#define HV_SCREEN_H

#include "hv/types.h"

/* VGA attribute bytes (background << 4 | foreground), also the fb's palette indexes. */
#define SCREEN_ATTR_INFO        0x07    /* light grey */
#define SCREEN_ATTR_DEBUG       0x08    /* dark grey */
#define SCREEN_ATTR_WARN        0x0e    /* yellow */
#define SCREEN_ATTR_ERR         0x0c    /* light red */
#define SCREEN_ATTR_ROOT        0x0a    /* light green: the root partition's output */
#define SCREEN_BLANK            ((uint16_t)(' ' | SCREEN_ATTR_INFO << 8))
#define SCREEN_UNKNOWN          0xffff  /* a shown cell whose content is not known */

struct screen {
	uint16_t cols, rows;
	uint16_t x, y;                  /* where the next character goes */
	uint16_t scroll;                /* rows one scroll moves (jump scroll) */
	uint8_t attr;                   /* the current line's colour */
	bool line_start;
	uint16_t *grid;                 /* rows * cols cells, char | attr << 8 */
	uint16_t *shown;                /* what the device shows */
	uint16_t grid_top, shown_top;   /* the array rows that are screen row 0 */
	uint16_t dirty_lo, dirty_hi;    /* rows [lo, hi) may differ from shown */
	uint16_t sync_col;              /* screen_sync's place in row dirty_lo */
	/* Draw one cell on the device. */
	void (*draw)(void *dev, unsigned int row, unsigned int col, uint16_t cell);
	/* Optional: move the picture up n rows in the device itself (the
	 * VGA's start address); false when it cannot now. */
	bool (*hw_scroll)(void *dev, unsigned int n);
	void *dev;
};

/*
 * Set up a cols x rows screen over grid and shown (rows * cols cells
 * each), scrolling `scroll` rows at a time. The device is taken to show
 * blanks (clear it first).
 */
void screen_init(struct screen *s, uint16_t cols, uint16_t rows, uint16_t scroll,
		 uint16_t *grid, uint16_t *shown,
		 void (*draw)(void *dev, unsigned int row, unsigned int col, uint16_t cell),
		 void *dev);
/* A device that scrolls by itself (set after screen_init). */
static inline void screen_set_hw_scroll(struct screen *s, bool (*fn)(void *dev, unsigned int n))
{
	s->hw_scroll = fn;
}
/* Put s[0..n) into the grid: LF ends a line, TAB to the next multiple of
 * 8, other control bytes are dropped, long lines wrap. Draws nothing. */
void screen_put(struct screen *s, const char *p, size_t n);
/* Draw up to budget differing cells; true when the device shows the grid. */
bool screen_sync(struct screen *s, uint32_t budget);
/* The colour a line gets from its start (p[0..n) from a line start on). */
uint8_t screen_line_attr(const char *p, size_t n);

#endif
