// JSON: a small value type, a strict parser and a writer.
//
// nib reads and writes a handful of JSON files: safetensors headers, run
// summaries (summary.json), benchmark results and class indexes such as
// Keras' imagenet_class_index.json. They need little, so this is a small,
// readable implementation rather than a dependency:
//
//   json::Value v = json::parse(text, "summary.json");
//   double lr = v.at("lr").as_number();
//   v["epochs"] = 10;
//   std::string s = json::dump(v, 2);   // pretty, 2-space indent; -1: compact
//
// Objects keep their keys in insertion (file) order, so a file that is read
// and written back keeps its layout. Numbers are doubles, which hold every
// integer up to 2^53 exactly (as_int() checks for that).
//
// The parser is strict (RFC 8259): no comments, trailing commas, NaN, single
// quotes or unescaped control characters, and — unlike the RFC, which only
// says keys SHOULD be unique — a repeated key in an object is an error, since
// in nib's files it is always a mistake. Errors throw nib::Error naming the
// source, the byte offset and what was expected there.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace nib::json {

class Value;
using Array = std::vector<Value>;
using Object = std::vector<std::pair<std::string, Value>>;  // in insertion order

enum class Type { Null, Bool, Number, String, Array, Object };
const char* type_name(Type type);  // "null", "a number", "an object", ... (for messages)

class Value {
 public:
  Value() = default;  // null
  Value(std::nullptr_t) {}
  Value(bool b) : data_(b) {}
  Value(double n) : data_(n) {}
  Value(int n) : data_(static_cast<double>(n)) {}
  Value(int64_t n) : data_(static_cast<double>(n)) {}
  Value(uint64_t n) : data_(static_cast<double>(n)) {}
  Value(const char* s) : data_(std::string(s)) {}
  Value(std::string s) : data_(std::move(s)) {}
  Value(Array a) : data_(std::move(a)) {}
  Value(Object o) : data_(std::move(o)) {}
  static Value array() { return Value(Array{}); }
  static Value object() { return Value(Object{}); }

  Type type() const { return static_cast<Type>(data_.index()); }
  bool is_null() const { return type() == Type::Null; }
  bool is_bool() const { return type() == Type::Bool; }
  bool is_number() const { return type() == Type::Number; }
  bool is_string() const { return type() == Type::String; }
  bool is_array() const { return type() == Type::Array; }
  bool is_object() const { return type() == Type::Object; }

  // Typed access; each throws nib::Error when the value has another type.
  bool as_bool() const;
  double as_number() const;
  int64_t as_int() const;  // also checks the number is a whole number within ±2^53
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  // Objects. find() returns nullptr when the key is absent; at() throws,
  // naming the key; operator[] inserts a null (and turns a null into an object).
  const Value* find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  const Value& at(std::string_view key) const;
  Value& operator[](std::string_view key);

  // Arrays. push_back turns a null into an array.
  const Value& at(size_t index) const;
  void push_back(Value v);

  size_t size() const;  // elements of an array or members of an object

  bool operator==(const Value&) const = default;

 private:
  // The order of the alternatives matches enum Type.
  std::variant<std::nullptr_t, bool, double, std::string, Array, Object> data_;
};

// Parses a whole document; anything but whitespace after the value is an error.
// `source` names the text in error messages ("summary.json", "header of x.safetensors").
Value parse(std::string_view text, const std::string& source = "JSON");

// Writes a value. indent < 0: compact, no spaces ({"a":[1,2]}). indent >= 0:
// one member per line, nested levels indented by `indent` spaces, ": " after
// keys (as Python's json.dumps(indent=n)). Whole numbers print without a
// fraction; other numbers print the shortest text that reads back exactly.
// NaN and infinities have no JSON form and throw.
std::string dump(const Value& value, int indent = -1);

}  // namespace nib::json
