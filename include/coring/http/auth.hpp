#pragma once
// coring::http::BasicAuth: HTTP Basic authentication (aiohttp.BasicAuth).
#include <string>

namespace coring::http {

/// Sent as `Authorization: Basic base64(login:password)` by a session or a
/// request given one (SessionOptions::auth, RequestOptions::auth), as are
/// the credentials of a URL like "http://user:password@host/". Dropped, as
/// any Authorization header, when a redirect leaves the origin.
struct BasicAuth {
  std::string login;
  std::string password;
  /// The Authorization header value.
  [[nodiscard]] std::string encode() const;
};

}  // namespace coring::http
