#include "formats/torch_checkpoint.h"

#include <cstring>
#include <map>

#include "formats/pickle.h"
#include "formats/zip_archive.h"

namespace nib {

namespace {

using pickle::Value;
using pickle::ValuePtr;

DType storage_dtype(const std::string& global, const std::string& path) {
  static const std::map<std::string, DType> types = {
      {"torch.FloatStorage", DType::F32},  {"torch.DoubleStorage", DType::F64}, {"torch.HalfStorage", DType::F16},
      {"torch.BFloat16Storage", DType::BF16}, {"torch.LongStorage", DType::I64}, {"torch.IntStorage", DType::I32},
      {"torch.ByteStorage", DType::U8},    {"torch.BoolStorage", DType::U8}};
  auto it = types.find(global);
  NIB_CHECK(it != types.end(), path, ": tensors stored as ", global, " are not supported");
  return it->second;
}

int64_t int_of(const ValuePtr& v, const std::string& path, const char* what) {
  NIB_CHECK(v && v->is(Value::Kind::Int), path, ": expected an integer for ", what, ", found ",
            v ? v->kind_name() : "nothing");
  return v->integer;
}

std::vector<int64_t> ints_of(const ValuePtr& v, const std::string& path, const char* what) {
  NIB_CHECK(v && v->is(Value::Kind::Tuple), path, ": expected a tuple for ", what);
  std::vector<int64_t> out;
  for (const auto& item : v->items) out.push_back(int_of(item, path, what));
  return out;
}

// A tensor is a view of its storage (`elements` long): sizes and strides
// >= 0, and every element it reads inside the storage. It may not hold more
// elements than the storage either, so that a few bytes cannot ask for a huge
// tensor through zero strides (state dicts never hold such expanded views).
// Checked before anything is allocated, without overflow.
void check_view(const std::string& path, const std::string& name, int64_t offset, const std::vector<int64_t>& size,
                const std::vector<int64_t>& stride, int64_t elements) {
  int64_t numel = 1, last = offset;
  bool empty = false;
  for (size_t d = 0; d < size.size(); ++d) {
    NIB_CHECK(size[d] >= 0 && stride[d] >= 0, path, ": tensor '", name, "' has a negative size or stride");
    empty = empty || size[d] == 0;
    int64_t reach = 0;
    NIB_CHECK(!__builtin_mul_overflow(numel, size[d], &numel) &&
                  (size[d] == 0 || !__builtin_mul_overflow(size[d] - 1, stride[d], &reach)) &&
                  !__builtin_add_overflow(last, reach, &last),
              path, ": tensor '", name, "' has sizes or strides too large to be real");
  }
  if (empty) return;
  NIB_CHECK(offset >= 0 && last < elements, path, ": tensor '", name, "' reaches beyond its storage (", elements,
            " elements)");
  NIB_CHECK(numel <= elements, path, ": tensor '", name, "' holds ", numel, " elements but its storage only ",
            elements, " (an expanded view, which nib does not load)");
}

class Rebuilder {
 public:
  Rebuilder(ZipArchive& zip, std::string prefix) : zip_(zip), prefix_(std::move(prefix)) {}

  // A tensor from torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])
  // or _rebuild_parameter(tensor, requires_grad, hooks).
  Tensor tensor(const ValuePtr& v, const std::string& name) {
    const std::string& path = zip_.path();
    NIB_CHECK(v->is(Value::Kind::Object) && v->callable->is(Value::Kind::Global), path, ": '", name,
              "' is a ", v->kind_name(), ", not a tensor");
    const std::string& fn = v->callable->text;
    const auto& args = v->args->items;
    if (fn == "torch._utils._rebuild_parameter" || fn == "torch._utils._rebuild_parameter_with_state") {
      NIB_CHECK(!args.empty(), path, ": malformed parameter '", name, "'");
      return tensor(args[0], name);
    }
    NIB_CHECK(fn == "torch._utils._rebuild_tensor_v2", path, ": '", name, "' is built by ", fn,
              ", which nib does not support (only plain dense tensors)");
    NIB_CHECK(args.size() >= 4 && args[0]->is(Value::Kind::PersistentId), path, ": malformed tensor '", name, "'");

    // Persistent id: ("storage", storage_type, key, location, numel).
    const auto& pid = args[0]->pid->items;
    NIB_CHECK(pid.size() >= 5 && pid[1]->is(Value::Kind::Global), path, ": malformed storage reference in '", name,
              "'");
    DType dtype = storage_dtype(pid[1]->text, path);
    const std::string& key = pid[2]->text;
    int64_t offset = int_of(args[1], path, "storage offset");
    std::vector<int64_t> size = ints_of(args[2], path, "size"), stride = ints_of(args[3], path, "stride");
    NIB_CHECK(size.size() == stride.size(), path, ": '", name, "' has ", size.size(), " sizes but ", stride.size(),
              " strides");

    const std::string& bytes = storage(key, name);
    const int64_t element = static_cast<int64_t>(dtype_size(dtype));
    check_view(path, name, offset, size, stride, static_cast<int64_t>(bytes.size()) / element);
    Tensor t = Tensor::empty(Shape(size), kCPU, dtype);
    // Gather into nib's contiguous layout (checkpoints are nearly always contiguous already).
    char* out = static_cast<char*>(t.raw_data());
    std::vector<int64_t> index(size.size(), 0);
    for (int64_t i = 0; i < t.numel(); ++i) {
      int64_t source = offset;
      for (size_t d = 0; d < size.size(); ++d) source += index[d] * stride[d];
      std::memcpy(out + i * element, bytes.data() + source * element, element);
      for (int64_t d = static_cast<int64_t>(size.size()) - 1; d >= 0; --d) {
        if (++index[d] < size[d]) break;
        index[d] = 0;
      }
    }
    return t;
  }

 private:
  const std::string& storage(const std::string& key, const std::string& name) {
    auto it = storages_.find(key);
    if (it != storages_.end()) return it->second;
    const ZipArchive::Entry* entry = zip_.find(prefix_ + "data/" + key);
    NIB_CHECK(entry, zip_.path(), ": storage ", key, " of tensor '", name, "' is missing from the archive");
    return storages_[key] = zip_.read(*entry);
  }

  ZipArchive& zip_;
  std::string prefix_;
  std::map<std::string, std::string> storages_;
};

// The dict of tensors inside what was pickled.
ValuePtr find_state_dict(const ValuePtr& root, const std::string& path) {
  NIB_CHECK(root->is(Value::Kind::Dict), path, ": the checkpoint holds a pickled ", root->kind_name(),
            root->is(Value::Kind::Object) ? " (" + root->callable->text + ")" : std::string(),
            ", not a state dict; save model.state_dict() instead of the model");
  for (const char* key : {"state_dict", "model_state_dict", "model"}) {
    ValuePtr inner = root->get(key);
    if (inner && inner->is(Value::Kind::Dict)) return inner;
  }
  return root;
}

}  // namespace

NamedTensors load_torch_checkpoint(const std::string& path) {
  ZipArchive zip(path);
  const ZipArchive::Entry* pkl = zip.find_suffix("data.pkl");
  NIB_CHECK(pkl, path, ": no data.pkl inside: not a PyTorch checkpoint");
  std::string prefix = pkl->name.substr(0, pkl->name.size() - std::strlen("data.pkl"));
  ValuePtr root = pickle::unpickle(zip.read(*pkl), path + ":" + pkl->name);
  ValuePtr dict = find_state_dict(root, path);

  Rebuilder rebuild(zip, prefix);
  NamedTensors tensors;
  for (const auto& [key, value] : dict->entries) {
    NIB_CHECK(key->is(Value::Kind::String), path, ": a state dict key is a ", key->kind_name(), ", not a string");
    tensors.emplace_back(key->text, rebuild.tensor(value, key->text));
  }
  NIB_CHECK(!tensors.empty(), path, ": the checkpoint holds no tensors");
  return tensors;
}

}  // namespace nib
