#pragma once
// Decoding Content-Encoding gzip and deflate as the body streams in
// (inflate.cpp is the one file that includes zlib).
#include <memory>
#include <string_view>

#include "coring/http/response.hpp"
#include "coring/http/url.hpp"

namespace coring::http::detail {

/// Wraps `inner` so that read_more() yields decoded bytes, or returns
/// `inner` unchanged if `encoding` is neither gzip nor deflate. Decoded
/// bytes past `max_size` (0: no limit) are a ClientPayloadError.
std::unique_ptr<BodySource> decoding_body(std::unique_ptr<BodySource> inner, std::string_view encoding,
                                          const URL& url, std::size_t max_size);

/// gzip-compresses `data` (the test server's /gzip route).
std::string gzip_compress(std::string_view data, bool gzip_wrapper = true);

}  // namespace coring::http::detail
