// Grids of images with captions: samples with their predictions, or a
// retrieval query followed by its nearest neighbours.
#include <algorithm>

#include "util/error.h"
#include "viz/axes.h"
#include "viz/font.h"
#include "viz/plots.h"

namespace nib::viz {
namespace {

constexpr int kFrame = 3;        // frame thickness around each image
constexpr int kGap = 10;         // between cells
constexpr int kCaptionScale = 1;

// The image as a host view; `holder` keeps a host copy alive when needed.
ImageView view_of(const Tensor& image, size_t index, Tensor& holder) {
  NIB_CHECK(image.defined(), "image grid: item ", index, " has no image");
  NIB_CHECK(image.dtype() == DType::F32, "image grid: item ", index, " is not F32");
  NIB_CHECK(image.dim() == 2 || image.dim() == 3, "image grid: item ", index, " has shape ", image.shape(),
            ", expected [C, H, W] or [H, W]");
  holder = image.cpu();
  ImageView view;
  view.data = holder.data();
  view.channels = image.dim() == 3 ? static_cast<int>(image.size(0)) : 1;
  view.height = static_cast<int>(image.size(-2));
  view.width = static_cast<int>(image.size(-1));
  NIB_CHECK(view.channels == 1 || view.channels == 3, "image grid: item ", index, " has ", view.channels,
            " channels, expected 1 (gray) or 3 (RGB)");
  NIB_CHECK(view.height > 0 && view.width > 0, "image grid: item ", index, " is empty");
  return view;
}

}  // namespace

Canvas render_image_grid(const ImageGrid& grid) {
  NIB_CHECK(grid.columns > 0, "image grid '", grid.title, "': columns must be positive, got ", grid.columns);
  NIB_CHECK(grid.cell_size >= 8 && grid.cell_size <= 1024, "image grid '", grid.title, "': cell_size ",
            grid.cell_size, " is not in 8..1024");
  const int count = static_cast<int>(grid.items.size());
  const int columns = std::max(1, std::min(grid.columns, count));
  const int rows = (count + columns - 1) / columns;

  // A column is as wide as its image, or its captions up to twice that.
  size_t caption_lines = 0;
  int caption_width = 0;
  for (const GridItem& item : grid.items) {
    caption_lines = std::max(caption_lines, item.captions.size());
    for (const Caption& c : item.captions) caption_width = std::max(caption_width, measure_text(c.text, kCaptionScale).width);
  }
  const int framed = grid.cell_size + 2 * kFrame;
  const int column_width = std::clamp(caption_width, framed, 2 * framed);
  const int caption_height = caption_lines == 0 ? 0 : 4 + static_cast<int>(caption_lines) * font::kLineHeight * kCaptionScale;
  const int row_height = framed + caption_height;

  const int title_h = grid.title.empty() ? 0 : font::kGlyphHeight * Theme::kTitleScale + kGap;
  int width = kGap + columns * (column_width + kGap);
  width = std::max(width, measure_text(grid.title, Theme::kTitleScale).width + 2 * kGap);
  const int height = kGap + title_h + rows * (row_height + kGap);
  Canvas canvas(width, height);
  if (!grid.title.empty()) {
    canvas.draw_text(grid.title, width / 2, kGap, kBlack, TextStyle{Theme::kTitleScale, HAlign::Center});
  }

  for (int i = 0; i < count; ++i) {
    const GridItem& item = grid.items[i];
    int cx = kGap + (i % columns) * (column_width + kGap) + column_width / 2;  // centre of the column
    int top = kGap + title_h + (i / columns) * (row_height + kGap);
    Tensor holder;
    ImageView image = view_of(item.image, i, holder);
    // The longer side fills the cell; the aspect ratio is kept.
    int longer = std::max(image.width, image.height);
    int w = std::max(1, image.width * grid.cell_size / longer), h = std::max(1, image.height * grid.cell_size / longer);
    int x = cx - w / 2, y = top + kFrame + (grid.cell_size - h) / 2;
    // Enlarged images keep their pixels sharp (MNIST digits); reduced ones are smoothed.
    canvas.blit(image, x, y, w, h, longer <= grid.cell_size ? Resample::Nearest : Resample::Bilinear);
    if (item.frame) canvas.draw_rect(x - kFrame, y - kFrame, w + 2 * kFrame, h + 2 * kFrame, *item.frame, kFrame);
    for (size_t line = 0; line < item.captions.size(); ++line) {
      const Caption& caption = item.captions[line];
      canvas.draw_text(fit_text(caption.text, column_width, kCaptionScale), cx,
                       top + framed + 4 + static_cast<int>(line) * font::kLineHeight * kCaptionScale, caption.color,
                       TextStyle{kCaptionScale, HAlign::Center});
    }
  }
  return canvas;
}

void plot_image_grid(const ImageGrid& grid, const std::string& path) { render_image_grid(grid).save_png(path); }

}  // namespace nib::viz
