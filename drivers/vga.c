/*
 * VGA text console (hv/vga.h). The screen's cells are the VGA's own
 * format (character | attribute << 8), so drawing a cell is one store.
 */
#include "hv/vga.h"
#include "hv/errno.h"
#include <x86/cpu.h>

#define VGA_CRTC_INDEX  0x3d4
#define VGA_CRTC_DATA   0x3d5
#define VGA_MISC_READ   0x3cc
#define CRTC_CURSOR_START 0x0a
#define CRTC_START_HI   0x0c
#define CRTC_START_LO   0x0d
#define VGA_TEXT_CELLS  (32 * 1024 / 2) /* the 0xb8000-0xbffff window */
#define CURSOR_OFF      0x20
#define BDA_VIDEO_MODE  0x449

bool vga_text_present(void)
{
	const volatile uint8_t *bda = (const volatile uint8_t *)BDA_VIDEO_MODE;
	uint8_t mode;

	__asm__("" : "+r"(bda));        /* a fixed low address: not a NULL offset */
	mode = *bda & 0x7f;

	if (mode != 2 && mode != 3 && mode != 7)
		return false;
	return inb(VGA_MISC_READ) != 0xff;
}

static void vga_draw(void *dev, unsigned int row, unsigned int col, uint16_t cell)
{
	struct vga *v = dev;

	v->mem[v->origin + (size_t)row * v->stride + col] = cell;
}

static void set_origin(struct vga *v, uint32_t origin)
{
	v->origin = origin;
	outb(VGA_CRTC_INDEX, CRTC_START_HI);
	outb(VGA_CRTC_DATA, (uint8_t)(origin >> 8));
	outb(VGA_CRTC_INDEX, CRTC_START_LO);
	outb(VGA_CRTC_DATA, (uint8_t)origin);
}

/*
 * Scroll by moving the CRTC's start address down the 32 KiB text window
 * (a line costs its own cells, not the screen's); at the window's end,
 * start over at its top and let the screen redraw, once in ~8 screens.
 */
static bool vga_hw_scroll(void *dev, unsigned int n)
{
	struct vga *v = dev;
	uint32_t next = v->origin + n * v->stride;

	if (next + (uint32_t)v->rows * v->stride > v->window) {
		set_origin(v, 0);
		return false;
	}
	set_origin(v, next);
	return true;
}

int vga_setup(struct vga *v, uint64_t addr, uint32_t cols, uint32_t rows, uint32_t pitch,
	      const char **why)
{
	if (!cols || !rows || cols > VGA_MAX_COLS || rows > VGA_MAX_ROWS) {
		*why = "text mode size out of range (at most 132x60)";
		return -EINVAL;
	}
	if (pitch < cols * 2 || pitch % 2 || pitch > 2 * VGA_MAX_COLS) {
		*why = "bad text mode pitch";
		return -EINVAL;
	}
	v->phys = addr;
	v->mem = (volatile uint16_t *)(uintptr_t)addr;
	v->cols = (uint16_t)cols;
	v->rows = (uint16_t)rows;
	v->stride = (uint16_t)(pitch / 2);
	/* Hardware scrolling only in the standard window, where the CRTC
	 * start address counts cells from 0xb8000. */
	v->window = addr == VGA_TEXT_BASE ? VGA_TEXT_CELLS : 0;
	return 0;
}

void vga_start(struct vga *v)
{
	outb(VGA_CRTC_INDEX, CRTC_CURSOR_START);
	outb(VGA_CRTC_DATA, CURSOR_OFF);
	if (v->window)
		set_origin(v, 0);
	v->origin = 0;
	for (unsigned int r = 0; r < v->rows; r++)
		for (unsigned int c = 0; c < v->cols; c++)
			vga_draw(v, r, c, SCREEN_BLANK);
	screen_init(&v->scr, v->cols, v->rows, 1, v->grid, v->shown, vga_draw, v);
	if (v->window)
		screen_set_hw_scroll(&v->scr, vga_hw_scroll);
}

static int vga_con_start(struct console *c)
{
	vga_start(c->dev);
	return 0;
}

static size_t vga_write(struct console *c, const char *s, size_t n)
{
	struct vga *v = c->dev;

	screen_put(&v->scr, s, n);
	return n;
}

static bool vga_flush(struct console *c, uint32_t budget)
{
	struct vga *v = c->dev;

	return screen_sync(&v->scr, budget);
}

const struct console_ops vga_console_ops = {
	.kind = "vga",
	.start = vga_con_start,
	.write = vga_write,
	.flush = vga_flush,
};
