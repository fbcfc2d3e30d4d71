// nib's built-in bitmap font: printable ASCII (32..126), 5 pixels wide and 9
// tall (7 above the baseline, 2 for descenders in g, j, p, q, y), drawn at an
// integer scale. A bitmap font keeps pictures free of any font library and
// makes them identical on every machine, which the tests rely on.
#pragma once

#include <array>
#include <cstdint>

namespace nib::viz::font {

inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphHeight = 9;  // rows 0..6 above the baseline, 7..8 below
inline constexpr int kCapHeight = 7;
inline constexpr int kAdvance = 6;       // glyph width + one column of spacing
inline constexpr int kLineHeight = 11;   // glyph height + two rows of spacing

// One glyph: row r is a bit mask, bit (4 - x) set when pixel x is ink.
using Glyph = std::array<uint8_t, kGlyphHeight>;

// The glyph for a character; characters outside 32..126 (including the bytes
// of UTF-8 sequences) get a hollow box so that they are visibly unsupported.
const Glyph& glyph(char c);

inline bool ink(const Glyph& g, int x, int y) { return (g[y] >> (kGlyphWidth - 1 - x)) & 1; }

}  // namespace nib::viz::font
