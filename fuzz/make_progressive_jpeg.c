// The progressive JPEG seeds of the image fuzz target
// (fuzz/corpus/image/progressive.jpg, progressive_gray.jpg): 16x12 pixels,
// colour and gray, through libjpeg's simple progression (10 and 6 scans, each
// after its own Huffman tables), since stb_image_write only writes baseline
// files. Needs libjpeg62-turbo-dev; run from the repository root:
//   cc -o /tmp/make_progressive_jpeg fuzz/make_progressive_jpeg.c -ljpeg &&
//   /tmp/make_progressive_jpeg fuzz/corpus/image/progressive.jpg &&
//   /tmp/make_progressive_jpeg fuzz/corpus/image/progressive_gray.jpg gray
#include <stdio.h>
#include <jpeglib.h>
int main(int argc, char** argv) {
  const int width = 16, height = 12, components = argc > 2 ? 1 : 3;
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr errors;
  c.err = jpeg_std_error(&errors);
  jpeg_create_compress(&c);
  FILE* out = fopen(argv[1], "wb");
  if (!out) return 1;
  jpeg_stdio_dest(&c, out);
  c.image_width = width, c.image_height = height, c.input_components = components;
  c.in_color_space = components == 3 ? JCS_RGB : JCS_GRAYSCALE;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 90, TRUE);
  jpeg_simple_progression(&c);
  c.optimize_coding = TRUE;
  jpeg_start_compress(&c, TRUE);
  unsigned char row[16 * 3];
  while (c.next_scanline < (unsigned)height) {
    for (int x = 0; x < width * components; ++x) row[x] = (unsigned char)((x * 13 + c.next_scanline * 29) & 255);
    JSAMPROW rows = row;
    jpeg_write_scanlines(&c, &rows, 1);
  }
  jpeg_finish_compress(&c);
  fclose(out);
  jpeg_destroy_compress(&c);
  return 0;
}
