#pragma once
// Decoding a body's Content-Encoding (gzip, deflate, br) as it streams in:
// DecodingBody reads and bounds, a subclass per library decodes
// (zlib_codec.cpp is the one file that includes zlib, brotli_codec.cpp
// the one that includes brotli; each also holds its library's encoder).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "coring/http/response.hpp"
#include "coring/http/url.hpp"

namespace coring::http::detail {

/// What a session's Accept-Encoding offers: every encoding decoding_body decodes.
inline constexpr std::string_view accepted_encodings = "gzip, deflate, br";

/// The most codings one body may stack (curl's limit too): each is a
/// decoder, and a list without end would be as many.
inline constexpr std::size_t max_codings = 5;

/// Wraps `inner` so that read_more() yields decoded bytes, undoing each
/// coding of `encoding` ("gzip", or a list as "gzip, br": the last applied
/// is undone first), or returns `inner` unchanged if one of them is not of
/// accepted_encodings (or x-gzip, identity). Decoded bytes past `max_size`
/// (0: no limit) are a ClientPayloadError; so are more than max_codings.
/// `url`, named in errors, must outlive the body: the response's, which owns it.
std::unique_ptr<BodySource> decoding_body(std::unique_ptr<BodySource> inner, std::string_view encoding,
                                          const URL& url, std::size_t max_size);

/// The read loop, the limits and the errors, for every encoding; a subclass
/// decodes. A read yields at most about 64 KiB, whatever one received piece
/// decodes to (a few KiB of brotli can decode to gigabytes), and an empty
/// body is empty, not a cut stream (HEAD, 204, 304 with Content-Encoding).
class DecodingBody : public BodySource {
 public:
  DecodingBody(std::unique_ptr<BodySource> inner, std::string_view encoding, const URL& url, std::size_t max_size);
  Task<bool> read_more(std::string& out) override;
  Ready read_ready(std::string& out) override;
  /// The inner body's: trailers are not encoded.
  Headers take_trailers() override { return inner_->take_trailers(); }

 protected:
  /// Output a decode() call stops after.
  static constexpr std::size_t output_per_call = 64 * 1024;
  /// Decodes from `in` onto `out`, through emit(), until `in` is used up,
  /// the encoded stream ends, or output_per_call bytes are out; returns how
  /// much of `in` it used (all of it once the stream has ended: bytes after
  /// the end are ignored). bad_data() on garbage.
  virtual std::size_t decode(std::string_view in, std::string& out) = 0;
  /// Whether the end of the encoded stream has been decoded.
  [[nodiscard]] virtual bool finished() const noexcept = 0;
  /// Whether decoded bytes wait inside the decoder, for decode() to give
  /// without more input (it stopped at output_per_call, or its buffer was full).
  [[nodiscard]] virtual bool has_output() const noexcept = 0;

  /// Appends decoded bytes. Call it for every few KiB decoded, not once at
  /// the end: a few KiB of gzip can decode to gigabytes.
  void emit(std::string& out, const char* data, std::size_t size);
  /// Throws ClientPayloadError: "bad <encoding> data (<why>)".
  [[noreturn]] void bad_data(std::string_view why) const;

 private:
  /// Decodes from what is pending: `more` if that made output, `ended` at
  /// the end of both bodies, nullopt when the inner body must give more.
  std::optional<Ready> from_pending(std::string& out);
  /// What the inner body gave; `inner_more` false: it has ended.
  void took(std::string&& encoded, bool inner_more);

  std::unique_ptr<BodySource> inner_;
  std::string_view encoding_;  // a literal: "gzip", "deflate", "br"
  const URL* url_;  // the response's, which owns this body
  std::size_t max_size_;  // 0: none
  std::size_t decoded_ = 0;
  std::uint64_t encoded_total_ = 0;
  std::string pending_;  // taken from the inner body, not decoded yet from pending_at_
  std::size_t pending_at_ = 0;
  bool inner_ended_ = false;
  bool ended_ = false;
};

// One per library.
std::unique_ptr<BodySource> inflating_body(std::unique_ptr<BodySource> inner, bool gzip, const URL& url,
                                           std::size_t max_size);
std::unique_ptr<BodySource> brotli_body(std::unique_ptr<BodySource> inner, const URL& url, std::size_t max_size);

}  // namespace coring::http::detail
