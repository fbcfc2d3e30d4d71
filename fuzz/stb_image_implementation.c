// The fuzz build's stb_image. Elsewhere nib links Debian's prebuilt libstb,
// which carries no sanitizer checks and no coverage, so the fuzzer would
// decode images blind; compiled here, stb's decoders are fuzzed like nib's own
// code, with ASan and UBSan, less the few UBSan checks listed (with why) in
// stb_image_ubsan_ignore.txt. (Same header, same version: what libstb was
// built from.)
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
