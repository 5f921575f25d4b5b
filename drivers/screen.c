/* The text screen behind the VGA and framebuffer consoles (hv/screen.h). */
#include "hv/screen.h"
#include "hv/compiler.h"
#include "hv/string.h"

static void mark(struct screen *s, uint16_t row)
{
	if (row <= s->dirty_lo) {
		s->dirty_lo = row;
		s->sync_col = 0;        /* cells left of where sync was may have changed */
	}
	if (row + 1 > s->dirty_hi)
		s->dirty_hi = row + 1;
}

static void fill(uint16_t *p, uint16_t v, size_t n)
{
	while (n--)
		*p++ = v;
}

/*
 * Both grids are rings of rows: scrolling moves where the top row is, not
 * the rows (a scroll costs a row, not a screen). Row r of the screen is
 * row (top + r) % rows of the array.
 */
static uint16_t *row_of(uint16_t *base, uint16_t top, const struct screen *s, unsigned int r)
{
	unsigned int phys = top + r;

	if (phys >= s->rows)
		phys -= s->rows;
	return base + (size_t)phys * s->cols;
}

static uint16_t *grid_row(struct screen *s, unsigned int r)
{
	return row_of(s->grid, s->grid_top, s, r);
}

static uint16_t *shown_row(struct screen *s, unsigned int r)
{
	return row_of(s->shown, s->shown_top, s, r);
}

void screen_init(struct screen *s, uint16_t cols, uint16_t rows, uint16_t scroll,
		 uint16_t *grid, uint16_t *shown,
		 void (*draw)(void *dev, unsigned int row, unsigned int col, uint16_t cell),
		 void *dev)
{
	memset(s, 0, sizeof(*s));
	s->cols = cols;
	s->rows = rows;
	s->scroll = scroll < 1 ? 1 : scroll > rows ? rows : scroll;
	s->grid = grid;
	s->shown = shown;
	s->draw = draw;
	s->dev = dev;
	s->attr = SCREEN_ATTR_INFO;
	s->line_start = true;
	s->dirty_lo = rows;
	fill(grid, SCREEN_BLANK, (size_t)rows * cols);
	fill(shown, SCREEN_BLANK, (size_t)rows * cols);
}

uint8_t screen_line_attr(const char *p, size_t n)
{
	static const struct { const char *tag; uint8_t attr; } tags[] = {
		{ "error: ", SCREEN_ATTR_ERR }, { "warning: ", SCREEN_ATTR_WARN },
		{ "debug: ", SCREEN_ATTR_DEBUG },
	};
	size_t i;

	if (n < 4 || memcmp(p, "[cpu", 4) != 0)
		return SCREEN_ATTR_ROOT;
	for (i = 4; i < n && i < 12 && p[i] != ']'; i++)
		;
	if (i + 2 > n || p[i] != ']' || p[i + 1] != ' ')
		return SCREEN_ATTR_ROOT;
	p += i + 2;
	n -= i + 2;
	for (i = 0; i < ARRAY_SIZE(tags); i++) {
		size_t len = strlen(tags[i].tag);

		if (n >= len && memcmp(p, tags[i].tag, len) == 0)
			return tags[i].attr;
	}
	return SCREEN_ATTR_INFO;
}

static void newline(struct screen *s)
{
	s->x = 0;
	if (++s->y < s->rows)
		return;
	/* Jump scroll: the grid moves now, the device catches up in screen_sync. */
	s->grid_top = (uint16_t)((s->grid_top + s->scroll) % s->rows);
	for (unsigned int r = s->rows - s->scroll; r < s->rows; r++)
		fill(grid_row(s, r), SCREEN_BLANK, s->cols);
	s->y = s->rows - s->scroll;
	if (s->hw_scroll && s->hw_scroll(s->dev, s->scroll)) {
		/* The device moved its picture too: what it shows moved along
		 * (rows still to draw moved up with it), and the rows it brought
		 * in are unknown. */
		s->shown_top = (uint16_t)((s->shown_top + s->scroll) % s->rows);
		for (unsigned int r = s->rows - s->scroll; r < s->rows; r++)
			fill(shown_row(s, r), SCREEN_UNKNOWN, s->cols);
		if (s->dirty_lo < s->dirty_hi) {
			s->dirty_lo = s->dirty_lo > s->scroll ? s->dirty_lo - s->scroll : 0;
			s->sync_col = 0;
		}
		mark(s, s->rows - s->scroll);
		mark(s, s->rows - 1);
		return;
	}
	if (s->hw_scroll)               /* it started over at its first page */
		fill(s->shown, SCREEN_UNKNOWN, (size_t)s->rows * s->cols);
	mark(s, 0);
	mark(s, s->rows - 1);
}

static void putc_grid(struct screen *s, uint8_t c)
{
	if (s->x >= s->cols)
		newline(s);             /* wrap */
	grid_row(s, s->y)[s->x++] = (uint16_t)(c | s->attr << 8);
	mark(s, s->y);
}

void screen_put(struct screen *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)p[i];

		if (s->line_start) {
			s->attr = screen_line_attr(p + i, n - i);
			s->line_start = false;
		}
		if (c == '\n') {
			newline(s);
			s->line_start = true;
		} else if (c == '\t') {
			do
				putc_grid(s, ' ');
			while (s->x % 8 && s->x < s->cols);
		} else if (c >= 0x20 && c != 0x7f) {
			putc_grid(s, c);
		}
	}
}

bool screen_sync(struct screen *s, uint32_t budget)
{
	while (s->dirty_lo < s->dirty_hi) {
		uint16_t *want = grid_row(s, s->dirty_lo), *have = shown_row(s, s->dirty_lo);

		for (; s->sync_col < s->cols; s->sync_col++) {
			uint16_t cell = want[s->sync_col];

			if (cell == have[s->sync_col])
				continue;
			if (!budget)
				return false;
			s->draw(s->dev, s->dirty_lo, s->sync_col, cell);
			have[s->sync_col] = cell;
			budget--;
		}
		s->sync_col = 0;
		s->dirty_lo++;
	}
	s->dirty_lo = s->rows;
	s->dirty_hi = 0;
	return true;
}
