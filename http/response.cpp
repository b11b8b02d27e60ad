// ClientResponse: its body read whole, as a view or in pieces, and its
// connection let go.
#include "coring/http/response.hpp"

#include <charconv>

#include "coring/http/errors.hpp"
#include "time_limit.hpp"
#include "header_cache.hpp"
#include "response_state.hpp"

namespace coring::http {

ClientResponse::ClientResponse(int status, std::string reason, Headers headers, URL url,
                               std::unique_ptr<BodySource> body, std::string method, std::size_t recycled_body_size)
    : state_(detail::take_response_state()) {
  detail::ResponseState& s = *state_;
  s.status = status;
  s.reason = std::move(reason);
  s.headers = std::move(headers);
  s.url = std::move(url);
  s.method = std::move(method);
  s.body = std::move(body);
  s.recycled_body_size = recycled_body_size;
  if (!s.body) {
    s.ended = true;
  } else if (recycled_body_size > 0) {
    s.pending = detail::take_body_buffer();
    // Room for the whole body at once when its length is known: grown piece
    // by piece, a buffer can end up to twice the body, past the limit.
    std::size_t length = 0;
    if (const auto text = s.headers.get("content-length");
        text && std::from_chars(text->data(), text->data() + text->size(), length).ec == std::errc{} &&
        length <= recycled_body_size)
      s.pending.reserve(length);
  }
}

// `content` is not moved: it is rebuilt to point at this object.
ClientResponse::ClientResponse(ClientResponse&& other) noexcept
    : timings_(other.timings_), state_(std::move(other.state_)) {}

ClientResponse& ClientResponse::operator=(ClientResponse&& other) noexcept {
  if (this != &other) {
    timings_ = other.timings_;
    state_ = std::move(other.state_);
  }
  return *this;
}

// Dropping the body source unread closes its connection (see BodySource).
ClientResponse::~ClientResponse() = default;

void detail::ResponseStateRecycler::operator()(ResponseState* state) const noexcept {
  recycle_response_state(state);
}

int ClientResponse::status() const noexcept { return state_->status; }
const std::string& ClientResponse::reason() const noexcept { return state_->reason; }
const Headers& ClientResponse::headers() const noexcept { return state_->headers; }
const Headers& ClientResponse::trailers() const noexcept { return state_->trailers; }
const URL& ClientResponse::url() const noexcept { return state_->url; }
const std::string& ClientResponse::method() const noexcept { return state_->method; }
const std::vector<ClientResponse>& ClientResponse::history() const noexcept { return state_->history; }


void ClientResponse::release() noexcept {
  state_->body.reset();
  state_->ended = true;
}

void ClientResponse::end_body() {
  Headers trailers = state_->body->take_trailers();
  state_->ended = true;
  state_->body.reset();  // its connection is back in the pool by now
  state_->trailers = std::move(trailers);
}

Task<bool> ClientResponse::fill() {
  detail::ResponseState& s = *state_;
  if (s.ended) co_return false;
  const bool more = co_await s.body->read_more(s.pending);
  if (!more) end_body();
  co_return more || !s.pending.empty();
}

BodySource::Ready ClientResponse::take_ready() {
  detail::ResponseState& s = *state_;
  if (s.ended) return BodySource::Ready::ended;
  const BodySource::Ready ready = s.body->read_ready(s.pending);
  if (ready == BodySource::Ready::ended) end_body();
  return ready;
}

Task<std::string> ClientResponse::read() {
  const std::string_view body = co_await read_view();
  co_return std::string(body);
}

Task<std::string_view> ClientResponse::read_view() {
  detail::ResponseState& s = *state_;
  if (s.read_whole) co_return s.whole;
  const auto started = coring::http::detail::loop_now();
  while (!s.ended) {
    if (take_ready() == BodySource::Ready::must_wait) co_await fill();
    if (s.max_read_size != 0 && s.pending.size() > s.max_read_size) {
      release();  // its connection is closed: the rest is not read
      throw ClientPayloadError("response body of " + s.url.to_string() + " is over max_read_size (" +
                               std::to_string(s.max_read_size) +
                               " bytes) for read(): read it in pieces through content, or raise max_read_size");
    }
  }
  s.whole = std::move(s.pending);
  s.pending.clear();
  s.read_whole = true;
  timings_.body += std::chrono::duration_cast<Timings::Duration>(coring::http::detail::loop_now() - started);
  co_return s.whole;
}

void ClientResponse::raise_for_status() const {
  const detail::ResponseState& s = *state_;
  if (s.status >= 400)
    throw ClientResponseError(std::to_string(s.status) + " " + s.reason + " for " + s.url.to_string(), s.status);
}

Task<std::string> ContentStream::read(std::size_t n) {
  ClientResponse& r = *response_;
  detail::ResponseState& s = *r.state_;
  while (s.pending.size() < n && !s.ended) {
    if (r.take_ready() != BodySource::Ready::must_wait) continue;
    if (!co_await r.fill()) break;
  }
  const std::size_t take = std::min(n, s.pending.size());
  std::string out = s.pending.substr(0, take);
  s.pending.erase(0, take);
  co_return out;
}

Task<std::string> ContentStream::read_chunk() {
  ClientResponse& r = *response_;
  detail::ResponseState& s = *r.state_;
  if (s.pending.empty() && !s.ended && r.take_ready() == BodySource::Ready::must_wait) co_await r.fill();
  std::string out = std::move(s.pending);
  s.pending.clear();
  co_return out;
}

bool ContentStream::at_eof() const noexcept {
  const detail::ResponseState& s = *response_->state_;
  return s.ended && s.pending.empty();
}

}  // namespace coring::http
