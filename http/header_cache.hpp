#pragma once
// The memory of responses that are gone, kept for the next response on the
// same thread: their states, header lists (each moves out of the parser
// with its response) and body buffers. A keep-alive exchange then allocates
// no state, no vector for its headers and no string for a body up to the
// limit.
#include "coring/http/headers.hpp"
#include "response_state.hpp"

namespace coring::http::detail {

/// An empty Headers with room for a typical head: a recycled one if any.
Headers take_headers();
/// Keeps `headers`' room for take_headers() (a few dozen are kept).
void recycle_headers(Headers&& headers) noexcept;
/// An empty string to read a body into: a recycled one if any.
std::string take_body_buffer();
/// Keeps `buffer`'s room for take_body_buffer() if it is at most `limit`
/// (a few dozen are kept); a larger one is freed.
void recycle_body_buffer(std::string&& buffer, std::size_t limit) noexcept;
/// A response state as new: a kept one if any.
ResponseState* take_response_state();
/// Empties `state` (its body source goes: see BodySource) and keeps it, with
/// its headers' and body buffers' room, for the next response.
void recycle_response_state(ResponseState* state) noexcept;

}  // namespace coring::http::detail
