// A Keras-style progress bar for long loops:
//
//   Epoch 3/6
//   312/469 [==================>...........] ETA 9s - loss 0.0412 - acc 0.9871 - 2534 img/s
//
// On a terminal the line is redrawn in place (at most ~10 times a second);
// when output goes to a file or a CI log, a line is printed every 10% instead,
// so logs stay short but still show that work is progressing.
//
// Downloads count bytes instead of steps, on stderr (stdout may be data, as
// with nib classify --json):
//
//   train-images-idx3-ubyte.gz 4.5/9.9 MB [=============>................] ETA 1.2s - 3.9 MB/s
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace nib {

// Steps: "312/469 ... - 2534 img/s" (items are images). Bytes: "4.5/9.9 MB ... - 3.9 MB/s".
enum class ProgressUnit { Steps, Bytes };

class ProgressBar {
 public:
  // `total` steps (or bytes), drawn on `out`.
  ProgressBar(int64_t total, std::string label = "", ProgressUnit unit = ProgressUnit::Steps, FILE* out = stdout);
  // Advance to `done` steps, with named values to show ("loss", 0.041).
  void update(int64_t done, int64_t items_done, const std::vector<std::pair<std::string, double>>& values);
  // Print the final line with the elapsed time; further text goes on new lines.
  void finish(const std::vector<std::pair<std::string, double>>& values, int64_t items_done);
  double elapsed_seconds() const;

 private:
  std::string render(int64_t done, int64_t items_done, const std::vector<std::pair<std::string, double>>& values,
                     bool final) const;
  int64_t total_;
  std::string label_;
  ProgressUnit unit_;
  FILE* out_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool tty_;
  int last_decile_ = -1;
};

// "1h02m", "3m05s", "12s", "0.4s"
std::string format_duration(double seconds);

// "553.4 MB", "35 kB", "812 bytes" (decimal units, as download sizes are given).
std::string format_bytes(int64_t bytes);

}  // namespace nib
