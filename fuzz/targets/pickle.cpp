// The unpickler alone (formats/pickle.h): the torch_checkpoint target reaches
// it only through a valid zip archive, this one feeds it directly.
#include <string>

#include "fuzz/fuzz_target.h"
#include "formats/pickle.h"

NIB_FUZZ_TARGET(pickle) {
  nib::pickle::unpickle(std::string(reinterpret_cast<const char*>(data), size), "fuzz.pkl");
}
