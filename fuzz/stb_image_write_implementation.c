// The fuzz build's stb_image_write (see stb_image_implementation.c). It
// writes nib's own charts and images, never reads a file, and is compiled
// without UBSan's shift-base check: its JPEG bit writer shifts bits into an
// int's sign bit by design (stb_image_write.h, stbiw__jpg_writeBits: "left
// shift of 16568576 by 8 places cannot be represented in type 'int'", hit by
// the sanitized unit tests), undefined in C, harmless with every compiler nib
// supports, and not nib's code to fix.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
