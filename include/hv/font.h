/* The built-in bitmap font of the framebuffer console (drivers/font8x16.c). */
#ifndef HV_FONT_H
#define HV_FONT_H

#include "hv/types.h"

#define FONT_WIDTH      8
#define FONT_HEIGHT     16
#define FONT_FIRST      0x20            /* ' ' */
#define FONT_LAST       0x7e            /* '~' */
#define FONT_GLYPHS     (FONT_LAST - FONT_FIRST + 1)

/* Row r of a glyph is one byte, bit 7 the leftmost pixel. */
extern const uint8_t font8x16[FONT_GLYPHS][FONT_HEIGHT];

/* The glyph of byte c: printable ASCII as itself, anything else as '?'. */
static inline const uint8_t *font_glyph(uint8_t c)
{
	if (c < FONT_FIRST || c > FONT_LAST)
		c = '?';
	return font8x16[c - FONT_FIRST];
}

#endif
