#include "util/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace nib {

std::string format_duration(double s) {
  char buf[32];
  if (s < 10)
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  else if (s < 60)
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(s) / 3600, (static_cast<int>(s) % 3600) / 60);
  return buf;
}

ProgressBar::ProgressBar(int64_t total, std::string label)
    : total_(total), label_(std::move(label)), start_(std::chrono::steady_clock::now()), tty_(isatty(STDOUT_FILENO)) {
  last_draw_ = start_ - std::chrono::seconds(1);
}

double ProgressBar::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressBar::render(int64_t done, int64_t items_done,
                                const std::vector<std::pair<std::string, double>>& values, bool final) const {
  constexpr int kWidth = 30;
  double fraction = total_ > 0 ? static_cast<double>(done) / total_ : 1.0;
  int filled = static_cast<int>(fraction * kWidth);
  std::string bar(kWidth, '.');
  for (int i = 0; i < filled && i < kWidth; ++i) bar[i] = '=';
  if (filled < kWidth && !final) bar[filled] = '>';

  double elapsed = elapsed_seconds();
  char head[128];
  int digits = static_cast<int>(std::to_string(total_).size());
  std::snprintf(head, sizeof head, "%*lld/%lld [%s] ", digits, static_cast<long long>(done),
                static_cast<long long>(total_), bar.c_str());
  std::string line = label_.empty() ? head : label_ + " " + head;
  if (final)
    line += format_duration(elapsed);
  else if (done > 0)
    line += "ETA " + format_duration(elapsed / done * (total_ - done));
  for (const auto& [name, value] : values) {
    char item[64];
    std::snprintf(item, sizeof item, " - %s %.4f", name.c_str(), value);
    line += item;
  }
  if (elapsed > 0 && items_done > 0) {
    char rate[48];
    std::snprintf(rate, sizeof rate, " - %.0f img/s", items_done / elapsed);
    line += rate;
  }
  return line;
}

void ProgressBar::update(int64_t done, int64_t items_done, const std::vector<std::pair<std::string, double>>& values) {
  auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
    last_draw_ = now;
    std::printf("\r%s\033[K", render(done, items_done, values, false).c_str());
    std::fflush(stdout);
  } else {
    int decile = total_ > 0 ? static_cast<int>(10 * done / total_) : 10;
    if (decile == last_decile_ || decile >= 10) return;
    last_decile_ = decile;
    std::printf("%s\n", render(done, items_done, values, false).c_str());
    std::fflush(stdout);
  }
}

void ProgressBar::finish(const std::vector<std::pair<std::string, double>>& values, int64_t items_done) {
  std::printf(tty_ ? "\r%s\033[K\n" : "%s\n", render(total_, items_done, values, true).c_str());
  std::fflush(stdout);
}

}  // namespace nib
