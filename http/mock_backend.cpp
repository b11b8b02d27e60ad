// MockBackend: replies registered by method and URL, and the calls it saw.
#include "coring/http/mock.hpp"

#include "coring/errors.hpp"
#include "coring/http/errors.hpp"
#include "coring/sleep.hpp"
#include "time_limit.hpp"

namespace coring::http {

namespace {

std::string key_of(std::string_view method, const URL& url) { return std::string(method) + " " + url.to_string(); }

/// A canned body, handed over in one piece, and its trailers.
class CannedBody final : public BodySource {
 public:
  CannedBody(std::string body, Headers trailers) : body_(std::move(body)), trailers_(std::move(trailers)) {}
  Task<bool> read_more(std::string& out) override {
    if (done_) co_return false;
    done_ = true;
    out += body_;
    co_return !body_.empty();
  }
  Headers take_trailers() override { return std::move(trailers_); }

 private:
  std::string body_;
  Headers trailers_;
  bool done_ = false;
};

}  // namespace

void MockBackend::add(std::string method, std::string_view url, Reply reply) {
  replies_[key_of(method, URL::parse(url))].push_back(std::move(reply));
}

void MockBackend::add_error(std::string method, std::string_view url, std::exception_ptr error) {
  add(std::move(method), url, Reply{.error = std::move(error)});
}

std::size_t MockBackend::call_count(std::string_view method, std::string_view url) const {
  const URL target = URL::parse(url);
  std::size_t n = 0;
  for (const Call& c : calls_)
    if (c.method == method && c.url == target) ++n;
  return n;
}

Task<ClientResponse> MockBackend::send(const PreparedRequest& r) {
  std::string sent = r.body;
  if (r.body_stream) {
    // Drained as the native backend would send it, under `total`, so a test
    // can assert what a streamed body held.
    detail::PhaseTimeout phase(detail::TimeLimit::after(r.started, r.timeout, TimeoutKind::total));
    try {
      for (;;) {
        const std::string chunk = co_await r.body_stream();
        if (chunk.empty()) break;
        sent += chunk;
      }
    } catch (const CancelledError&) {
      if (phase.expired()) phase.raise(r.url);
      throw;
    }
  }
  calls_.push_back({r.method, r.url, r.headers, std::move(sent)});
  const std::string key = key_of(r.method, r.url);
  auto it = replies_.find(key);
  if (it == replies_.end() || it->second.empty())
    throw ClientConnectionError("mock: no reply registered for " + key);
  std::size_t& used = used_[key];
  const Reply& reply = it->second[std::min(used, it->second.size() - 1)];
  ++used;
  if (reply.delay > std::chrono::nanoseconds::zero()) {
    using detail::TimeLimit;
    detail::PhaseTimeout phase(detail::earliest({TimeLimit::after(r.started, r.timeout, TimeoutKind::total),
                                                  TimeLimit::from_now(r.timeout, TimeoutKind::sock_read)}));
    try {
      co_await sleep(reply.delay);
    } catch (const CancelledError&) {
      if (phase.expired()) phase.raise(r.url);
      throw;
    }
  }
  if (reply.error) std::rethrow_exception(reply.error);
  const bool head = r.method == "HEAD";
  co_return ClientResponse(reply.status, reply.reason, reply.headers, r.url,
                           std::make_unique<CannedBody>(head ? std::string() : reply.body,
                                                        head ? Headers() : reply.trailers),
                           r.method);
}

Task<> MockBackend::close() { co_return; }

}  // namespace coring::http
