#pragma once
// The header lists of responses that are gone, kept for the next response
// head on the same thread: a keep-alive exchange then allocates no vector
// for its headers (the list moves out of the parser with each response).
#include "coring/http/headers.hpp"

namespace coring::http::detail {

/// An empty Headers with room for a typical head: a recycled one if any.
Headers take_headers();
/// Keeps `headers`' room for take_headers() (a few dozen are kept), and
/// its long strings' for take_string().
void recycle_headers(Headers&& headers) noexcept;
/// Empties `headers`, keeping its long strings' room for take_string().
void recycle_strings(Headers& headers) noexcept;
/// An empty string with room for `size` characters: a recycled one if any
/// (a header value past the string's inline 15 characters, as a Date is).
std::string take_string(std::size_t size);

}  // namespace coring::http::detail
