// The fault routes (fault_routes.hpp): each breaks HTTP in one way.
#include "fault_routes.hpp"

#include <sys/resource.h>

#include <coring/sleep.hpp>
#include <filesystem>
#include <random>
#include <string>

using coring::Task;
using coring::http::ServerExchange;
using namespace std::chrono_literals;

namespace test_support {

namespace {

const std::string_view promise_1000 = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";

std::string huge_header_block() {
  std::string head = "HTTP/1.1 200 OK\r\n";
  const std::string value(1000, 'v');
  for (int i = 0; i < 1024; ++i) head += "X-Filler-" + std::to_string(i) + ": " + value + "\r\n";
  return head + "Content-Length: 2\r\n\r\nok";
}

Task<> drip_forever(ServerExchange& ex) {
  co_await ex.write_raw(promise_1000);
  for (;;) {
    co_await coring::sleep(1s);
    co_await ex.write_raw("x");
  }
}

Task<> handle(ServerExchange& ex) {
  const std::string& path = ex.request().path;
  if (path == "/ok") {
    co_await ex.respond(200, std::string_view("ok"));
  } else if (path == "/reset-before-headers") {
    ex.reset_connection();
  } else if (path == "/reset-during-headers") {
    co_await ex.write_raw("HTTP/1.1 200 OK\r\nContent-Ty");
    ex.reset_connection();
  } else if (path == "/reset-after-headers") {
    co_await ex.write_raw(promise_1000);
    ex.reset_connection();
  } else if (path == "/reset-mid-body") {
    co_await ex.write_raw(std::string(promise_1000) + std::string(100, 'b'));
    ex.reset_connection();
  } else if (path == "/close-during-headers") {
    co_await ex.write_raw("HTTP/1.1 200 OK\r\nContent-Ty");
    ex.close_connection();
  } else if (path == "/close-mid-body-length") {
    co_await ex.write_raw(std::string(promise_1000) + std::string(100, 'b'));
    ex.close_connection();
  } else if (path == "/close-mid-body-chunked") {
    co_await ex.write_raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n");
    ex.close_connection();
  } else if (path == "/bad-status-line") {
    co_await ex.write_raw("HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok");
    ex.close_connection();
  } else if (path == "/bad-header") {
    co_await ex.write_raw("HTTP/1.1 200 OK\r\nThis line has no colon\r\nContent-Length: 2\r\n\r\nok");
    ex.close_connection();
  } else if (path == "/bad-chunk-size") {
    co_await ex.write_raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
    ex.close_connection();
  } else if (path == "/huge-headers") {
    co_await ex.write_raw(huge_header_block());
    ex.close_connection();
  } else if (path.starts_with("/big-body/")) {
    co_await ex.respond(200, std::string(std::stoul(path.substr(10)), 'b'));
  } else if (path == "/drip") {
    co_await drip_forever(ex);
  } else if (path == "/silent") {
    co_await coring::sleep(1h);
  } else if (path == "/flaky") {
    co_await ex.respond(200, std::string_view("ok"));
    // Every other connection, at random, is closed soon after: the client
    // has pooled it by then, and its next request races the close, as with
    // a server's idle timeout.
    static thread_local std::minstd_rand random(12345);
    if (random() % 2 == 0) co_return;
    co_await coring::sleep(std::chrono::microseconds(random() % 3000));
    ex.close_connection();
  } else if (path == "/endless-redirect") {
    // 302 to /ok with a chunked body of up to 4 GiB: until the client lets go.
    co_await ex.write_raw("HTTP/1.1 302 Found\r\nLocation: /ok\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string piece = "10000\r\n" + std::string(0x10000, 'r') + "\r\n";
    for (int i = 0; i < 65536; ++i) co_await ex.write_raw(piece);
    ex.close_connection();
  } else if (path == "/late-extra") {
    co_await ex.respond(200, std::string_view("ok"));
    co_await coring::sleep(100ms);
    co_await ex.write_raw("HTTP/1.1 299 Unasked\r\nContent-Length: 6\r\n\r\npoison");
  } else if (path == "/many-interim") {
    std::string out;
    for (int i = 0; i < 1000; ++i) out += "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n";
    co_await ex.write_raw(out + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    ex.close_connection();
  } else if (path == "/endless-trailer") {
    co_await ex.write_raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n");
    const std::string fields = [] {
      std::string out;
      for (int i = 0; i < 1000; ++i) out += "X-T" + std::to_string(i) + ": v\r\n";
      return out;
    }();
    for (int i = 0; i < 1000; ++i) co_await ex.write_raw(fields);  // a few MB of fields, no end
    ex.close_connection();
  } else if (path == "/long-chunk-extension") {
    co_await ex.write_raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;ext=");
    const std::string value(65536, 'e');
    for (int i = 0; i < 100; ++i) co_await ex.write_raw(value);
    ex.close_connection();
  } else if (path == "/twice") {
    const std::string once = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nonce";
    co_await ex.write_raw(once + once);
  } else {
    co_await ex.respond(404, std::string_view("no such fault"));
  }
}

}  // namespace

coring::http::Server::Handler fault_routes() { return handle; }

std::size_t open_fd_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace test_support
