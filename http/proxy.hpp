#pragma once
// Which HTTP proxy a request goes through: the one given (SessionOptions or
// RequestOptions::proxy), or, with trust_env, the environment's
// (http_proxy, https_proxy, no_proxy: curl's and Python's variables).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coring/http/auth.hpp"
#include "coring/http/url.hpp"

namespace coring::http::detail {

/// A proxy's URL, without credentials, and the Proxy-Authorization value
/// its credentials or a proxy_auth make (empty: none).
struct Proxy {
  URL url;
  std::string authorization;
};

/// Parses "http://[user:password@]host:port" ("host:port" alone is taken as
/// http://). InvalidURL for another scheme; InvalidRequestError for
/// credentials both in the URL and in `auth`.
Proxy parse_proxy(std::string_view text, const std::optional<BasicAuth>& auth);

/// The environment's proxies, read once.
class EnvironmentProxies {
 public:
  /// Reads http_proxy, https_proxy and no_proxy, as Python does: each also
  /// in capitals, the lower-case one winning even when empty (empty: none);
  /// but not HTTP_PROXY in a CGI program (REQUEST_METHOD set), where it is
  /// the client's "Proxy:" header ("httpoxy"). An https:// proxy is
  /// ignored, as aiohttp ignores it, with a line on stderr. `get` reads one variable.
  template <class Get>
  static EnvironmentProxies read(Get get) {
    const bool cgi = get("REQUEST_METHOD").has_value();
    auto either = [&](const char* lower, const char* upper) -> std::optional<std::string> {
      std::optional<std::string> v = get(lower);
      if (!v && !(cgi && std::string_view(upper) == "HTTP_PROXY")) v = get(upper);
      if (v && v->empty()) return std::nullopt;
      return v;
    };
    EnvironmentProxies e;
    if (auto v = either("http_proxy", "HTTP_PROXY")) e.http_ = from_environment(*v);
    if (auto v = either("https_proxy", "HTTPS_PROXY")) e.https_ = from_environment(*v);
    if (auto v = either("no_proxy", "NO_PROXY")) e.no_proxy_ = split_no_proxy(*v);
    return e;
  }
  /// The proxy for `url`, or nullptr: none for its scheme, or no_proxy names its host.
  [[nodiscard]] const Proxy* for_url(const URL& url) const;

 private:
  static std::optional<Proxy> from_environment(std::string_view text);
  static std::vector<std::string> split_no_proxy(std::string_view list);
  std::optional<Proxy> http_, https_;
  std::vector<std::string> no_proxy_;  // without a leading dot; "*": every host
};

}  // namespace coring::http::detail
