// BasicAuth::encode: base64 of login:password, with OpenSSL's encoder.
#include "coring/http/auth.hpp"

#include "base64.hpp"

namespace coring::http {

std::string BasicAuth::encode() const { return "Basic " + detail::base64_encode(login + ":" + password); }

}  // namespace coring::http
