// BasicAuth::encode: base64 of login:password, with OpenSSL's encoder.
#include "coring/http/auth.hpp"

#include <openssl/evp.h>

namespace coring::http {

std::string BasicAuth::encode() const {
  const std::string plain = login + ":" + password;
  std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');  // EVP_EncodeBlock adds a NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  encoded.resize(static_cast<std::size_t>(n));
  return "Basic " + encoded;
}

}  // namespace coring::http
