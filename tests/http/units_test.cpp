// URL, Headers, the response parser and the pool's bookkeeping, without sockets.
#include <doctest/doctest.h>

#include <limits>
#include <map>

#include <coring/coring.hpp>
#include <coring/http/errors.hpp>
#include <coring/http/headers.hpp>
#include <coring/http/url.hpp>

#include "../../http/connection_pool.hpp"
#include "../../http/time_limit.hpp"
#include "../../http/parser.hpp"
#include "../../http/proxy.hpp"

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

TEST_CASE("Headers are case-insensitive and multi-valued") {
  Headers h;
  h.add("Set-Cookie", "a=1");
  h.add("set-cookie", "b=2");
  h.add("Content-Type", "text/plain");
  CHECK(h.get("SET-COOKIE") == "a=1");
  CHECK(h.get_all("Set-Cookie").size() == 2);
  h.set("content-type", "application/json");
  CHECK(h.get("Content-Type") == "application/json");
  CHECK(h.remove("set-cookie") == 2);
  CHECK_FALSE(h.contains("Set-Cookie"));
  h.add("Set-Cookie", "c=3");
  CHECK(h.get("set-cookie") == "c=3");
  // Names of every size, long ones too, are found once added, and only then.
  for (std::size_t size = 1; size <= 80; ++size) {
    const std::string name(size, 'X');
    CHECK_FALSE(h.contains(std::string(size, 'x')));
    h.add(name, std::to_string(size));
    CHECK(h.get(std::string(size, 'x')) == std::to_string(size));
  }
  h.clear();
  CHECK_FALSE(h.contains("x"));
  CHECK(h.get_all("content-type").empty());
}

TEST_CASE("Headers agree with a plain list through random adds, sets and removes") {
  // Against a plain list searched in full, over names that share sizes,
  // first and last letters, in either case.
  std::vector<std::string> names;
  for (char first : {'a', 'X', 'z'})
    for (char last : {'a', 'q', 'Z', '-'})
      for (std::size_t size : {1, 2, 7, 10, 16}) {
        std::string name(size, 'm');
        name.front() = first;
        name.back() = last;
        names.push_back(name);
      }
  const auto flip_case = [](std::string name) {
    for (char& c : name)
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) c ^= 0x20;
    return name;
  };
  std::vector<std::pair<std::string, std::string>> model;
  Headers h;
  std::uint32_t seed = 12345;
  const auto next = [&seed](std::uint32_t n) {
    seed = seed * 1664525 + 1013904223;
    return (seed >> 8) % n;
  };
  int wrong = 0;
  for (int step = 0; step < 3000; ++step) {
    const std::string& name = names[next(static_cast<std::uint32_t>(names.size()))];
    const std::string value = std::to_string(step);
    switch (next(4)) {
      case 0:
      case 1:
        h.add(name, value);
        model.emplace_back(name, value);
        break;
      case 2:
        h.set(flip_case(name), value);
        std::erase_if(model, [&](const auto& f) { return iequals(f.first, name); });
        model.emplace_back(name, value);
        break;
      default: {
        const std::size_t removed = std::erase_if(model, [&](const auto& f) { return iequals(f.first, name); });
        if (h.remove(name) != removed) ++wrong;
      }
    }
    if (step % 500 == 499) {  // and from empty again
      h.clear();
      model.clear();
    }
    for (const std::string& probe : names) {
      std::vector<std::string_view> expected;
      for (const auto& [n, v] : model)
        if (iequals(n, probe)) expected.push_back(v);
      const auto found = h.get(flip_case(probe));
      if (expected.empty() ? found.has_value() : found != expected.front()) ++wrong;
      if (h.get_all(probe) != expected) ++wrong;
    }
  }
  CHECK(wrong == 0);
}

TEST_CASE("Headers: a field copied from the same list, and one set again and again, stay whole and small") {
  Headers h;
  h.add("X-Orig", std::string(40, 'o'));
  // The value is a view into the list, which grows (and moves) as it is added.
  for (int i = 0; i < 20; ++i) h.add("X-Copy-" + std::to_string(i), *h.get("X-Orig"));
  for (const auto& [name, value] : h) CHECK(value == std::string(40, 'o'));
  h.set("X-Orig", *h.get("X-Copy-3"));
  CHECK(h.get("X-Orig") == std::string(40, 'o'));
  CHECK(h.size() == 21);
  // Set again and again: the removed bytes go, the list does not grow.
  Headers auth;
  auth.add("Accept", "*/*");
  for (int i = 0; i < 10'000; ++i) auth.set("Authorization", "Bearer " + std::to_string(i));
  CHECK(auth.get("Authorization") == "Bearer 9999");
  CHECK(auth.get("Accept") == "*/*");
  CHECK(auth.byte_capacity() < 1024);
}

TEST_CASE("iequals folds ASCII letters only, at every length and for every byte") {
  const auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  const auto reference = [&](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (fold(a[i]) != fold(b[i])) return false;
    return true;
  };
  // Byte pairs at each place of names 1 to 20 bytes long: every pair up to
  // 3 bytes, every 7th beyond (the word-at-a-time compare must neither fold
  // '@', '[', 0xC1... nor miss a byte).
  int wrong = 0;
  for (std::size_t size = 1; size <= 20; ++size)
    for (std::size_t at = 0; at < size; ++at)
      for (int x = 0; x < 256; ++x)
        for (int y = 0; y < 256; y += (size > 3 ? 7 : 1)) {
          std::string a(size, 'k');
          std::string b(size, 'K');
          a[at] = static_cast<char>(x);
          b[at] = static_cast<char>(y);
          if (iequals(a, b) != reference(a, b)) ++wrong;
        }
  CHECK(wrong == 0);
  CHECK(iequals("Content-Length", "content-length"));
  CHECK_FALSE(iequals("content-lengtH", "content-lengthh"));
  CHECK_FALSE(iequals("a^b", "a~b"));  // differ by the case bit, but not letters
  CHECK(iequals("", ""));
}

TEST_CASE("header values with CR or LF are refused") {
  Headers h;
  CHECK_THROWS_AS(h.add("X-Evil", "a\r\nInjected: yes"), InvalidRequestError);
  CHECK_THROWS_AS(h.add("X-Evil", "a\nb"), InvalidRequestError);
  CHECK_THROWS_AS(h.add("Bad Name", "v"), InvalidRequestError);
  CHECK(h.empty());
}

TEST_CASE("the parser reads a response split at every byte") {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
  detail::ResponseParser p;
  for (char c : wire) p.feed(std::string_view(&c, 1));
  REQUIRE(p.message_complete());
  CHECK(p.head().status == 200);
  CHECK(p.head().reason == "OK");
  CHECK(p.head().headers.get("content-type") == "text/plain");
  CHECK(p.body() == "hello world");
  CHECK(p.keep_alive());
}

TEST_CASE("the parser keeps empty header values, and leaves trailers out of the head") {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Spaces:   \r\nTransfer-Encoding: chunked\r\nX-Last: 1\r\n\r\n"
      "5\r\nhello\r\n0\r\nX-Trailer: t\r\nX-Trailer-2: u\r\n\r\n";
  for (const std::size_t piece : {wire.size(), std::size_t{1}, std::size_t{3}}) {
    CAPTURE(piece);
    detail::ResponseParser p;
    for (std::size_t at = 0; at < wire.size(); at += piece) p.feed(std::string_view(wire).substr(at, piece));
    REQUIRE(p.message_complete());
    const Headers& h = p.head().headers;
    CHECK(h.size() == 4);
    CHECK(h.get("x-empty") == "");
    CHECK(h.get("x-spaces") == "");
    CHECK(h.get("transfer-encoding") == "chunked");
    CHECK(h.get("x-last") == "1");
    CHECK_FALSE(h.contains("x-trailer"));
    CHECK_FALSE(h.contains("x-trailer-2"));
    CHECK(p.body() == "hello");
  }
}

TEST_CASE("whether the connection stays open is known from the head, before the body") {
  // A pipelining client decides from the head; a body still on its way must
  // not make a keep-alive connection look like a closing one.
  detail::ResponseParser p;
  p.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
  REQUIRE(p.head_complete());
  CHECK_FALSE(p.message_complete());
  CHECK(p.keep_alive());
  p.feed("0123456789");
  CHECK(p.message_complete());
  CHECK(p.keep_alive());
  p.start(false);
  p.feed("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 10\r\n\r\n");
  REQUIRE(p.head_complete());
  CHECK_FALSE(p.keep_alive());
  p.start(false);
  p.feed("HTTP/1.1 200 OK\r\n\r\nuntil the end");  // delimited by the close
  REQUIRE(p.head_complete());
  CHECK_FALSE(p.keep_alive());
}

TEST_CASE("the request parser reads a chunked body split at every byte, then the next request") {
  // What a streamed upload (RequestOptions::body_stream) looks like to the server.
  const std::string wire =
      "PUT /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n10\r\n, sixteen bytes!\r\n0\r\n\r\n"
      "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
  detail::RequestParser p;
  std::size_t used = 0;
  while (used < wire.size() && !p.message_complete()) used += p.feed(std::string_view(&wire[used], 1));
  REQUIRE(p.message_complete());
  CHECK(p.head().method == "PUT");
  CHECK(p.body() == "hello, sixteen bytes!");
  CHECK(p.keep_alive());
  p.start();
  p.feed(std::string_view(wire).substr(used));
  REQUIRE(p.message_complete());
  CHECK(p.head().target == "/next");
  CHECK(p.body().empty());
}

TEST_CASE("the parser skips 1xx interim responses") {
  detail::ResponseParser p;
  p.feed("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
  REQUIRE(p.message_complete());
  CHECK(p.head().status == 201);
  CHECK(p.body() == "ok");
}

TEST_CASE("the parser stops at the end of a response and reports what is left") {
  detail::ResponseParser p;
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
  CHECK(p.feed(wire) == wire.size() - 5);
  CHECK(p.message_complete());
}

TEST_CASE("a HEAD response has no body whatever its Content-Length says") {
  detail::ResponseParser p;
  p.start(true);
  p.feed("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
  CHECK(p.message_complete());
  CHECK(p.body().empty());
}

TEST_CASE("1xx, 204 and 304 responses have no body whatever their headers say") {
  detail::ResponseParser p;
  p.feed("HTTP/1.1 100 Continue\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  REQUIRE(p.message_complete());
  CHECK(p.body() == "ok");
  for (const char* status : {"204 No Content", "304 Not Modified"}) {
    p.start(false);
    const std::string wire = std::string("HTTP/1.1 ") + status + "\r\nContent-Length: 5\r\n\r\n";
    CHECK(p.feed(wire) == wire.size());
    CHECK(p.message_complete());
    CHECK(p.keep_alive());
    CHECK(p.body().empty());
  }
}

TEST_CASE("a body delimited by close ends at EOF; a truncated one fails") {
  detail::ResponseParser p;
  p.feed("HTTP/1.1 200 OK\r\n\r\nuntil close");
  CHECK_FALSE(p.message_complete());
  p.finish();
  CHECK(p.message_complete());
  CHECK(p.body() == "until close");
  CHECK_FALSE(p.keep_alive());

  detail::ResponseParser q;
  q.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
  q.finish();
  CHECK(q.failed());
  CHECK(q.error_in_body());
}

TEST_CASE("limits: a long header line, too many headers, a body over the limit") {
  detail::ResponseParser a;
  a.feed("HTTP/1.1 200 OK\r\nX: " + std::string(9000, 'x') + "\r\n\r\n");
  CHECK(a.failed());
  CHECK(a.error().find("8190") != std::string::npos);

  detail::ResponseParser b;
  std::string many = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 129; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  b.feed(many + "\r\n");
  CHECK(b.failed());
  CHECK(b.error().find("128") != std::string::npos);

  detail::ResponseParser c({.max_body_size = 4});
  c.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789");
  CHECK(c.failed());
  CHECK(c.error_in_body());
}

TEST_CASE("limits on a request's head: a long header line, too many headers, each refused as it comes") {
  // The server's parser reads its fields as the client's does, under the same limits.
  detail::RequestParser a;
  const std::string line = "GET / HTTP/1.1\r\nX: " + std::string(9000, 'x') + "\r\n";
  CHECK(a.feed(line) == 0);  // refused in the line, before its end
  CHECK(a.failed());
  CHECK(a.error() == "header line longer than 8190 bytes");
  CHECK(a.error_status() == 431);
  CHECK(a.head().headers.byte_capacity() < 9000);

  detail::RequestParser b;
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 129; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  b.feed(many);
  CHECK(b.failed());  // at the 129th, without waiting for the head's end
  CHECK(b.error() == "more than 128 headers");
  CHECK(b.error_status() == 431);
  CHECK(b.head().headers.size() == 128);

  detail::RequestParser c;
  c.feed("GET / HTTP/1.1\r\nX: " + std::string(8000, 'x') + "\r\nHost: h\r\n\r\n");
  CHECK(c.message_complete());
  CHECK(c.head().headers.get("x")->size() == 8000);

  detail::RequestParser d;  // a target over the line limit, refused before its end
  CHECK(d.feed("GET /" + std::string(9000, 'p')) == 0);
  CHECK(d.error() == "request target longer than 8190 bytes");
  CHECK(d.error_status() == 414);

  detail::RequestParser e;  // llhttp's own refusals keep its name for the cause
  e.feed("GE T / HTTP/1.1\r\n\r\n");
  CHECK(e.error().starts_with("HPE_"));
  CHECK(e.error_status() == 400);
  d.start();  // the next request on the connection starts clean
  CHECK_FALSE(d.failed());
  CHECK(d.error_status() == 400);
}

TEST_CASE("malformed status lines and chunk sizes fail without crashing") {
  for (std::string wire : {"HTTP/1.1 two hundred OK\r\n\r\n", "NOT HTTP AT ALL\r\n\r\n", "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    detail::ResponseParser p;
    p.feed(wire);
    CHECK_MESSAGE(p.failed(), wire);
  }
}

TEST_CASE("a limit over ceil_threshold ends at a whole second, as aiohttp's; one under it, exactly") {
  using detail::TimeLimit;
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start(std::chrono::milliseconds(12'345'678'901));
  const auto whole = [](Clock::time_point t) { return t.time_since_epoch() % std::chrono::seconds(1) == Clock::duration(0); };

  ClientTimeout long_limits{.total = Seconds(300)};
  const TimeLimit total = TimeLimit::after(start, long_limits, TimeoutKind::total);
  REQUIRE(total.at);
  CHECK(whole(*total.at));
  CHECK(*total.at >= start + std::chrono::seconds(300));
  CHECK(*total.at < start + std::chrono::seconds(301));
  CHECK(total.limit == Seconds(300));  // the message names the limit, not the rounding
  // Requests begun within one second share their deadline: one timer run.
  CHECK(TimeLimit::after(start + std::chrono::milliseconds(98), long_limits, TimeoutKind::total).at == total.at);

  ClientTimeout short_limits{.total = Seconds(5), .sock_read = Seconds(0.25)};
  CHECK(TimeLimit::after(start, short_limits, TimeoutKind::total).at == start + std::chrono::seconds(5));
  CHECK(TimeLimit::after(start, short_limits, TimeoutKind::sock_read).at == start + std::chrono::milliseconds(250));
  short_limits.ceil_threshold = Seconds(0);
  CHECK(whole(*TimeLimit::after(start, short_limits, TimeoutKind::sock_read).at));

  // Each kind reads its own field; an unset one arms nothing.
  const ClientTimeout kinds{.total = Seconds(1), .connect = Seconds(2), .sock_connect = Seconds(3),
                            .sock_read = Seconds(4), .pool = std::nullopt};
  CHECK(TimeLimit::after(start, kinds, TimeoutKind::connect).at == start + std::chrono::seconds(2));
  CHECK(TimeLimit::after(start, kinds, TimeoutKind::sock_connect).at == start + std::chrono::seconds(3));
  CHECK(TimeLimit::after(start, kinds, TimeoutKind::sock_read).at == start + std::chrono::seconds(4));
  CHECK_FALSE(TimeLimit::after(start, kinds, TimeoutKind::pool).at);
  CHECK_FALSE(TimeLimit::from_now(kinds, TimeoutKind::pool).at);
  // As aiohttp: 0 or less is no limit; so is one too far to count in nanoseconds.
  for (const Seconds none : {Seconds(0), Seconds(-1), Seconds(1e12), Seconds(std::numeric_limits<double>::infinity()),
                             Seconds(std::numeric_limits<double>::quiet_NaN())}) {
    CHECK_FALSE(TimeLimit::after(start, ClientTimeout{.total = none}, TimeoutKind::total).at);
  }
  const TimeLimit soon = TimeLimit::from_now(kinds, TimeoutKind::total);
  CHECK(*soon.at <= Clock::now() + std::chrono::seconds(1));
  CHECK(*soon.at > Clock::now());
}

TEST_CASE("the pool forgets a host once nothing of it is in use, pooled or learned") {
  using coring::http::detail::Connection;
  using coring::http::detail::ConnectionPool;
  using coring::http::detail::Lease;
  using namespace std::chrono_literals;
  auto body = []() -> coring::Task<> {
    ConnectionPool pool{TCPConnector{}};
    // A crawler's pattern: many hosts, each visited once, nothing kept.
    for (int i = 0; i < 1000; ++i) {
      const std::string key = "http://host-" + std::to_string(i) + ":80";
      Lease lease = co_await pool.acquire(key);
      REQUIRE(pool.host_count() == 1);
      lease.release(false);
    }
    CHECK(pool.host_count() == 0);

    // Kept while a connection to it is pooled; forgotten once that expires.
    const std::string kept = "http://kept:80";
    {
      Lease lease = co_await pool.acquire(kept);
      lease.attach(std::make_shared<Connection>(kept, coring::http::detail::ParserLimits{}));
      lease.connection->idle_until = coring::EventLoop::get().time() + 50ms;
      lease.release(true);
    }
    CHECK(pool.idle_count() == 1);
    CHECK(pool.host_count() == 1);
    {
      Lease again = co_await pool.acquire(kept);  // the pooled connection, through the remembered entry
      CHECK(again.reused);
      again.release(true);
    }
    co_await coring::sleep(100ms);
    CHECK(pool.idle_count() == 0);
    CHECK(pool.host_count() == 0);

    // Kept while it has taught the pool a request limit.
    const std::string limited = "http://limited:80";
    {
      Lease lease = co_await pool.acquire(limited);
      pool.learn_max_requests(limited, 100);
      lease.release(false);
    }
    CHECK(pool.host_count() == 1);
    pool.close_all();
  };
  coring::run(body());
}

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
  env["no_proxy"] = "*";
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
