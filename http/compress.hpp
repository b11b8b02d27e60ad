#pragma once
// Compressing a body (gzip, deflate, br), for the test server's /gzip,
// /deflate and /br routes. Defined beside the decoders, in the one file that
// includes each library: zlib_codec.cpp and brotli_codec.cpp.
#include <string>
#include <string_view>

namespace coring::http::detail {

/// `data` compressed with zlib: in gzip's wrapper, or else in zlib's (what
/// HTTP calls deflate).
std::string gzip_compress(std::string_view data, bool gzip_wrapper = true);
/// `data` compressed with brotli. Throws std::runtime_error if the encoder fails.
std::string brotli_compress(std::string_view data);

}  // namespace coring::http::detail
