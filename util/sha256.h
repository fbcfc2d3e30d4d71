// SHA-256 digests, computed by OpenSSL's libcrypto (EVP interface): nib checks
// every file it downloads against the digest its publisher lists.
//
//   Sha256 digest;
//   digest.update(bytes, size);   // as often as needed, e.g. per received block
//   std::string hex = digest.hex();  // 64 lower-case hex digits
//
// nib builds without OpenSSL too; then every use throws a nib::Error saying so
// (sha256_available() tells beforehand).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace nib {

bool sha256_available();

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  // The digest of everything passed to update(); call once.
  std::string hex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The digest of a whole file, read in blocks (errors name the file).
std::string sha256_of_file(const std::string& path);

}  // namespace nib
