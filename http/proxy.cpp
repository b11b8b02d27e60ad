// Proxy URLs parsed, and the environment's proxies with no_proxy matching.
#include "proxy.hpp"

#include <cstdio>

#include "coring/http/errors.hpp"
#include "coring/http/headers.hpp"

namespace coring::http::detail {

Proxy parse_proxy(std::string_view text, const std::optional<BasicAuth>& auth) {
  // curl's and Python's proxies may leave out the scheme.
  URL url = text.find("://") == std::string_view::npos ? URL::parse("http://" + std::string(text)) : URL::parse(text);
  if (url.is_https())
    throw InvalidURL("proxy " + url.to_string() + ": only http:// proxies are supported (as in aiohttp)");
  if (auth && url.has_credentials())
    throw InvalidRequestError("proxy " + url.to_string() + " has both credentials in its URL and a proxy_auth");
  std::string authorization;
  if (auth) authorization = auth->encode();
  if (url.has_credentials()) authorization = BasicAuth{url.user(), url.password()}.encode();
  return {url.without_credentials(), std::move(authorization)};
}

std::optional<Proxy> EnvironmentProxies::from_environment(std::string_view text) {
  if (text.size() >= 8 && iequals(text.substr(0, 8), "https://")) {
    std::fprintf(stderr, "coring: ignoring the environment's proxy %s: only http:// proxies are supported\n",
                 mask_credentials(text).c_str());
    return std::nullopt;
  }
  return parse_proxy(text, std::nullopt);
}

std::vector<std::string> EnvironmentProxies::split_no_proxy(std::string_view list) {
  std::vector<std::string> hosts;
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view one = list.substr(0, comma);
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    while (!one.empty() && (one.front() == ' ' || one.front() == '\t')) one.remove_prefix(1);
    while (!one.empty() && (one.back() == ' ' || one.back() == '\t')) one.remove_suffix(1);
    while (one.starts_with('.')) one.remove_prefix(1);  // ".example.com": the domain and below
    if (one.starts_with('[') && one.ends_with(']')) one = one.substr(1, one.size() - 2);  // "[::1]"
    if (!one.empty()) hosts.emplace_back(one);
  }
  return hosts;
}

const Proxy* EnvironmentProxies::for_url(const URL& url) const {
  const std::optional<Proxy>& proxy = url.is_https() ? https_ : http_;
  if (!proxy) return nullptr;
  const std::string_view host = url.host();
  const bool ipv6 = host.find(':') != std::string_view::npos;
  const std::string host_port = (ipv6 ? "[" + url.host() + "]" : url.host()) + ":" + std::to_string(url.port());
  for (const std::string& entry : no_proxy_) {
    if (entry == "*" || iequals(entry, host) || iequals(entry, host_port)) return nullptr;
    // A domain covers its subdomains: "example.com" covers "api.example.com".
    if (host.size() > entry.size() && host[host.size() - entry.size() - 1] == '.' &&
        iequals(host.substr(host.size() - entry.size()), entry))
      return nullptr;
  }
  return &*proxy;
}

}  // namespace coring::http::detail
