/*
 * The VGA text screen (0xb8000, 80x25 as the BIOS or GRUB leaves it) as a
 * console: the log with each line coloured by its level, scrolling a line
 * at a time with the CRTC's start address (the picture moves, only the new
 * line is written). Only in text mode: a BIOS machine, or a multiboot2
 * framebuffer tag of the EGA text type.
 */
#ifndef HV_VGA_H
#define HV_VGA_H

#include "hv/console.h"
#include "hv/screen.h"

#define VGA_TEXT_BASE   0xb8000
#define VGA_MAX_COLS    132
#define VGA_MAX_ROWS    60

struct vga {
	volatile uint16_t *mem;         /* the text buffer */
	uint64_t phys;
	uint16_t cols, rows, stride;    /* stride: cells per line in memory */
	uint32_t origin;                /* the cell the screen starts at (CRTC start address) */
	uint32_t window;                /* cells the CRTC can start in; 0: no hardware scrolling */
	struct screen scr;
	uint16_t grid[VGA_MAX_COLS * VGA_MAX_ROWS];
	uint16_t shown[VGA_MAX_COLS * VGA_MAX_ROWS];
};

extern const struct console_ops vga_console_ops;

/* Is a VGA there in colour text mode? (The BIOS data area's video mode
 * is 2, 3 or 7 and the VGA's registers answer.) */
bool vga_text_present(void);
/* Check the geometry (pitch in bytes). 0, or -EINVAL with *why. */
int vga_setup(struct vga *v, uint64_t addr, uint32_t cols, uint32_t rows, uint32_t pitch,
	      const char **why);
/* Clear the screen, hide the cursor; the console starts at the top. */
void vga_start(struct vga *v);

#endif
