// JSON: parsing, strictness, error messages and writing.
#include <doctest/doctest.h>

#include <cmath>

#include "tests/helpers.h"
#include "tests/shared_data.h"
#include "util/error.h"
#include "util/files.h"
#include "util/json.h"

using namespace nib;

namespace {

// The message of the nib::Error that parsing `text` throws.
std::string parse_error(const std::string& text) {
  return testing::error_of([&] { json::parse(text, "test.json"); });
}

}  // namespace

TEST_CASE("json: parses every kind of value") {
  json::Value v = json::parse(R"( {"n": null, "t": true, "f": false, "i": -42, "x": 2.5e-3,
                                   "s": "a\"b\\c\/\n\u00e9\ud83d\ude00", "a": [1, [2], {}], "o": {"k": []}} )");
  CHECK(v.at("n").is_null());
  CHECK(v.at("t").as_bool());
  CHECK_FALSE(v.at("f").as_bool());
  CHECK(v.at("i").as_int() == -42);
  CHECK(v.at("x").as_number() == doctest::Approx(0.0025));
  CHECK(v.at("s").as_string() == "a\"b\\c/\n\xc3\xa9\xf0\x9f\x98\x80");  // é and 😀 in UTF-8
  CHECK(v.at("a").size() == 3);
  CHECK(v.at("a").at(1).at(0).as_int() == 2);
  CHECK(v.at("a").at(2).size() == 0);
  CHECK(v.at("o").at("k").is_array());
  CHECK(v.find("absent") == nullptr);
}

TEST_CASE("json: objects keep their key order") {
  json::Value v = json::parse(R"({"zebra": 1, "apple": 2, "mango": 3})");
  std::vector<std::string> keys;
  for (const auto& [k, value] : v.as_object()) keys.push_back(k);
  CHECK(keys == std::vector<std::string>{"zebra", "apple", "mango"});
  CHECK(json::dump(v) == R"({"zebra":1,"apple":2,"mango":3})");
}

TEST_CASE("json: errors give the byte offset and what was expected") {
  CHECK(parse_error(R"({"a": 1,})") == "test.json: at byte 8: expected a string key, got '}'");
  CHECK(parse_error("[1 2]") == "test.json: at byte 3: expected ',' or ']' after an array element, got '2'");
  CHECK(parse_error(R"({"a" 1})") == "test.json: at byte 5: expected ':' after an object key, got '1'");
  CHECK(parse_error("") ==
        "test.json: at byte 0: expected a value (object, array, string, number, true, false or null), got the end "
        "of the input");
  CHECK(parse_error("[1] x") == "test.json: at byte 4: expected the end of the input after the value, got 'x'");
  CHECK(parse_error(R"({"a": 1, "a": 2})") == "test.json: at byte 9: duplicate key \"a\"");
}

TEST_CASE("json: the parser is strict") {
  for (const char* bad : {"[1,]", "{\"a\":1,}", "01", "1.", ".5", "-", "1e", "+1", "NaN", "Infinity", "nul",
                          "tru", "'a'", "\"abc", "\"a\tb\"", "\"\\x\"", "\"\\u12\"", "\"\\udc00\"", "\"\\ud800x\"",
                          "// c\n1", "[1] [2]", "{1: 2}", "\"\xff\"", "\"\xc3\"", "1e999"}) {
    INFO("input: " << bad);
    CHECK_THROWS_AS(json::parse(bad), Error);
  }
}

TEST_CASE("json: deep nesting is an error, not a stack overflow") {
  std::string deep(100000, '[');
  CHECK_THROWS_WITH_AS(json::parse(deep), doctest::Contains("nesting deeper"), Error);
}

TEST_CASE("json: typed access to the wrong type is a clear error") {
  json::Value v = json::parse(R"({"a": "text", "b": 1.5})");
  CHECK_THROWS_WITH_AS(v.at("a").as_number(), "JSON: expected a number, got a string", Error);
  CHECK_THROWS_WITH_AS(v.at("b").as_int(), doctest::Contains("whole number"), Error);
  CHECK_THROWS_WITH_AS(v.at("c"), "JSON: no key \"c\" in the object", Error);
  CHECK_THROWS_AS(v.at(size_t{0}), Error);
}

TEST_CASE("json: building and writing, compact and pretty") {
  json::Value v;
  v["name"] = "mnist";
  v["lr"] = 0.001;
  v["epochs"] = 3;
  v["tags"].push_back("a");
  v["tags"].push_back(true);
  v["empty"] = json::Value::array();
  v["none"] = nullptr;
  CHECK(json::dump(v) == R"({"name":"mnist","lr":0.001,"epochs":3,"tags":["a",true],"empty":[],"none":null})");
  CHECK(json::dump(v, 2) ==
        "{\n"
        "  \"name\": \"mnist\",\n"
        "  \"lr\": 0.001,\n"
        "  \"epochs\": 3,\n"
        "  \"tags\": [\n"
        "    \"a\",\n"
        "    true\n"
        "  ],\n"
        "  \"empty\": [],\n"
        "  \"none\": null\n"
        "}");
}

TEST_CASE("json: writing then parsing gives the same value") {
  json::Value v = json::parse(R"({"s": "quote \" back \\ nl \n tab \t ctl \u0001 é", "pi": 3.141592653589793,
                                  "tiny": 1e-300, "neg": -0.1, "big": 9007199254740992, "a": [[], {}, [null]]})");
  CHECK(json::parse(json::dump(v)) == v);
  CHECK(json::parse(json::dump(v, 4)) == v);
  CHECK(json::dump(json::Value(0.1)) == "0.1");  // shortest text that reads back exactly
  CHECK(json::dump(json::Value(1e21)) == "1e+21");
  CHECK_THROWS_AS(json::dump(json::Value(std::nan(""))), Error);
}

TEST_CASE("json: Keras' imagenet_class_index.json parses" *
          doctest::skip(!testing::has_shared_data("imagenet/imagenet_class_index.json"))) {
  std::string path = testing::shared_data_dir() + "/imagenet/imagenet_class_index.json";
  json::Value index = json::parse(read_file(path), path);
  REQUIRE(index.size() == 1000);
  CHECK(index.at("0").at(0).as_string() == "n01440764");
  CHECK(index.at("0").at(1).as_string() == "tench");
  CHECK(index.at("999").at(1).as_string() == "toilet_tissue");
}
