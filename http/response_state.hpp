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
/// backend that made the response does not know.
struct ResponseAccess {
  static void limit_read(ClientResponse& r, std::size_t max_read_size) noexcept {
    r.state_->max_read_size = max_read_size;
  }
};

}  // namespace coring::http::detail
