// URL: parsing, origins, joining references and query parameters; no sockets.
#include <doctest/doctest.h>

#include <coring/http/errors.hpp>
#include <coring/http/url.hpp>

using namespace coring::http;

TEST_CASE("URL parses scheme, host, port, path and query") {
  const URL u = URL::parse("HTTP://Example.COM:8080/a/b?x=1#frag");
  CHECK(u.scheme() == "http");
  CHECK(u.host() == "example.com");
  CHECK(u.port() == 8080);
  CHECK(u.path() == "/a/b");
  CHECK(u.query() == "x=1");
  CHECK(u.target() == "/a/b?x=1");
  CHECK(u.host_header() == "example.com:8080");
  CHECK(URL::parse("https://h").port() == 443);
  CHECK(URL::parse("http://h").path() == "/");
  CHECK(URL::parse("http://[::1]:81/").host() == "::1");
  CHECK(URL::parse("http://[::1]:81/").host_header() == "[::1]:81");
  CHECK(URL::parse("http://h/a b").path() == "/a%20b");
  CHECK(URL::parse("http://h/a/./b/../c").path() == "/a/c");
}

TEST_CASE("origin() is scheme://host:port, for any host length, and origin_into() writes it without allocating") {
  CHECK(URL::parse("https://[::1]/x").origin() == "https://[::1]:443");
  const std::string long_host(400, 'h');
  CHECK(URL::parse("http://" + long_host + ":81/").origin() == "http://" + long_host + ":81");
  char small[17];  // "http://a.test:80" and its NUL
  CHECK(URL::parse("http://" + long_host + "/").origin_into(small).empty());
  CHECK(URL::parse("http://a.test/").origin_into(small) == "http://a.test:80");
}

TEST_CASE("bad URLs are InvalidURL naming the text and the reason") {
  CHECK_THROWS_AS(URL::parse(""), InvalidURL);
  CHECK_THROWS_AS(URL::parse("example.com/x"), InvalidURL);
  CHECK_THROWS_WITH_AS(URL::parse("ftp://h/"), doctest::Contains("unsupported scheme"), InvalidURL);
  CHECK_THROWS_AS(URL::parse("http:///path"), InvalidURL);
  CHECK_THROWS_AS(URL::parse("http://h:99999/"), InvalidURL);
  CHECK_THROWS_AS(URL::parse("http://h:abc/"), InvalidURL);
  CHECK_THROWS_AS(URL::parse("http://[::1/"), InvalidURL);
  CHECK_THROWS_AS(URL::parse("http://h/\r\nX: y"), InvalidURL);
}

TEST_CASE("URL joins references as RFC 3986 does") {
  const URL base = URL::parse("http://h:81/a/b/c?q=1");
  CHECK(base.join("d").to_string() == "http://h:81/a/b/d");
  CHECK(base.join("/x").to_string() == "http://h:81/x");
  CHECK(base.join("../x?y=2").to_string() == "http://h:81/a/x?y=2");
  CHECK(base.join("?z=3").to_string() == "http://h:81/a/b/c?z=3");
  CHECK(base.join("http://other/p").to_string() == "http://other/p");
  CHECK(base.join("//other:9/p").to_string() == "http://other:9/p");
  // A scheme is only a scheme name before the first ':' (RFC 3986 section 3.1).
  CHECK(base.join("/next?return=https://example.org/").to_string() == "http://h:81/next?return=https://example.org/");
  CHECK(base.join("x/y?u=http://a").to_string() == "http://h:81/a/b/x/y?u=http://a");
  CHECK(base.join("HTTPS://other/p").to_string() == "https://other/p");
  CHECK_THROWS_AS(base.join("ftp://other/p"), InvalidURL);
  CHECK_THROWS_AS(URL::parse("/next?return=https://example.org/"), InvalidURL);
}

TEST_CASE("query params are percent-encoded") {
  const URL u = URL::parse("http://h/s?a=1").with_query({{"q", "a b&c"}, {"é", "/"}});
  CHECK(u.query() == "a=1&q=a+b%26c&%C3%A9=%2F");
}
