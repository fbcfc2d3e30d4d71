// Errors in nib: every failure a user can cause (bad file, bad shape, no GPU)
// is a nib::Error with a message that says what went wrong and where.
// Apps catch it at the top, print the message on one line and exit non-zero.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace nib {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& out, const T& first, const Rest&... rest) {
  out << first;
  append(out, rest...);
}
}  // namespace detail

// Builds a message from any streamable pieces: str("shape ", s, " != ", t).
template <class... Parts>
std::string str(const Parts&... parts) {
  std::ostringstream out;
  detail::append(out, parts...);
  return out.str();
}

template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  throw Error(str(parts...));
}

}  // namespace nib

// NIB_CHECK(cond, "message parts", ...): throws nib::Error when cond is false.
// Used for conditions a caller can violate (shapes, files), not for internal bugs.
#define NIB_CHECK(cond, ...)                  \
  do {                                        \
    if (!(cond)) ::nib::fail(__VA_ARGS__);    \
  } while (0)
