#pragma once
// What a ClientResponse holds (see detail::ResponseState in response.hpp):
// for response.cpp, and for the cache that keeps freed ones.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "coring/http/response.hpp"

namespace coring::http::detail {

struct ResponseState {
  int status = 0;
  std::string reason;
  Headers headers;
  Headers trailers;  // taken from the body source at its end
  URL url;
  std::string method;
  std::unique_ptr<BodySource> body;
  std::string pending;  // body bytes read from the source, not yet consumed
  std::string whole;    // the body, once read() has read it
  std::size_t recycled_body_size = 0;
  std::size_t max_read_size = 0;  // for read() and read_view(); 0: none
  bool ended = false;
  bool read_whole = false;
  std::vector<ClientResponse> history;
};

/// The way in to a response's state for the session, which sets what the
/// backend that made the response does not know, and for the backend, which
/// measures the phases before the response exists.
struct ResponseAccess {
  static void limit_read(ClientResponse& r, std::size_t max_read_size) noexcept {
    r.state_->max_read_size = max_read_size;
  }
  /// The responses that redirected to `r`, oldest first.
  static void set_history(ClientResponse& r, std::vector<ClientResponse> history) noexcept {
    r.state_->history = std::move(history);
  }
  /// Replaces the body source by `wrap(source)` (before any body is read).
  template <class Wrap>
  static void decode_body(ClientResponse& r, Wrap&& wrap) {
    if (std::unique_ptr<BodySource> raw = std::move(r.state_->body)) r.state_->body = wrap(std::move(raw));
  }
  static void set_timings(ClientResponse& r, const Timings& timings) noexcept { r.timings_ = timings; }
};

}  // namespace coring::http::detail
