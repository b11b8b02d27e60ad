// DecodingBody: decoders chosen from Content-Encoding, and the read loop,
// limits and errors they share.
#include "decoding_body.hpp"

#include "ascii.hpp"
#include "coring/http/errors.hpp"
#include "coring/http/headers.hpp"

namespace coring::http::detail {

namespace {

enum class Coding { identity, gzip, deflate, br, unknown };

Coding coding_of(std::string_view name) {
  if (name.empty() || iequals(name, "identity")) return Coding::identity;
  if (iequals(name, "gzip") || iequals(name, "x-gzip")) return Coding::gzip;
  if (iequals(name, "deflate")) return Coding::deflate;
  if (iequals(name, "br")) return Coding::br;
  return Coding::unknown;
}

}  // namespace

std::unique_ptr<BodySource> decoding_body(std::unique_ptr<BodySource> inner, std::string_view encoding,
                                          const URL& url, std::size_t max_size) {
  // Codings listed in the order they were applied (RFC 9110 section 8.4):
  // undone from the last.
  Coding codings[max_codings];
  std::size_t count = 0;
  for (std::string_view rest = encoding;;) {
    const std::size_t comma = rest.find(',');
    const Coding coding = coding_of(trim(rest.substr(0, comma)));
    if (coding == Coding::unknown) return inner;  // not ours to undo: the bytes as sent
    if (coding != Coding::identity) {
      if (count == max_codings)
        throw ClientPayloadError("response body of " + url.to_string() + ": more than " +
                                 std::to_string(max_codings) + " content codings (" + std::string(encoding) + ")");
      codings[count++] = coding;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  while (count > 0) {
    switch (codings[--count]) {
      case Coding::gzip: inner = inflating_body(std::move(inner), true, url, max_size); break;
      case Coding::deflate: inner = inflating_body(std::move(inner), false, url, max_size); break;
      case Coding::br: inner = brotli_body(std::move(inner), url, max_size); break;
      case Coding::identity:
      case Coding::unknown: break;
    }
  }
  return inner;
}

DecodingBody::DecodingBody(std::unique_ptr<BodySource> inner, std::string_view encoding, const URL& url,
                           std::size_t max_size)
    : inner_(std::move(inner)), encoding_(encoding), url_(&url), max_size_(max_size) {}

Task<bool> DecodingBody::read_more(std::string& out) {
  for (;;) {
    if (const std::optional<Ready> ready = from_pending(out)) co_return *ready == Ready::more;
    std::string encoded;
    const bool more = co_await inner_->read_more(encoded);
    took(std::move(encoded), more);
  }
}

BodySource::Ready DecodingBody::read_ready(std::string& out) {
  for (;;) {
    if (const std::optional<Ready> ready = from_pending(out)) return *ready;
    std::string encoded;
    const Ready inner = inner_->read_ready(encoded);
    if (inner == Ready::must_wait) return Ready::must_wait;
    took(std::move(encoded), inner == Ready::more);
  }
}

void DecodingBody::took(std::string&& encoded, bool inner_more) {
  encoded_total_ += encoded.size();
  pending_ = std::move(encoded);
  pending_at_ = 0;
  inner_ended_ = !inner_more;
}

std::optional<BodySource::Ready> DecodingBody::from_pending(std::string& out) {
  if (ended_) return Ready::ended;
  while (pending_at_ < pending_.size() || has_output()) {
    const std::size_t before = out.size();
    const std::size_t used = decode(std::string_view(pending_).substr(pending_at_), out);
    if (used == 0 && out.size() == before) {  // never a spin
      if (pending_at_ < pending_.size()) bad_data("the decoder made no progress");
      break;
    }
    pending_at_ += used;
    if (out.size() > before) return Ready::more;
  }
  if (!inner_ended_) return std::nullopt;
  ended_ = true;
  // No byte at all is an empty body (HEAD, 204, 304), not a cut stream.
  if (!finished() && encoded_total_ != 0)
    throw ClientPayloadError("response body of " + url_->to_string() + ": the " + std::string(encoding_) +
                             " stream is cut short");
  return Ready::ended;
}

void DecodingBody::emit(std::string& out, const char* data, std::size_t size) {
  decoded_ += size;
  if (max_size_ != 0 && decoded_ > max_size_)
    throw ClientPayloadError("response body of " + url_->to_string() + ": decoded " + std::string(encoding_) +
                             " body larger than the limit of " + std::to_string(max_size_) + " bytes");
  out.append(data, size);
}

void DecodingBody::bad_data(std::string_view why) const {
  throw ClientPayloadError("response body of " + url_->to_string() + ": bad " + std::string(encoding_) + " data (" +
                           std::string(why) + ")");
}

}  // namespace coring::http::detail
