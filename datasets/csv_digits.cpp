#include "datasets/csv_digits.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <vector>

namespace nib::data {

namespace {

// Splits one CSV line on commas (the digit files never quote fields) and drops
// a trailing '\r' left by Windows line endings.
std::vector<std::string_view> split_fields(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fields;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A number in the file, with the place it came from for the error.
double parse_number(std::string_view field, const std::string& path, int64_t line, size_t column) {
  std::string_view text = trim(field);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  NIB_CHECK(ec == std::errc() && end == text.data() + text.size() && !text.empty(), path, ":", line, ": column ",
            column + 1, " is '", std::string(field), "', not a number");
  return value;
}

// The file's lines, without their '\n'. Unlike std::getline, it stops at
// kMaxCsvLineBytes: a file without newlines must not be read whole into one string.
class LineReader {
 public:
  LineReader(std::istream& in, const std::string& path) : in_(in), path_(path) {}

  // The next line into `line`; false at the end of the file.
  bool next(std::string& line) {
    line.clear();
    ++number_;
    while (true) {
      in_.getline(chunk_, sizeof chunk_);
      const size_t got = static_cast<size_t>(in_.gcount());  // with the '\n', when there was one
      if (!in_.fail()) {  // a '\n', or the end of a last line without one
        line.append(chunk_, in_.eof() ? got : got - 1);
        break;
      }
      line.append(chunk_, got);
      if (in_.eof()) {  // the end of the file
        if (line.empty()) return false;
        break;
      }
      in_.clear();  // the chunk filled up before the '\n': read on
      check_length(line);
    }
    check_length(line);
    return true;
  }
  int64_t number() const { return number_; }  // 1-based, of the line last read

 private:
  void check_length(const std::string& line) const {
    NIB_CHECK(line.size() <= kMaxCsvLineBytes, path_, ":", number_, ": the line is longer than ", kMaxCsvLineBytes,
              " bytes (nib's limit for one CSV row; is this a digit CSV?)");
  }

  std::istream& in_;
  const std::string& path_;
  char chunk_[1 << 16];
  int64_t number_ = 0;
};

}  // namespace

Dataset load_digits_csv(const std::string& path) {
  std::ifstream in(path);
  NIB_CHECK(in, "cannot open '", path, "' (missing file or no permission)");

  LineReader lines(in, path);
  std::string line;
  NIB_CHECK(lines.next(line), path, ": the file is empty (expected a header row)");
  // The header's fields point into its own copy: `line` is overwritten by every row.
  const std::string header_line = line;
  const std::vector<std::string_view> header = split_fields(header_line);
  const bool labelled = trim(header[0]) == "label";
  const size_t columns = header.size();
  const size_t pixels = columns - (labelled ? 1 : 0);
  const int side = static_cast<int>(std::lround(std::sqrt(static_cast<double>(pixels))));
  NIB_CHECK(pixels > 0 && static_cast<size_t>(side) * side == pixels, path,
            ":1: the header has ", columns, " columns; expected label,pixel0..pixel783 (785) or pixel0..pixel783 (784)");

  std::vector<float> values;
  std::vector<int32_t> labels;
  while (lines.next(line)) {
    const int64_t line_number = lines.number();
    if (trim(line).empty() || line == "\r") continue;  // blank lines (often the last one)
    std::vector<std::string_view> fields = split_fields(line);
    NIB_CHECK(fields.size() == columns, path, ":", line_number, ": ", fields.size(), " columns, but the header has ",
              columns);
    size_t column = 0;
    if (labelled) {
      double label = parse_number(fields[0], path, line_number, 0);
      NIB_CHECK(label >= 0 && label <= 9 && label == std::floor(label), path, ":", line_number, ": label ", label,
                " is not a digit 0..9");
      labels.push_back(static_cast<int32_t>(label));
      column = 1;
    }
    for (; column < columns; ++column) {
      double v = parse_number(fields[column], path, line_number, column);
      NIB_CHECK(v >= 0 && v <= 255, path, ":", line_number, ": column ", column + 1, " (",
                std::string(trim(header[column])), ") is ", v, ", outside 0..255");
      values.push_back(static_cast<float>(v / 255.0));
    }
  }
  const int64_t count = static_cast<int64_t>(values.size() / pixels);
  NIB_CHECK(count > 0, path, ": no images after the header");

  Dataset set;
  set.images = Tensor::from_vector(values, {count, 1, side, side});
  if (labelled) {
    set.labels = Tensor::empty({count}, kCPU, DType::I32);
    std::copy(labels.begin(), labels.end(), set.labels.data_as<int32_t>());
  }
  set.class_names = numbered_classes(10);
  set.source = path;
  return set;
}

}  // namespace nib::data
