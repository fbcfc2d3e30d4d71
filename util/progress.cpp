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

std::string format_bytes(int64_t bytes) {
  char buf[32];
  if (bytes >= 1000000)
    std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
  else if (bytes >= 1000)
    std::snprintf(buf, sizeof buf, "%.0f kB", bytes / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%lld bytes", static_cast<long long>(bytes));
  return buf;
}

namespace {

// "312/469" for steps; "4.5/9.9 MB" (or "12/29 kB") for bytes.
std::string format_count(int64_t done, int64_t total, ProgressUnit unit) {
  char buf[64];
  if (unit == ProgressUnit::Steps) {
    int digits = static_cast<int>(std::to_string(total).size());
    std::snprintf(buf, sizeof buf, "%*lld/%lld", digits, static_cast<long long>(done), static_cast<long long>(total));
  } else if (total >= 1000000) {
    std::snprintf(buf, sizeof buf, "%.1f/%.1f MB", done / 1e6, total / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f/%.0f kB", done / 1e3, total / 1e3);
  }
  return buf;
}

}  // namespace

ProgressBar::ProgressBar(int64_t total, std::string label, ProgressUnit unit, FILE* out)
    : total_(total),
      label_(std::move(label)),
      unit_(unit),
      out_(out),
      start_(std::chrono::steady_clock::now()),
      tty_(isatty(fileno(out))) {
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
  std::string head = format_count(done, total_, unit_) + " [" + bar + "] ";
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
    if (unit_ == ProgressUnit::Steps)
      std::snprintf(rate, sizeof rate, " - %.0f img/s", items_done / elapsed);
    else
      std::snprintf(rate, sizeof rate, " - %.1f MB/s", items_done / elapsed / 1e6);
    line += rate;
  }
  return line;
}

void ProgressBar::update(int64_t done, int64_t items_done, const std::vector<std::pair<std::string, double>>& values) {
  auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
    last_draw_ = now;
    std::fprintf(out_, "\r%s\033[K", render(done, items_done, values, false).c_str());
    std::fflush(out_);
  } else {
    int decile = total_ > 0 ? static_cast<int>(10 * done / total_) : 10;
    if (decile == last_decile_ || decile >= 10) return;
    last_decile_ = decile;
    std::fprintf(out_, "%s\n", render(done, items_done, values, false).c_str());
    std::fflush(out_);
  }
}

void ProgressBar::finish(const std::vector<std::pair<std::string, double>>& values, int64_t items_done) {
  std::fprintf(out_, tty_ ? "\r%s\033[K\n" : "%s\n", render(total_, items_done, values, true).c_str());
  std::fflush(out_);
}

}  // namespace nib
