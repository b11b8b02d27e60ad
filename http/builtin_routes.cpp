// The routes of builtin_routes(): what the integration tests and the
// benchmark's embedded server need, including deliberately broken answers.
#include <charconv>
#include <chrono>
#include <string>
#include <vector>

#include "coring/http/server.hpp"
#include "coring/sleep.hpp"
#include "compress.hpp"

namespace coring::http {

namespace {

// String literals go in as string_view literals: GCC 12 rejects a plain
// literal bound to a string_view parameter inside co_await ("array used as
// initializer", a compiler bug).
using namespace std::string_view_literals;

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return parts;
}

std::size_t number(std::string_view text, std::size_t fallback = 0) {
  std::size_t value = fallback;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::string query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name && eq != std::string_view::npos) return std::string(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

std::string chunk(std::string_view data) {
  char size[32];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out(size, static_cast<std::size_t>(n));
  out += data;
  out += "\r\n";
  return out;
}

Task<> route(ServerExchange& ex) {
  const ServerRequest& req = ex.request();
  const auto parts = split_path(req.path);
  const std::string_view first = parts.empty() ? "" : parts[0];
  const std::string_view arg = parts.size() > 1 ? parts[1] : "";

  if (first == "small") co_return co_await ex.respond(200, "Hello, world!"sv);
  if (first == "bytes") co_return co_await ex.respond(200, pattern_bytes(number(arg)));
  if (first == "chunked") {
    const std::string body = pattern_bytes(number(arg));
    const std::size_t size = std::max<std::size_t>(1, number(query_value(req.query, "chunk"), 4096));
    std::string out = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (std::size_t i = 0; i < body.size(); i += size) out += chunk(std::string_view(body).substr(i, size));
    out += "0\r\n\r\n";
    co_return co_await ex.write_raw(out);
  }
  if (first == "trailers") {  // /trailers/N?count=K&size=S&as=gzip: /chunked/N, then K trailer fields
    const std::size_t count = number(query_value(req.query, "count"), 1);
    const std::size_t size = number(query_value(req.query, "size"));
    std::string body = pattern_bytes(number(arg));
    std::string out = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n";
    if (query_value(req.query, "as") == "gzip") {
      body = detail::gzip_compress(body);
      out += "Content-Encoding: gzip\r\n";
    }
    std::string fields;
    for (std::size_t i = 0; i < count; ++i) {
      const std::string number_text = std::to_string(i);
      // Announced, as RFC 9110 6.6.2 asks.
      if (count <= 16) out.append("Trailer: X-Trailer-").append(number_text).append("\r\n");
      fields.append("X-Trailer-").append(number_text).append(": ");
      if (size > 0) {
        fields.append(size, 't');
      } else {
        fields.append("t").append(number_text);
      }
      fields.append("\r\n");
    }
    out += "\r\n";
    for (std::size_t i = 0; i < body.size(); i += 1000) out += chunk(std::string_view(body).substr(i, 1000));
    out.append("0\r\n").append(fields).append("\r\n");
    co_return co_await ex.write_raw(out);
  }
  if (first == "delay") {
    co_await sleep(std::chrono::milliseconds(number(arg)));
    co_return co_await ex.respond(200, "delayed"sv);
  }
  if (first == "drip") {
    const std::size_t n = number(arg);
    const auto every = std::chrono::milliseconds(parts.size() > 2 ? number(parts[2]) : 10);
    co_await ex.write_raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"sv);
    const std::string body = pattern_bytes(n);
    for (std::size_t i = 0; i < n; ++i) {
      co_await sleep(every);
      co_await ex.write_raw(chunk(std::string_view(body).substr(i, 1)));
    }
    co_return co_await ex.write_raw("0\r\n\r\n"sv);
  }
  if (first == "encoded") {  // /encoded/N?as=gzip,br: the codings applied in that order, and listed so
    const std::string as = query_value(req.query, "as");
    std::string body = pattern_bytes(number(arg));
    std::string_view rest = as;
    while (!rest.empty()) {
      const std::string_view coding = rest.substr(0, rest.find(','));
      if (coding == "br") body = detail::brotli_compress(body);
      if (coding == "gzip" || coding == "deflate") body = detail::gzip_compress(body, coding == "gzip");
      rest.remove_prefix(std::min(rest.size(), coding.size() + 1));
    }
    Headers encoding;
    encoding.add("Content-Encoding", as);
    co_return co_await ex.respond(200, body, encoding);
  }
  if (first == "gzip" || first == "deflate" || first == "br") {
    Headers encoding;
    encoding.add("Content-Encoding", std::string(first));
    const std::string plain = pattern_bytes(number(arg));
    std::string body = first == "br" ? detail::brotli_compress(plain) : detail::gzip_compress(plain, first == "gzip");
    if (first == "gzip" && query_value(req.query, "members") == "2") {  // the halves as two gzip members
      const std::string_view half = std::string_view(plain).substr(0, plain.size() / 2);
      body = detail::gzip_compress(half) + detail::gzip_compress(std::string_view(plain).substr(half.size()));
    }
    if (query_value(req.query, "corrupt") == "1") body[body.size() / 2] ^= 0x55;
    if (query_value(req.query, "truncate") == "1") body.resize(body.size() / 2);
    co_return co_await ex.respond(200, body, encoding);
  }
  if (first == "cookies") {
    if (arg == "set") {  // /cookies/set?a=1&b=2: one Set-Cookie each, then 302 to /cookies
      Headers out;
      std::string_view q = req.query;
      while (!q.empty()) {
        const auto amp = q.find('&');
        out.add("Set-Cookie", std::string(q.substr(0, amp)) + "; Path=/");
        if (amp == std::string_view::npos) break;
        q.remove_prefix(amp + 1);
      }
      out.add("Location", "/cookies");
      co_return co_await ex.respond(302, ""sv, out);
    }
    const auto cookie = req.headers.get("Cookie");
    co_return co_await ex.respond(200, std::string(cookie.value_or("")));
  }
  if (first == "status") co_return co_await ex.respond(static_cast<int>(number(arg, 200)), "status\n"sv);
  if (first == "redirect") {
    const std::size_t n = number(arg);
    if (n == 0) co_return co_await ex.respond(200, "redirected\n"sv);
    Headers location;
    location.add("Location", "/redirect/" + std::to_string(n - 1));
    co_return co_await ex.respond(302, ""sv, location);
  }
  if (first == "echo") {
    std::string text = req.method + " " + req.target + "\n";
    for (const auto& [name, value] : req.headers) {
      text += name;
      text += ": ";
      text += value;
      text += '\n';
    }
    text += "\n" + req.body;
    co_return co_await ex.respond(200, text);
  }
  if (first == "keepalive") {
    Headers hint;
    hint.add("Keep-Alive", "timeout=" + std::string(arg));
    co_return co_await ex.respond(200, "hint"sv, hint);
  }
  if (first == "close") {
    ex.close_connection();
    co_return co_await ex.respond(200, "closing"sv);
  }
  if (first == "close-mid-body") {
    ex.close_connection();
    co_return co_await ex.write_raw("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789"sv);
  }
  if (first == "no-length") {
    ex.close_connection();
    co_return co_await ex.write_raw("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until close"sv);
  }
  if (first == "bad-status") {
    ex.close_connection();
    co_return co_await ex.write_raw("HTTP/1.1 two hundred OK\r\n\r\n"sv);
  }
  if (first == "long-header") {
    ex.close_connection();
    co_return co_await ex.write_raw("HTTP/1.1 200 OK\r\nX-Long: " + std::string(9000, 'x') +
                                    "\r\nContent-Length: 0\r\n\r\n");
  }
  if (first == "many-headers") {
    std::string out = "HTTP/1.1 200 OK\r\n";
    for (int i = 0; i < 200; ++i) out += "X-H" + std::to_string(i) + ": v\r\n";
    out += "Content-Length: 0\r\n\r\n";
    ex.close_connection();
    co_return co_await ex.write_raw(out);
  }
  if (first == "bad-chunk") {
    ex.close_connection();
    co_return co_await ex.write_raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n"sv);
  }
  if (first == "extra-bytes") {
    co_return co_await ex.write_raw("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\npoison"sv);
  }
  if (first == "interim") {
    co_return co_await ex.write_raw("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"sv);
  }
  co_await ex.respond(404, "no route for " + req.path + "\n");
}

}  // namespace

std::string pattern_bytes(std::size_t n) {
  std::string s(n, 'a');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

Server::Handler builtin_routes() { return &route; }

}  // namespace coring::http
