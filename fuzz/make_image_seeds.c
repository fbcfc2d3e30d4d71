// The JPEG seeds of the image fuzz target (fuzz/corpus/image/rgb.jpg, gray.jpg):
// an 8x8 bar, colour and gray, through stb_image_write. Run from the repository root:
//   cc -o /tmp/make_image_seeds fuzz/make_image_seeds.c -lm && /tmp/make_image_seeds fuzz/corpus/image/rgb.jpg fuzz/corpus/image/gray.jpg
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
int main(int argc, char** argv) {
  unsigned char px[8 * 8 * 3];
  for (int y = 0; y < 8; ++y) for (int x = 0; x < 8; ++x) for (int c = 0; c < 3; ++c)
    px[(y * 8 + x) * 3 + c] = (x >= 3 && x < 5 && y > 0 && y < 7) ? 255 : 0;
  stbi_write_jpg(argv[1], 8, 8, 3, px, 90);
  unsigned char g[8 * 8];
  for (int i = 0; i < 64; ++i) g[i] = px[i * 3];
  stbi_write_jpg(argv[2], 8, 8, 1, g, 90);
  return 0;
}
