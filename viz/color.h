// Colours for nib's pictures: 8-bit RGB, a categorical palette for lines and
// bars (matplotlib's "tab10"), and a sequential colormap for heat maps
// (ColorBrewer's "Blues", the one sklearn uses for confusion matrices).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstddef>

namespace nib::viz {

struct Color {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Color&) const = default;
};

inline constexpr Color kWhite{255, 255, 255};
inline constexpr Color kBlack{0, 0, 0};
inline constexpr Color kDarkGray{64, 64, 64};
inline constexpr Color kGray{128, 128, 128};
inline constexpr Color kLightGray{225, 225, 225};
inline constexpr Color kGreen{44, 160, 44};  // tab10 green: "correct"
inline constexpr Color kRed{214, 39, 40};    // tab10 red: "wrong"

// "#1f77b4" -> Color; constexpr so palettes read like the hex codes people know.
constexpr Color hex(const char* code) {
  auto digit = [](char c) -> int { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  auto byte = [&](int i) { return static_cast<uint8_t>(digit(code[i]) * 16 + digit(code[i + 1])); };
  return Color{byte(1), byte(3), byte(5)};
}

// matplotlib's default cycle: ten colours that stay distinct for most readers.
inline constexpr std::array<Color, 10> kTab10 = {
    hex("#1f77b4"), hex("#ff7f0e"), hex("#2ca02c"), hex("#d62728"), hex("#9467bd"),
    hex("#8c564b"), hex("#e377c2"), hex("#7f7f7f"), hex("#bcbd22"), hex("#17becf")};

inline Color palette(size_t index) { return kTab10[index % kTab10.size()]; }

// Straight-line mix in RGB: t = 0 gives a, t = 1 gives b.
inline Color mix(Color a, Color b, double t) {
  t = std::clamp(t, 0.0, 1.0);
  auto channel = [t](uint8_t x, uint8_t y) {
    return static_cast<uint8_t>(std::lround(x + (static_cast<double>(y) - x) * t));
  };
  return Color{channel(a.r, b.r), channel(a.g, b.g), channel(a.b, b.b)};
}

// "Blues": white for 0, dark blue for 1, interpolated between nine anchors.
inline Color blues(double t) {
  static constexpr std::array<Color, 9> anchors = {
      hex("#f7fbff"), hex("#deebf7"), hex("#c6dbef"), hex("#9ecae1"), hex("#6baed6"),
      hex("#4292c6"), hex("#2171b5"), hex("#08519c"), hex("#08306b")};
  if (!(t > 0.0)) return anchors.front();  // also catches NaN
  if (t >= 1.0) return anchors.back();
  double position = t * (anchors.size() - 1);
  size_t i = static_cast<size_t>(position);
  return mix(anchors[i], anchors[i + 1], position - i);
}

// Perceived brightness in [0, 1] (Rec. 601 weights); text on a cell is white
// when the cell is darker than about 0.5, black otherwise.
inline double luminance(Color c) { return (0.299 * c.r + 0.587 * c.g + 0.114 * c.b) / 255.0; }
inline Color text_color_on(Color background) { return luminance(background) < 0.5 ? kWhite : kBlack; }

}  // namespace nib::viz
