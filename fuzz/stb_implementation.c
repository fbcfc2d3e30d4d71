// The fuzz build's stb_image and stb_image_write. Elsewhere nib links Debian's
// prebuilt libstb, which carries no sanitizer checks and no coverage, so the
// fuzzer would decode images blind; compiled here, stb's decoders are fuzzed
// like nib's own code. (Same header, same version: what libstb was built from.)
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
