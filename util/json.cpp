#include "util/json.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <unordered_set>

#include "util/error.h"

namespace nib::json {

// ---- The value type ------------------------------------------------------------

const char* type_name(Type type) {
  switch (type) {
    case Type::Null: return "null";
    case Type::Bool: return "a boolean";
    case Type::Number: return "a number";
    case Type::String: return "a string";
    case Type::Array: return "an array";
    case Type::Object: return "an object";
  }
  return "?";
}

namespace {

// Whole numbers up to 2^53 are exactly representable in a double.
constexpr double kMaxExactInteger = 9007199254740992.0;

void expect_type(const Value& v, Type wanted) {
  NIB_CHECK(v.type() == wanted, "JSON: expected ", type_name(wanted), ", got ", type_name(v.type()));
}

}  // namespace

bool Value::as_bool() const {
  expect_type(*this, Type::Bool);
  return std::get<bool>(data_);
}

double Value::as_number() const {
  expect_type(*this, Type::Number);
  return std::get<double>(data_);
}

int64_t Value::as_int() const {
  double n = as_number();
  NIB_CHECK(n == std::trunc(n) && std::fabs(n) <= kMaxExactInteger, "JSON: expected a whole number, got ",
            dump(*this));
  return static_cast<int64_t>(n);
}

const std::string& Value::as_string() const {
  expect_type(*this, Type::String);
  return std::get<std::string>(data_);
}

const Array& Value::as_array() const {
  expect_type(*this, Type::Array);
  return std::get<Array>(data_);
}

Array& Value::as_array() {
  expect_type(*this, Type::Array);
  return std::get<Array>(data_);
}

const Object& Value::as_object() const {
  expect_type(*this, Type::Object);
  return std::get<Object>(data_);
}

Object& Value::as_object() {
  expect_type(*this, Type::Object);
  return std::get<Object>(data_);
}

// Linear search: nib's objects are small, and a vector keeps the key order.
const Value* Value::find(std::string_view key) const {
  for (const auto& [k, v] : as_object())
    if (k == key) return &v;
  return nullptr;
}

const Value& Value::at(std::string_view key) const {
  const Value* v = find(key);
  NIB_CHECK(v != nullptr, "JSON: no key \"", key, "\" in the object");
  return *v;
}

Value& Value::operator[](std::string_view key) {
  if (is_null()) data_ = Object{};
  Object& members = as_object();
  for (auto& [k, v] : members)
    if (k == key) return v;
  members.emplace_back(std::string(key), Value());
  return members.back().second;
}

const Value& Value::at(size_t index) const {
  const Array& items = as_array();
  NIB_CHECK(index < items.size(), "JSON: index ", index, " out of range for an array of ", items.size());
  return items[index];
}

void Value::push_back(Value v) {
  if (is_null()) data_ = Array{};
  as_array().push_back(std::move(v));
}

size_t Value::size() const { return is_array() ? as_array().size() : as_object().size(); }

// ---- The parser ------------------------------------------------------------------

namespace {

// Deep enough for any real file; stops hostile input (a million '[') from
// overflowing the stack of this recursive parser.
constexpr int kMaxDepth = 512;

class Parser {
 public:
  Parser(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  Value document() {
    skip_whitespace();
    Value v = value(0);
    skip_whitespace();
    if (pos_ != text_.size()) error("the end of the input after the value");
    return v;
  }

 private:
  [[noreturn]] void error(const std::string& expected) const {
    fail(source_, ": at byte ", pos_, ": expected ", expected, ", got ", what_is_here());
  }

  std::string what_is_here() const {
    if (pos_ >= text_.size()) return "the end of the input";
    unsigned char c = static_cast<unsigned char>(text_[pos_]);
    if (c >= 0x20 && c < 0x7f) return str("'", static_cast<char>(c), "'");
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", c);
    return str("byte ", hex);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  // '\0' at the end, which matches nothing the grammar looks for.
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_whitespace() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
  }

  void expect(char c, const char* what) {
    if (peek() != c) error(what);
    ++pos_;
  }

  Value value(int depth) {
    if (depth > kMaxDepth) fail(source_, ": at byte ", pos_, ": nesting deeper than ", kMaxDepth, " levels");
    switch (peek()) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': return Value(string());
      case 't': literal("true"); return Value(true);
      case 'f': literal("false"); return Value(false);
      case 'n': literal("null"); return Value();
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return Value(number());
        error("a value (object, array, string, number, true, false or null)");
    }
  }

  void literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) error(str("'", word, "'"));
    pos_ += word.size();
  }

  Value object(int depth) {
    ++pos_;  // '{'
    Object members;
    std::unordered_set<std::string> seen;
    skip_whitespace();
    if (peek() == '}') {
      ++pos_;
      return Value(std::move(members));
    }
    while (true) {
      skip_whitespace();
      size_t key_at = pos_;
      if (peek() != '"') error("a string key");
      std::string key = string();
      if (!seen.insert(key).second) fail(source_, ": at byte ", key_at, ": duplicate key \"", key, "\"");
      skip_whitespace();
      expect(':', "':' after an object key");
      skip_whitespace();
      Value v = value(depth + 1);
      members.emplace_back(std::move(key), std::move(v));
      skip_whitespace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}', "',' or '}' after an object member");
      return Value(std::move(members));
    }
  }

  Value array(int depth) {
    ++pos_;  // '['
    Array items;
    skip_whitespace();
    if (peek() == ']') {
      ++pos_;
      return Value(std::move(items));
    }
    while (true) {
      skip_whitespace();
      items.push_back(value(depth + 1));
      skip_whitespace();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect(']', "',' or ']' after an array element");
      return Value(std::move(items));
    }
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? checked by hand (from_chars
  // alone would accept "01" or "1."), then converted by from_chars.
  double number() {
    size_t start = pos_;
    auto digits = [&](const char* what) {
      if (!std::isdigit(static_cast<unsigned char>(peek()))) error(what);
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
    };
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
      if (std::isdigit(static_cast<unsigned char>(peek()))) error("'.', 'e' or the end of the number (no leading zeros)");
    } else {
      digits("a digit");
    }
    if (peek() == '.') {
      ++pos_;
      digits("a digit after the decimal point");
    }
    if ((peek() == 'e' || peek() == 'E')) {
      ++pos_;
      if ((peek() == '+' || peek() == '-')) ++pos_;
      digits("a digit in the exponent");
    }
    double n = 0.0;
    auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, n);
    if (ec != std::errc() || end != text_.data() + pos_ || !std::isfinite(n))
      fail(source_, ": at byte ", start, ": number ", text_.substr(start, pos_ - start), " is out of range");
    return n;
  }

  std::string string() {
    ++pos_;  // '"'
    std::string out;
    while (true) {
      if (at_end()) error("'\"' to close the string");
      unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) error("a character (control characters must be escaped in strings)");
      if (c == '\\') {
        escape(out);
      } else if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
      } else {
        utf8_sequence(out);
      }
    }
  }

  void escape(std::string& out) {
    ++pos_;  // '\'
    char c = peek();
    if (at_end()) error("an escape character");
    ++pos_;
    switch (c) {
      case '"': out += '"'; return;
      case '\\': out += '\\'; return;
      case '/': out += '/'; return;
      case 'b': out += '\b'; return;
      case 'f': out += '\f'; return;
      case 'n': out += '\n'; return;
      case 'r': out += '\r'; return;
      case 't': out += '\t'; return;
      case 'u': break;
      default: --pos_; error("one of \" \\ / b f n r t u after '\\'");
    }
    uint32_t code = hex4();
    if (code >= 0xDC00 && code <= 0xDFFF) error("a high surrogate before a low surrogate \\u" + hex_of(code));
    if (code >= 0xD800 && code <= 0xDBFF) {
      // A character beyond the Basic Multilingual Plane comes as a surrogate pair.
      if (text_.substr(pos_, 2) != "\\u") error("a low surrogate (\\uDC00-\\uDFFF) after a high surrogate");
      pos_ += 2;
      uint32_t low = hex4();
      if (low < 0xDC00 || low > 0xDFFF) error("a low surrogate (\\uDC00-\\uDFFF) after a high surrogate");
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, code);
  }

  static std::string hex_of(uint32_t code) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04X", code);
    return buf;
  }

  uint32_t hex4() {
    uint32_t code = 0;
    for (int i = 0; i < 4; ++i) {
      char c = peek();
      int digit = (c >= '0' && c <= '9') ? c - '0'
                  : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                  : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                           : -1;
      if (digit < 0) error("4 hex digits after \\u");
      code = code * 16 + static_cast<uint32_t>(digit);
      ++pos_;
    }
    return code;
  }

  static void append_utf8(std::string& out, uint32_t code) {
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  // Copies one multi-byte UTF-8 character, checking its shape: a lead byte
  // 110xxxxx / 1110xxxx / 11110xxx followed by that many 10xxxxxx bytes.
  void utf8_sequence(std::string& out) {
    unsigned char lead = static_cast<unsigned char>(text_[pos_]);
    int extra = (lead & 0xE0) == 0xC0 ? 1 : (lead & 0xF0) == 0xE0 ? 2 : (lead & 0xF8) == 0xF0 ? 3 : -1;
    if (extra < 0) error("valid UTF-8 in a string");
    for (int i = 1; i <= extra; ++i) {
      if (pos_ + i >= text_.size() || (static_cast<unsigned char>(text_[pos_ + i]) & 0xC0) != 0x80) {
        pos_ += i;
        error("a UTF-8 continuation byte");
      }
    }
    out.append(text_.substr(pos_, extra + 1));
    pos_ += extra + 1;
  }

  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
};

}  // namespace

Value parse(std::string_view text, const std::string& source) { return Parser(text, source).document(); }

// ---- The writer ------------------------------------------------------------------

namespace {

void write_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);  // UTF-8 passes through unchanged
        }
    }
  }
  out += '"';
}

void write_number(std::string& out, double n) {
  NIB_CHECK(std::isfinite(n), "JSON: cannot write ", n, " (JSON has no NaN or infinity)");
  char buf[32];
  std::to_chars_result r;
  if (n == std::trunc(n) && std::fabs(n) <= kMaxExactInteger)
    r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(n));
  else
    r = std::to_chars(buf, buf + sizeof buf, n);  // shortest text that reads back as the same double
  out.append(buf, r.ptr);
}

void write_value(std::string& out, const Value& v, int indent, int level) {
  // Between elements: nothing when compact, else a newline and the indent.
  auto newline = [&](int at_level) {
    if (indent < 0) return;
    out += '\n';
    out.append(static_cast<size_t>(indent * at_level), ' ');
  };
  switch (v.type()) {
    case Type::Null: out += "null"; break;
    case Type::Bool: out += v.as_bool() ? "true" : "false"; break;
    case Type::Number: write_number(out, v.as_number()); break;
    case Type::String: write_string(out, v.as_string()); break;
    case Type::Array: {
      const Array& items = v.as_array();
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ',';
        newline(level + 1);
        write_value(out, items[i], indent, level + 1);
      }
      if (!items.empty()) newline(level);
      out += ']';
      break;
    }
    case Type::Object: {
      const Object& members = v.as_object();
      out += '{';
      for (size_t i = 0; i < members.size(); ++i) {
        if (i) out += ',';
        newline(level + 1);
        write_string(out, members[i].first);
        out += indent < 0 ? ":" : ": ";
        write_value(out, members[i].second, indent, level + 1);
      }
      if (!members.empty()) newline(level);
      out += '}';
      break;
    }
  }
}

}  // namespace

std::string dump(const Value& value, int indent) {
  std::string out;
  write_value(out, value, indent, 0);
  return out;
}

}  // namespace nib::json
