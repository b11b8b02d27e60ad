#include "coring/http/response.hpp"

#include <charconv>

#include "coring/http/errors.hpp"
#include "deadline.hpp"
#include "header_cache.hpp"

namespace coring::http {

ClientResponse::ClientResponse(int status, std::string reason, Headers headers, URL url,
                               std::unique_ptr<BodySource> body, std::string method, std::size_t recycled_body_size)
    : status_(status),
      reason_(std::move(reason)),
      headers_(std::move(headers)),
      url_(std::move(url)),
      method_(std::move(method)),
      body_(std::move(body)),
      recycled_body_size_(recycled_body_size) {
  if (!body_) {
    ended_ = true;
  } else if (recycled_body_size_ > 0) {
    pending_ = detail::take_body_buffer();
    // Room for the whole body at once when its length is known: grown piece
    // by piece, a buffer can end up to twice the body, past the limit.
    std::size_t length = 0;
    if (const auto text = headers_.get("content-length");
        text && std::from_chars(text->data(), text->data() + text->size(), length).ec == std::errc{} &&
        length <= recycled_body_size_)
      pending_.reserve(length);
  }
}

// `content` is not moved: it is rebuilt to point at this object.
ClientResponse::ClientResponse(ClientResponse&& other) noexcept
    : timings(other.timings),
      status_(other.status_),
      reason_(std::move(other.reason_)),
      headers_(std::move(other.headers_)),
      url_(std::move(other.url_)),
      method_(std::move(other.method_)),
      body_(std::move(other.body_)),
      pending_(std::move(other.pending_)),
      whole_(std::move(other.whole_)),
      recycled_body_size_(other.recycled_body_size_),
      ended_(other.ended_),
      read_whole_(other.read_whole_),
      history_(std::move(other.history_)) {}

ClientResponse& ClientResponse::operator=(ClientResponse&& other) noexcept {
  if (this != &other) {
    timings = other.timings;
    status_ = other.status_;
    reason_ = std::move(other.reason_);
    headers_ = std::move(other.headers_);
    url_ = std::move(other.url_);
    method_ = std::move(other.method_);
    body_ = std::move(other.body_);
    pending_ = std::move(other.pending_);
    whole_ = std::move(other.whole_);
    recycled_body_size_ = other.recycled_body_size_;
    ended_ = other.ended_;
    read_whole_ = other.read_whole_;
    history_ = std::move(other.history_);
  }
  return *this;
}

// Dropping the body source unread closes its connection (see BodySource).
ClientResponse::~ClientResponse() {
  detail::recycle_headers(std::move(headers_));
  if (recycled_body_size_ > 0) {
    detail::recycle_body_buffer(std::move(whole_), recycled_body_size_);
    detail::recycle_body_buffer(std::move(pending_), recycled_body_size_);
  }
}

void ClientResponse::release() noexcept {
  body_.reset();
  ended_ = true;
}

Task<bool> ClientResponse::fill() {
  if (ended_) co_return false;
  const bool more = co_await body_->read_more(pending_);
  if (!more) {
    ended_ = true;
    body_.reset();  // its connection is back in the pool by now
  }
  co_return more || !pending_.empty();
}

Task<std::string> ClientResponse::read() {
  const std::string_view body = co_await read_view();
  co_return std::string(body);
}

Task<std::string_view> ClientResponse::read_view() {
  if (read_whole_) co_return whole_;
  const auto started = coring::http::detail::loop_now();
  while (co_await fill()) {
  }
  whole_ = std::move(pending_);
  pending_.clear();
  read_whole_ = true;
  timings.body += std::chrono::duration_cast<Timings::Duration>(coring::http::detail::loop_now() - started);
  co_return whole_;
}

void ClientResponse::raise_for_status() const {
  if (status_ >= 400)
    throw ClientResponseError(std::to_string(status_) + " " + reason_ + " for " + url_.to_string(), status_);
}

Task<std::string> ContentStream::read(std::size_t n) {
  ClientResponse& r = *response_;
  while (r.pending_.size() < n && !r.ended_) {
    if (!co_await r.fill()) break;
  }
  const std::size_t take = std::min(n, r.pending_.size());
  std::string out = r.pending_.substr(0, take);
  r.pending_.erase(0, take);
  co_return out;
}

Task<std::string> ContentStream::read_chunk() {
  ClientResponse& r = *response_;
  if (r.pending_.empty() && !r.ended_) co_await r.fill();
  std::string out = std::move(r.pending_);
  r.pending_.clear();
  co_return out;
}

bool ContentStream::at_eof() const noexcept { return response_->ended_ && response_->pending_.empty(); }

}  // namespace coring::http
