#include "decoding_body.hpp"

#include "coring/http/errors.hpp"
#include "coring/http/headers.hpp"

namespace coring::http::detail {

std::unique_ptr<BodySource> decoding_body(std::unique_ptr<BodySource> inner, std::string_view encoding,
                                          const URL& url, std::size_t max_size) {
  if (iequals(encoding, "gzip") || iequals(encoding, "x-gzip")) return inflating_body(std::move(inner), true, url, max_size);
  if (iequals(encoding, "deflate")) return inflating_body(std::move(inner), false, url, max_size);
  if (iequals(encoding, "br")) return brotli_body(std::move(inner), url, max_size);
  return inner;
}

DecodingBody::DecodingBody(std::unique_ptr<BodySource> inner, std::string_view encoding, const URL& url,
                           std::size_t max_size)
    : inner_(std::move(inner)), encoding_(encoding), url_(url), max_size_(max_size) {}

Task<bool> DecodingBody::read_more(std::string& out) {
  for (;;) {
    if (ended_) co_return false;
    std::string encoded;
    const bool more = co_await inner_->read_more(encoded);
    if (const Ready ready = step(encoded, more, out); ready != Ready::must_wait) co_return ready == Ready::more;
  }
}

BodySource::Ready DecodingBody::read_ready(std::string& out) {
  for (;;) {
    if (ended_) return Ready::ended;
    std::string encoded;
    const Ready inner = inner_->read_ready(encoded);
    if (inner == Ready::must_wait) return Ready::must_wait;
    if (const Ready ready = step(encoded, inner == Ready::more, out); ready != Ready::must_wait) return ready;
  }
}

BodySource::Ready DecodingBody::step(const std::string& encoded, bool inner_more, std::string& out) {
  const std::size_t before = out.size();
  if (!encoded.empty()) decode(encoded, out);
  if (out.size() > before) return Ready::more;
  if (inner_more) return Ready::must_wait;
  ended_ = true;
  if (!finished())
    throw ClientPayloadError("response body of " + url_.to_string() + ": the " + std::string(encoding_) +
                             " stream is cut short");
  return Ready::ended;
}

void DecodingBody::emit(std::string& out, const char* data, std::size_t size) {
  decoded_ += size;
  if (max_size_ != 0 && decoded_ > max_size_)
    throw ClientPayloadError("response body of " + url_.to_string() + ": decoded " + std::string(encoding_) +
                             " body larger than the limit of " + std::to_string(max_size_) + " bytes");
  out.append(data, size);
}

void DecodingBody::bad_data(std::string_view why) const {
  throw ClientPayloadError("response body of " + url_.to_string() + ": bad " + std::string(encoding_) + " data (" +
                           std::string(why) + ")");
}

}  // namespace coring::http::detail
