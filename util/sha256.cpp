#include "util/sha256.h"

#include <cstdio>
#include <fstream>

#include "util/error.h"

#ifdef NIB_HAVE_OPENSSL
#include <openssl/evp.h>
#endif

namespace nib {

#ifdef NIB_HAVE_OPENSSL

bool sha256_available() { return true; }

struct Sha256::State {
  EVP_MD_CTX* context = nullptr;
  ~State() { EVP_MD_CTX_free(context); }
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->context = EVP_MD_CTX_new();
  NIB_CHECK(state_->context && EVP_DigestInit_ex(state_->context, EVP_sha256(), nullptr) == 1,
            "SHA-256: OpenSSL could not start a digest");
}

void Sha256::update(const void* data, size_t size) {
  NIB_CHECK(EVP_DigestUpdate(state_->context, data, size) == 1, "SHA-256: OpenSSL digest update failed");
}

std::string Sha256::hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  NIB_CHECK(EVP_DigestFinal_ex(state_->context, digest, &length) == 1, "SHA-256: OpenSSL digest failed");
  std::string out;
  char pair[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(pair, sizeof pair, "%02x", digest[i]);
    out += pair;
  }
  return out;
}

#else  // built without OpenSSL

bool sha256_available() { return false; }

struct Sha256::State {};

Sha256::Sha256() {
  fail("nib was built without OpenSSL (Debian: libssl-dev), so it cannot compute SHA-256 digests; "
       "install it and rebuild");
}
void Sha256::update(const void*, size_t) {}
std::string Sha256::hex() { return ""; }

#endif

Sha256::~Sha256() = default;

std::string sha256_of_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  NIB_CHECK(in, "cannot open ", path, " to compute its SHA-256");
  Sha256 digest;
  std::string block(1 << 20, '\0');
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    digest.update(block.data(), static_cast<size_t>(in.gcount()));
  }
  NIB_CHECK(!in.bad(), "cannot read ", path, " to compute its SHA-256");
  return digest.hex();
}

}  // namespace nib
