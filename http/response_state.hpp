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
  bool ended = false;
  bool read_whole = false;
  std::vector<ClientResponse> history;
};

}  // namespace coring::http::detail
