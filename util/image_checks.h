// What nib checks in an image file before stb_image decodes it.
//
// stb_image is small and fast, and says of itself that it is not hardened
// against hostile files; nib links Debian's build of it (2.27), which fuzzing
// shows will write past a Huffman table on a crafted JPEG. nib cannot patch
// the library, so it refuses such files first:
//   - only PNG, JPEG and BMP files reach stb (told apart by their first
//     bytes; the formats nib's folders hold), not its other decoders (GIF,
//     PNM, TGA, PSD, HDR, PIC): fuzzing found a heap overflow in 2.27's
//     16-bit PNM path within seconds;
//   - PNG: every chunk fits in the file (stb allocates what a chunk's length
//     claims before reading it, so 100 bytes could ask for gigabytes), and
//     the first data chunk (IDAT) is not empty (stb copies it from a null
//     pointer: undefined behaviour, found by the fuzzer under UBSan);
//   - JPEG: every Huffman table (DHT) defines at most 256 codes and fits in
//     its segment (stb 2.27 trusts the counts and overruns its tables), and
//     every scan uses only tables defined before it (stb 2.27 decodes with an
//     undefined table's leftover memory and reads megabytes past its tables);
//   - BMP and JPEG: the file is long enough for the size its header gives
//     (stb decodes missing data as zeros, so 60 bytes could become 1 GB).
// Each refusal is a nib::Error naming the file and the problem.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nib {

// `bytes` is the whole file, `path` names it in errors. Also checks the size
// each format's header gives (PNG IHDR, JPEG SOF, BMP) against
// kMaxImagePixels, whether or not stb would read that header.
void check_image_file(std::string_view bytes, const std::string& path);

// width x height against kMaxImagePixels (util/image.h), as an error naming the file.
void check_image_size(uint64_t width, uint64_t height, const std::string& path);

}  // namespace nib
