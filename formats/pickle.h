// A small Python unpickler: just the opcodes torch.save() emits (protocol 2,
// and the framing of protocols 4/5), producing a tree of Values.
//
// Pickle is a little stack machine: opcodes push constants, build tuples,
// lists and dicts, look up globals ("collections OrderedDict") and call them
// (REDUCE). nib never runs Python, so calls are not executed: a REDUCE is
// kept as an Object (callable + arguments) for the caller to interpret —
// torch_checkpoint.cpp turns torch._utils._rebuild_tensor_v2 objects into
// tensors and refuses anything it does not know, naming it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace nib::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Value {
  enum class Kind { None, Bool, Int, Float, String, Bytes, Tuple, List, Dict, Global, Object, PersistentId };
  Kind kind = Kind::None;
  int64_t integer = 0;   // Bool, Int
  double real = 0.0;     // Float
  std::string text;      // String, Bytes; Global: "module.name"
  std::vector<ValuePtr> items;                            // Tuple, List
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;     // Dict (insertion order)
  ValuePtr callable, args, state;                         // Object: callable(*args), then BUILD state
  ValuePtr pid;                                           // PersistentId: the id tuple

  const char* kind_name() const;
  bool is(Kind k) const { return kind == k; }
  // A dict value by string key, or nullptr.
  ValuePtr get(const std::string& key) const;
};

// Containers nested deeper than this are refused: a state dict is a few
// levels deep, and Python cannot pickle much deeper than its recursion limit
// (1000). The bound keeps nib's own recursion over the tree (including the
// destructors) far from the end of the stack.
constexpr int kMaxNestingDepth = 200;

// Unpickles `data`; `where` names the source in error messages. The result is
// always a tree (maybe with shared subtrees, never a cycle): a pickle that
// changes a container after putting it inside another one — the only way to
// build a cycle — is refused, as torch.save never writes one.
ValuePtr unpickle(const std::string& data, const std::string& where);

}  // namespace nib::pickle
