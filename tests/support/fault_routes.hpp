#pragma once
// A misbehaving server for the client's fault tests: routes for the
// project's http::Server (loopback only) that break HTTP in one way each.
#include <coring/http/server.hpp>

namespace test_support {

///   /ok                      "ok", keep-alive
///   /reset-before-headers    reads the request, then resets (RST) the connection
///   /reset-during-headers    half a status line and headers, then RST
///   /reset-after-headers     a whole head promising 1000 bytes, then RST
///   /reset-mid-body          the head and 100 of the 1000 bytes, then RST
///   /close-during-headers    half a head, then an orderly close (FIN)
///   /close-mid-body-length   the head and 100 of the 1000 bytes, then FIN
///   /close-mid-body-chunked  a chunked head and one chunk, then FIN
///   /bad-status-line         "HTTP/1.1 2x0 OK"
///   /bad-header              a header line without a colon
///   /bad-chunk-size          a chunk size that is not hexadecimal
///   /huge-headers            a header block of 1 MiB (1024 headers of 1 KiB)
///   /big-body/N              N bytes with Content-Length
///   /drip                    a head promising 1000 bytes, then one byte a second, forever
///   /silent                  reads the request and never answers
///   /flaky                   "ok"; then, at random one time in two, closes 0-3 ms later
///   /endless-redirect        302 to /ok with a chunked body that goes on (4 GiB)
///   /late-extra              "ok", then 100 ms later a 299 response nobody asked for
///   /many-interim            1000 interim 103 responses, then the 200
///   /endless-trailer         a chunked body, then trailer fields without end (a few MB)
///   /long-chunk-extension    a chunk size line with 6.5 MB of extension
///   /twice                   answers the one request with two whole responses
coring::http::Server::Handler fault_routes();

/// Descriptors this process has open (/proc/self/fd): tests compare it
/// before and after to find a leaked socket.
std::size_t open_fd_count();

/// This process's peak resident set so far, in KiB (getrusage's ru_maxrss).
long peak_rss_kib();

}  // namespace test_support
