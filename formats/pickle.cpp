#include "formats/pickle.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

#include "util/error.h"

namespace nib::pickle {

const char* Value::kind_name() const {
  static const char* names[] = {"None", "bool", "int", "float", "str", "bytes", "tuple", "list", "dict",
                                "global", "object", "persistent id"};
  return names[static_cast<int>(kind)];
}

ValuePtr Value::get(const std::string& key) const {
  for (const auto& [k, v] : entries)
    if (k->kind == Kind::String && k->text == key) return v;
  return nullptr;
}

namespace {

class Machine {
 public:
  Machine(const std::string& data, const std::string& where) : data_(data), where_(where) {}

  ValuePtr run() {
    while (true) {
      uint8_t op = byte();
      switch (op) {
        case 0x80: byte(); break;              // PROTO
        case 0x95: bytes(8); break;            // FRAME: a length hint, nothing to do
        case '.': return pop();                // STOP
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case '}': push(make(Value::Kind::Dict)); break;
        case ']': push(make(Value::Kind::List)); break;
        case ')': push(make(Value::Kind::Tuple)); break;
        case 'N': push(make(Value::Kind::None)); break;
        case 0x88: push(boolean(true)); break;
        case 0x89: push(boolean(false)); break;
        case 'K': push(integer(byte())); break;
        case 'M': push(integer(little(2))); break;
        case 'J': push(integer(static_cast<int32_t>(little(4)))); break;
        case 0x8a: push(long1()); break;
        case 'G': push(real()); break;
        case 'X': push(string(Value::Kind::String, little(4))); break;
        case 0x8c: push(string(Value::Kind::String, byte())); break;
        case 0x8d: push(string(Value::Kind::String, little(8))); break;
        case 'T': push(string(Value::Kind::String, little(4))); break;
        case 'U': push(string(Value::Kind::String, byte())); break;
        case 'B': push(string(Value::Kind::Bytes, little(4))); break;
        case 'C': push(string(Value::Kind::Bytes, byte())); break;
        case 't': push(tuple(pop_mark())); break;
        case 0x85: push(tuple(pop_n(1))); break;
        case 0x86: push(tuple(pop_n(2))); break;
        case 0x87: push(tuple(pop_n(3))); break;
        case 'a': {  // APPEND
          ValuePtr item = pop();
          auto list = still_open(top(), Value::Kind::List, "APPEND");
          list->items.push_back(contain(list, item));
          break;
        }
        case 'e': {  // APPENDS
          auto items = pop_mark();
          auto list = still_open(top(), Value::Kind::List, "APPENDS");
          for (const auto& item : items) list->items.push_back(contain(list, item));
          break;
        }
        case 's': {  // SETITEM
          ValuePtr value = pop(), key = pop();
          auto dict = still_open(top(), Value::Kind::Dict, "SETITEM");
          dict->entries.emplace_back(contain(dict, key), contain(dict, value));
          break;
        }
        case 'u': {  // SETITEMS
          auto items = pop_mark();
          NIB_CHECK(items.size() % 2 == 0, where_, ": corrupt pickle (odd SETITEMS)");
          auto dict = still_open(top(), Value::Kind::Dict, "SETITEMS");
          for (size_t i = 0; i < items.size(); i += 2)
            dict->entries.emplace_back(contain(dict, items[i]), contain(dict, items[i + 1]));
          break;
        }
        case 'c': {  // GLOBAL "module\nname\n"
          std::string module = line(), name = line();
          push(global(module + "." + name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          ValuePtr name = pop(), module = pop();
          push(global(module->text + "." + name->text));
          break;
        }
        case 'q': memo_[byte()] = top(); break;          // BINPUT
        case 'r': memo_[little(4)] = top(); break;       // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = top(); break;   // MEMOIZE
        case 'h': push(memo(byte())); break;             // BINGET
        case 'j': push(memo(little(4))); break;          // LONG_BINGET
        case 'Q': {                                      // BINPERSID
          auto v = make(Value::Kind::PersistentId);
          v->pid = contain(v, pop());
          push(v);
          break;
        }
        case 'R':      // REDUCE: callable(*args), kept unevaluated
        case 0x81: {   // NEWOBJ: cls.__new__(cls, *args), the same for our purposes
          auto v = make(Value::Kind::Object);
          v->args = contain(v, pop());
          v->callable = contain(v, pop());
          // An OrderedDict() call is just a dict: its items follow with SETITEMS.
          if (v->callable->text == "collections.OrderedDict") v = make(Value::Kind::Dict);
          push(v);
          break;
        }
        case 'b': {  // BUILD: obj.__setstate__(state)
          ValuePtr state = pop();
          ValuePtr obj = top();
          if (obj->kind == Value::Kind::Object)  // dicts: state is metadata, dropped
            still_open(obj, Value::Kind::Object, "BUILD")->state = contain(obj, state);
          break;
        }
        default:
          fail(where_, ": unsupported pickle opcode 0x", hex(op), " at byte ", pos_ - 1,
               " (nib reads the subset of pickle that torch.save writes)");
      }
    }
  }

 private:
  static std::string hex(uint8_t v) {
    const char* digits = "0123456789abcdef";
    return {digits[v >> 4], digits[v & 15]};
  }
  uint8_t byte() {
    NIB_CHECK(pos_ < data_.size(), where_, ": truncated pickle");
    return static_cast<uint8_t>(data_[pos_++]);
  }
  std::string bytes(uint64_t n) {
    NIB_CHECK(n <= data_.size() - pos_, where_, ": truncated pickle (needs ", n, " more bytes at ", pos_, ")");
    std::string s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  uint64_t little(int n) {
    std::string b = bytes(n);
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[i]);
    return v;
  }
  std::string line() {
    size_t end = data_.find('\n', pos_);
    NIB_CHECK(end != std::string::npos, where_, ": truncated pickle (GLOBAL)");
    std::string s = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  ValuePtr boolean(bool b) {
    auto v = make(Value::Kind::Bool);
    v->integer = b;
    return v;
  }
  ValuePtr integer(int64_t i) {
    auto v = make(Value::Kind::Int);
    v->integer = i;
    return v;
  }
  ValuePtr long1() {  // little-endian two's complement of n bytes
    uint8_t n = byte();
    NIB_CHECK(n <= 8, where_, ": integer too large in pickle (", int(n), " bytes)");
    std::string b = bytes(n);
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[i]);
    if (n > 0 && n < 8 && (static_cast<uint8_t>(b[n - 1]) & 0x80)) v |= ~uint64_t{0} << (8 * n);
    return integer(static_cast<int64_t>(v));
  }
  ValuePtr real() {  // big-endian IEEE double
    std::string b = bytes(8);
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<uint8_t>(b[i]);
    auto v = make(Value::Kind::Float);
    std::memcpy(&v->real, &bits, 8);
    return v;
  }
  ValuePtr string(Value::Kind kind, uint64_t n) {
    auto v = make(kind);
    v->text = bytes(n);
    return v;
  }
  ValuePtr global(const std::string& name) {
    auto v = make(Value::Kind::Global);
    v->text = name;
    return v;
  }
  ValuePtr tuple(std::vector<ValuePtr> items) {
    auto v = make(Value::Kind::Tuple);
    for (const auto& item : items) contain(v, item);
    v->items = std::move(items);
    return v;
  }
  ValuePtr memo(uint64_t key) {
    auto it = memo_.find(key);
    NIB_CHECK(it != memo_.end(), where_, ": corrupt pickle (memo ", key, " missing)");
    return it->second;
  }

  // Every value is made here, so that the machine knows how deep it is and
  // whether it is inside another value already.
  ValuePtr make(Value::Kind kind) {
    auto v = std::make_shared<Value>();
    v->kind = kind;
    made_[v.get()] = Made{};  // an address freed and reused starts afresh
    return v;
  }
  // `container` takes `item` in; returns `item`.
  const ValuePtr& contain(const ValuePtr& container, const ValuePtr& item) {
    NIB_CHECK(item != container, where_, ": corrupt pickle (a ", container->kind_name(), " inside itself)");
    Made& inner = made_.at(item.get());
    Made& outer = made_.at(container.get());
    inner.contained = true;
    outer.depth = std::max(outer.depth, inner.depth + 1);
    NIB_CHECK(outer.depth <= kMaxNestingDepth, where_, ": the pickle nests values deeper than ", kMaxNestingDepth,
              " levels (corrupt or hostile; a state dict is a few levels deep)");
    return item;
  }
  // The container an opcode adds to, which must still be open: changing one
  // that is already inside another value is how a pickle builds a cycle.
  ValuePtr still_open(const ValuePtr& v, Value::Kind kind, const char* op) {
    NIB_CHECK(v->kind == kind, where_, ": corrupt pickle (", op, " on a ", v->kind_name(), ")");
    NIB_CHECK(!made_.at(v.get()).contained, where_, ": unsupported pickle (", op, " changes a ", v->kind_name(),
              " already inside another value: a recursive structure, which torch.save does not write)");
    return v;
  }
  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  ValuePtr top() {
    NIB_CHECK(!stack_.empty(), where_, ": corrupt pickle (empty stack)");
    return stack_.back();
  }
  ValuePtr pop() {
    ValuePtr v = top();
    stack_.pop_back();
    return v;
  }
  std::vector<ValuePtr> pop_n(size_t n) {
    NIB_CHECK(stack_.size() >= n, where_, ": corrupt pickle (stack underflow)");
    std::vector<ValuePtr> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
    stack_.resize(stack_.size() - n);
    return items;
  }
  std::vector<ValuePtr> pop_mark() {
    NIB_CHECK(!marks_.empty() && marks_.back() <= stack_.size(), where_, ": corrupt pickle (no MARK)");
    size_t mark = marks_.back();
    marks_.pop_back();
    return pop_n(stack_.size() - mark);
  }

  const std::string& data_;
  const std::string& where_;
  size_t pos_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, ValuePtr> memo_;
  struct Made {
    int depth = 1;           // 1 for a value without children
    bool contained = false;  // inside another value
  };
  std::unordered_map<const Value*, Made> made_;
};

}  // namespace

ValuePtr unpickle(const std::string& data, const std::string& where) { return Machine(data, where).run(); }

}  // namespace nib::pickle
