#include "tensor/dtype.h"

namespace nib {

bool dtype_from_name(const std::string& name, DType& out) {
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I64, DType::I32, DType::U8}) {
    if (name == dtype_name(t)) {
      out = t;
      return true;
    }
  }
  return false;
}

}  // namespace nib
