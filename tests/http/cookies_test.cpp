// CookieJar: which Set-Cookie lines it keeps, and which cookies it sends
// back to which URL (RFC 6265 and its draft successor 6265bis), without
// sockets; then the session's jar against the project's own server.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <string_view>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/cookies.hpp>
#include <coring/http/server.hpp>
#include <coring/http/url.hpp>

#include "../support/server_fixture.hpp"

using namespace coring::http;

namespace {

/// prefix, i, then rest; built in steps: GCC 12 warns falsely on "c" + s
/// (its bug 105329).
std::string numbered(std::string_view prefix, int i, std::string_view rest) {
  std::string out(prefix);
  out += std::to_string(i);
  out += rest;
  return out;
}

}  // namespace

TEST_CASE("the cookie jar sends cookies back by domain, path, expiry and Secure") {
  using namespace std::chrono;
  CookieJar jar;
  const auto now = CookieJar::Clock::now();
  const URL site = URL::parse("http://www.example.test/app/page");
  jar.set_cookie("host=1", site, now);                                     // host-only, path /app
  jar.set_cookie("wide=2; Domain=.example.test; Path=/", site, now);       // every subdomain
  jar.set_cookie("deep=3; Path=/app/deeper", site, now);
  jar.set_cookie("tls=4; Secure; Path=/", URL::parse("https://www.example.test/app/page"), now);
  jar.set_cookie("brief=5; Max-Age=60; Path=/", site, now);
  jar.set_cookie("old=6; Expires=Wed, 21 Oct 2015 07:28:00 GMT", site, now);  // already expired
  jar.set_cookie("evil=7; Domain=other.test", site, now);                     // not this site's to set
  jar.set_cookie("novalue", site, now);                                       // no '=': ignored
  CHECK(jar.size() == 5);

  CHECK(jar.header_for(URL::parse("http://www.example.test/app/x"), now) == "host=1; wide=2; brief=5");
  CHECK(jar.header_for(URL::parse("http://www.example.test/app/deeper/y"), now) ==
        "deep=3; host=1; wide=2; brief=5");
  // Without Domain a cookie is host-only: not for sibling or parent hosts.
  CHECK(jar.header_for(URL::parse("http://api.example.test/"), now) == "wide=2");
  CHECK(jar.header_for(URL::parse("https://example.test/"), now) == "wide=2");
  CHECK(jar.header_for(URL::parse("https://www.example.test/"), now) == "wide=2; tls=4; brief=5");
  CHECK(jar.header_for(URL::parse("http://www.example.test/"), now) == "wide=2; brief=5");  // no Secure over http
  CHECK(jar.header_for(URL::parse("http://www.example.test/application"), now) == "wide=2; brief=5");
  CHECK(jar.header_for(URL::parse("http://other.test/"), now).empty());

  jar.set_cookie("wide=gone; Domain=example.test; Path=/; Max-Age=0", site, now);  // deletes its namesake
  CHECK(jar.header_for(URL::parse("http://api.example.test/"), now).empty());
  CHECK(jar.header_for(URL::parse("http://www.example.test/"), now) == "brief=5");
  CHECK(jar.header_for(URL::parse("http://www.example.test/"), now + minutes(2)).empty());  // brief expired
}

TEST_CASE("cookies that expire past the clock's end (2262) are kept, not wrapped into the past") {
  CookieJar jar;
  const auto now = CookieJar::Clock::now();
  const URL site = URL::parse("http://example.test/");
  jar.set_cookie("far=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT", site, now);
  jar.set_cookie("long=2; Max-Age=99999999999999999999", site, now);
  CHECK(jar.header_for(site, now + std::chrono::hours(24 * 365 * 200)) == "far=1; long=2");
}

TEST_CASE("a Domain that is a public suffix is refused, unless it is the host itself: then the cookie is host-only") {
  CookieJar jar;
  const auto now = CookieJar::Clock::now();
  const URL site = URL::parse("http://a.example.co.uk/");
  jar.set_cookie("icann=1; Domain=co.uk", site, now);
  jar.set_cookie("tld=1; Domain=.COM", URL::parse("http://www.example.com/"), now);
  jar.set_cookie("private=1; Domain=github.io", URL::parse("https://user.github.io/"), now);  // the list's private part
  jar.set_cookie("unlisted=1; Domain=test", URL::parse("http://www.example.test/"), now);    // its "*" rule
  jar.set_cookie("last=1; Domain=example.co.uk; Domain=co.uk", site, now);  // the last Domain counts
  CHECK(jar.size() == 0);
  CHECK(jar.header_for(URL::parse("http://bank.co.uk/"), now).empty());

  jar.set_cookie("site=1; Domain=.example.co.uk", site, now);  // the registrable domain itself
  CHECK(jar.header_for(URL::parse("http://b.example.co.uk/"), now) == "site=1");

  const URL suffix_host = URL::parse("https://github.io/");
  jar.set_cookie("self=1; Domain=github.io", suffix_host, now);
  REQUIRE(jar.size() == 2);
  CHECK(jar.cookies().back().host_only);
  CHECK(jar.header_for(suffix_host, now) == "self=1");
  CHECK(jar.header_for(URL::parse("https://user.github.io/"), now).empty());
}

TEST_CASE("an http:// response can neither set a Secure cookie nor replace or shadow one (6265bis cookie-alone)") {
  CookieJar jar;
  const auto now = CookieJar::Clock::now();
  const URL plain = URL::parse("http://www.example.test/");
  const URL tls = URL::parse("https://www.example.test/");
  jar.set_cookie("sid=forged; Secure; Path=/", plain, now);
  CHECK(jar.size() == 0);

  jar.set_cookie("sid=1; Secure; Path=/", tls, now);
  jar.set_cookie("sid=2; Path=/", plain, now);                       // same name, domain and path
  jar.set_cookie("sid=3; Path=/app", plain, now);                    // under its path: sent first
  jar.set_cookie("sid=4; Domain=example.test; Path=/", plain, now);  // a wider domain
  jar.set_cookie("sid=5; Path=/; Max-Age=0", plain, now);            // a deletion
  CHECK(jar.size() == 1);
  CHECK(jar.header_for(URL::parse("https://www.example.test/app/x"), now) == "sid=1");

  jar.set_cookie("theme=dark; Path=/", plain, now);  // another name
  jar.set_cookie("sid=6; Path=/", tls, now);         // over https it may be replaced
  CHECK(jar.size() == 2);
  CHECK(jar.header_for(URL::parse("http://www.example.test/app/x"), now).find("sid=6") != std::string::npos);
}

TEST_CASE("a cookie whose name and value pass 4096 bytes, or with a control character, is refused; so is a long attribute") {
  CookieJar jar;
  const auto now = CookieJar::Clock::now();
  const URL site = URL::parse("http://example.test/dir/page");
  jar.set_cookie("big=" + std::string(4093, 'v'), site, now);  // 4096 bytes: the most there may be
  jar.set_cookie("huge=" + std::string(4093, 'v'), site, now);
  jar.set_cookie(std::string("ctl=a\x01z"), site, now);
  jar.set_cookie(std::string("nul=a") + '\0' + "z", site, now);
  jar.set_cookie("lf=a\nSet-Cookie: b=c", site, now);
  jar.set_cookie("tab=a\tz", site, now);  // HTAB is allowed
  jar.set_cookie("far=1; Path=/" + std::string(1100, 'p'), site, now);  // that Path is ignored, not the cookie
  REQUIRE(jar.size() == 3);
  CHECK(jar.cookies()[0].name == "big");
  CHECK(jar.cookies()[1].name == "tab");
  CHECK(jar.cookies()[2].path == "/dir");
}

TEST_CASE("a site keeps 50 cookies, the jar 3000: past that the oldest go first") {
  CookieJar jar;
  const auto now = CookieJar::Clock::now();
  jar.set_cookie("bystander=1", URL::parse("http://other.test/"), now);
  // Subdomains count with their registrable domain: a.example.test and
  // b.example.test share example.test's 50.
  for (int i = 0; i < 60; ++i)
    jar.set_cookie(numbered("c", i, "=1"), URL::parse(i % 2 ? "http://a.example.test/" : "http://b.example.test/"),
                   now);
  CHECK(jar.size() == 1 + CookieLimits{}.max_cookies_per_domain);
  CHECK(jar.cookies().front().name == "bystander");
  CHECK(jar.cookies()[1].name == "c10");  // c0 to c9 evicted, oldest first
  CHECK(jar.header_for(URL::parse("http://other.test/"), now) == "bystander=1");

  // A host that is a public suffix is a site of its own, not the owner of every name under it.
  jar.set_cookie("own=1", URL::parse("http://test/"), now);
  CHECK(jar.cookies()[1].name == "c10");
  // So is a site under a public suffix under a registrable domain.
  CookieJar nested;
  nested.set_cookie("bucket=1", URL::parse("https://bucket.us-east-1.amazonaws.com/"), now);
  for (int i = 0; i < 60; ++i) nested.set_cookie(numbered("c", i, "=1"), URL::parse("https://amazonaws.com/"), now);
  CHECK(nested.cookies().front().name == "bucket");

  for (int site = 0; site < 61; ++site)
    for (int i = 0; i < 50; ++i)
      jar.set_cookie(numbered("k", i, "=1"), URL::parse(numbered("http://s", site, ".test/")), now);
  CHECK(jar.size() == CookieLimits{}.max_cookies);
  CHECK(jar.header_for(URL::parse("http://other.test/"), now).empty());
  CHECK(jar.header_for(URL::parse("http://s0.test/"), now).empty());
  CHECK_FALSE(jar.header_for(URL::parse("http://s60.test/"), now).empty());
}

TEST_CASE("the Cookie header stops before 8190 bytes: the cookies that do not fit are left out") {
  CookieJar jar;
  const auto now = CookieJar::Clock::now();
  const URL site = URL::parse("http://example.test/a/b");
  jar.set_cookie("first=" + std::string(4000, 'x') + "; Path=/a", site, now);
  jar.set_cookie("second=" + std::string(4000, 'y') + "; Path=/", site, now);
  jar.set_cookie("third=" + std::string(500, 'z') + "; Path=/", site, now);
  jar.set_cookie("small=1; Path=/", site, now);
  const std::string header = jar.header_for(site, now);
  CHECK(header.size() + std::string_view("Cookie: ").size() <= CookieLimits{}.max_header_line);
  CHECK(header.starts_with("first="));
  CHECK(header.find("second=") != std::string::npos);
  CHECK(header.find("third=") == std::string::npos);
  CHECK(header.ends_with("; small=1"));  // past the one left out, a shorter one still fits
}

TEST_CASE("a jar's limits can be set, down to none") {
  const auto now = CookieJar::Clock::now();
  const URL site = URL::parse("http://example.test/");
  CookieJar small({.max_cookie_size = 8, .max_cookies_per_domain = 2, .max_header_line = 15});
  small.set_cookie("a=1234567", site, now);
  small.set_cookie("b=12345678", site, now);  // 9 bytes
  small.set_cookie("c=1", site, now);
  small.set_cookie("d=1", site, now);  // a goes
  CHECK(small.size() == 2);
  CHECK(small.header_for(site, now) == "c=1");  // "Cookie: c=1; d=1" would be 16 bytes

  CookieJar none({.max_cookies = 0, .max_header_line = 0});
  none.set_cookie("a=1", site, now);
  CHECK(none.size() == 0);
  CHECK(none.header_for(site, now).empty());
}

TEST_CASE("expired cookies leave the jar when the next response sets one, or the next request asks for them") {
  using namespace std::chrono;
  CookieJar jar;
  const auto now = CookieJar::Clock::now();
  const URL site = URL::parse("http://example.test/");
  jar.set_cookie("brief=1; Max-Age=60", site, now);
  jar.set_cookie("session=1", site, now);
  jar.set_cookie("other=1", URL::parse("http://other.test/"), now);
  jar.set_cookie("late=1; Max-Age=60", URL::parse("http://late.test/"), now);
  jar.set_cookie("next=1", URL::parse("http://next.test/"), now + minutes(2));
  CHECK(jar.size() == 3);  // brief and late are gone, whatever their site
  jar.set_cookie("soon=1; Max-Age=60", site, now + minutes(2));
  CHECK(jar.header_for(URL::parse("http://other.test/"), now + minutes(4)) == "other=1");
  CHECK(jar.size() == 3);  // soon too
}

TEST_CASE("eviction takes non-Secure cookies before Secure ones, and an http:// response evicts no Secure cookie") {
  CookieJar jar;
  const auto now = CookieJar::Clock::now();
  const URL tls = URL::parse("https://example.test/");
  for (int i = 0; i < 10; ++i) jar.set_cookie(numbered("s", i, "=1; Secure"), tls, now);
  for (int i = 0; i < 40; ++i) jar.set_cookie(numbered("p", i, "=1"), tls, now);
  jar.set_cookie("extra=1", tls, now);
  REQUIRE(jar.size() == CookieLimits{}.max_cookies_per_domain);
  CHECK(jar.cookies().front().name == "s0");
  CHECK(jar.cookies()[10].name == "p1");  // p0 went, the oldest without Secure

  CookieJar secure_only;
  for (int i = 0; i < 50; ++i) secure_only.set_cookie(numbered("s", i, "=1; Secure"), tls, now);
  secure_only.set_cookie("plain=1", URL::parse("http://example.test/"), now);  // no room but a Secure cookie's
  CHECK(secure_only.size() == CookieLimits{}.max_cookies_per_domain);
  CHECK(secure_only.cookies().front().name == "s0");
  CHECK(secure_only.cookies().back().name == "s49");
}

TEST_CASE("cookies set by the server come back on later requests, through redirects") {
  using coring::Task;
  using test_support::with_server;
  using test_support::with_session;
  with_server([](Server& server) -> Task<> {
    co_await with_session({}, [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(server.base_url() + "/cookies/set?session=abc&theme=dark");
      CHECK(co_await r.read() == "session=abc; theme=dark");  // the redirect already carried them
      auto again = co_await s.get(server.base_url() + "/cookies");
      CHECK(co_await again.read() == "session=abc; theme=dark");
      CHECK(s.cookie_jar().size() == 2);
    });
    co_await with_session({.use_cookies = false}, [&](ClientSession& s) -> Task<> {
      auto r = co_await s.get(server.base_url() + "/cookies/set?x=1");
      CHECK((co_await r.read()).empty());
      CHECK(s.cookie_jar().size() == 0);
    });
  });
}
