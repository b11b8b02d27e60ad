#pragma once
// The header lists of responses that are gone, kept for the next response
// head on the same thread: a keep-alive exchange then allocates no vector
// for its headers (the list moves out of the parser with each response).
#include "coring/http/headers.hpp"

namespace coring::http::detail {

/// An empty Headers with room for a typical head: a recycled one if any.
Headers take_headers();
/// Keeps `headers`' room for take_headers() (a few dozen are kept).
void recycle_headers(Headers&& headers) noexcept;

}  // namespace coring::http::detail
