// The proxies the environment names (http_proxy, HTTPS_PROXY, no_proxy...), read
// as curl and aiohttp read them (http/proxy.hpp); no sockets.
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>

#include <coring/http/auth.hpp>
#include <coring/http/errors.hpp>
#include <coring/http/url.hpp>

#include "../../http/proxy.hpp"

using namespace coring::http;

TEST_CASE("the environment's proxies: per scheme, lower case first, no_proxy by host, domain and port") {
  using detail::EnvironmentProxies;
  std::map<std::string, std::string> env = {
      {"http_proxy", "http://lower:3128"},
      {"HTTP_PROXY", "http://upper:3128"},
      {"HTTPS_PROXY", "user:pw@secure-proxy:8080"},  // no scheme: http:// it is, as curl takes it
      {"no_proxy", " localhost, .internal.example ,10.0.0.1:8443,"},
  };
  auto get = [&](const char* name) -> std::optional<std::string> {
    const auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional(it->second);
  };
  const EnvironmentProxies e = EnvironmentProxies::read(get);
  REQUIRE(e.for_url(URL::parse("http://example.com/")) != nullptr);
  CHECK(e.for_url(URL::parse("http://example.com/"))->url.host() == "lower");
  const detail::Proxy* secure = e.for_url(URL::parse("https://example.com/"));
  REQUIRE(secure != nullptr);
  CHECK(secure->url.to_string() == "http://secure-proxy:8080/");  // no credentials in it
  CHECK(secure->authorization == BasicAuth{"user", "pw"}.encode());
  for (const char* direct : {"http://localhost/", "http://LOCALHOST:8080/", "http://internal.example/",
                             "https://api.internal.example/", "https://10.0.0.1:8443/"}) {
    CAPTURE(direct);
    CHECK(e.for_url(URL::parse(direct)) == nullptr);
  }
  for (const char* proxied : {"http://notinternal.example/", "https://10.0.0.1/", "http://localhost.evil/"}) {
    CAPTURE(proxied);
    CHECK(e.for_url(URL::parse(proxied)) != nullptr);
  }
  env["no_proxy"] = std::string("*");  // a literal assigned here: GCC 12 warns falsely (its bug 105329)
  CHECK(EnvironmentProxies::read(get).for_url(URL::parse("http://example.com/")) == nullptr);
  env.clear();
  CHECK(EnvironmentProxies::read(get).for_url(URL::parse("http://example.com/")) == nullptr);
  // An https:// proxy is ignored, as aiohttp ignores it; garbage is an error.
  env["https_proxy"] = "https://tls-proxy:443";
  CHECK(EnvironmentProxies::read(get).for_url(URL::parse("https://example.com/")) == nullptr);
  env["https_proxy"] = "http://bad host:1";
  CHECK_THROWS_AS(EnvironmentProxies::read(get), InvalidURL);
  // Set but empty, the lower-case one still wins: no proxy.
  env = {{"http_proxy", ""}, {"HTTP_PROXY", "http://upper:3128"}};
  CHECK(EnvironmentProxies::read(get).for_url(URL::parse("http://example.com/")) == nullptr);
  // In a CGI program HTTP_PROXY is the client's "Proxy:" header: never trusted.
  env = {{"HTTP_PROXY", "http://attacker:8080"}, {"REQUEST_METHOD", "GET"}};
  CHECK(EnvironmentProxies::read(get).for_url(URL::parse("http://example.com/")) == nullptr);
  env.erase("REQUEST_METHOD");
  CHECK(EnvironmentProxies::read(get).for_url(URL::parse("http://example.com/")) != nullptr);
  // IPv6 hosts, bracketed in no_proxy as in URLs.
  env["no_proxy"] = "[::1], [fd00::2]:8080";
  const EnvironmentProxies v6 = EnvironmentProxies::read(get);
  CHECK(v6.for_url(URL::parse("http://[::1]:9000/")) == nullptr);
  CHECK(v6.for_url(URL::parse("http://[fd00::2]:8080/")) == nullptr);
  CHECK(v6.for_url(URL::parse("http://[fd00::2]:8081/")) != nullptr);
}
