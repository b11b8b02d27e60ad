// Resolver: c-ares driven by io_uring polls and a loop timer, and the
// session's cache of answers.
#include "resolver.hpp"

#include <ares.h>
#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "coring/detail/io_completion.hpp"
#include "coring/detail/timer_heap.hpp"
#include "coring/errors.hpp"
#include "coring/http/errors.hpp"
#include "coring/loop.hpp"
#include "../runtime/ring.hpp"

namespace coring::http::detail {

namespace {

std::once_flag library_once;

/// One c-ares socket being watched: a poll in flight on the ring. It owns a
/// share of the resolver's state, so the state (and the c-ares channel)
/// outlives every poll the kernel still holds.
struct Watch : coring::detail::IoCompletion {
  std::shared_ptr<Resolver::State> state;
  int fd = -1;
  unsigned events = 0;
  bool wanted = true;
};

}  // namespace

struct Resolver::State final : coring::detail::TimerNode, std::enable_shared_from_this<Resolver::State> {
  ares_channel channel = nullptr;
  EventLoop* loop = nullptr;
  std::unordered_map<int, Watch*> watches;
  bool open = true;

  ~State() {
    if (armed()) loop->remove_timer(this);
    if (channel) ares_destroy(channel);
  }

  // c-ares says which sockets it wants watched, and for what.
  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<State*>(data);
    auto it = self->watches.find(fd);
    if (it != self->watches.end()) {
      // Done with this watch: the poll is cancelled; its CQE frees it.
      it->second->wanted = false;
      self->loop->ring().prep_cancel(it->second);
      self->watches.erase(it);
    }
    if (!self->open || (!readable && !writable)) return;
    auto* watch = new Watch;
    watch->state = self->shared_from_this();
    watch->fd = fd;
    watch->events = (readable ? POLLIN : 0) | (writable ? POLLOUT : 0);
    watch->on_complete = &State::on_poll;
    self->watches[fd] = watch;
    self->loop->ring().prep_poll(fd, watch->events, watch);
  }

  static void on_poll(coring::detail::IoCompletion* op) {
    auto* watch = static_cast<Watch*>(op);
    std::shared_ptr<State> state = watch->state;
    if (!watch->wanted || !state->open || op->result < 0) {
      if (watch->wanted && state->open) {
        // The poll failed (the socket went away): let c-ares find out.
        state->watches.erase(watch->fd);
        ares_process_fd(state->channel, watch->fd, watch->fd);
        state->arm_timer();
      }
      delete watch;
      return;
    }
    const unsigned revents = static_cast<unsigned>(op->result);
    const int fd = watch->fd;
    const bool readable = (revents & (POLLIN | POLLERR | POLLHUP)) != 0;
    const bool writable = (revents & (POLLOUT | POLLERR | POLLHUP)) != 0;
    // Re-arm first: processing may replace or drop this watch.
    state->loop->ring().prep_poll(fd, watch->events, watch);
    ares_process_fd(state->channel, readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
    state->arm_timer();
  }

  void on_timer() noexcept override {
    ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    arm_timer();
  }

  void arm_timer() noexcept {
    if (armed()) loop->remove_timer(this);
    if (!open) return;
    timeval tv{};
    if (ares_timeout(channel, nullptr, &tv) == nullptr) return;  // nothing pending
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(tv.tv_sec) +
               std::chrono::microseconds(tv.tv_usec);
    loop->add_timer(this);
  }
};

namespace {

/// One ares_getaddrinfo in flight. Heap-allocated: if the coroutine that
/// waits is cancelled, the callback still comes and frees it.
struct Query {
  EventLoop* loop = nullptr;
  coring::detail::TaskBase* task = nullptr;
  std::coroutine_handle<> handle;
  bool done = false;
  bool abandoned = false;
  int status = ARES_SUCCESS;
  std::vector<SocketAddress> addresses;

  static void on_result(void* arg, int status, int, ares_addrinfo* result) {
    auto* q = static_cast<Query*>(arg);
    q->status = status;
    if (status == ARES_SUCCESS && result != nullptr) {
      for (ares_addrinfo_node* n = result->nodes; n != nullptr; n = n->ai_next)
        q->addresses.push_back(SocketAddress::from_native(n->ai_addr, n->ai_addrlen));
    }
    if (result) ares_freeaddrinfo(result);
    q->done = true;
    if (q->abandoned) {
      delete q;
    } else if (q->handle) {
      q->loop->schedule(q->task, q->handle);
    }
  }
};

/// Suspends until the query's callback has run; cancellable (the query is
/// then abandoned to finish on its own).
struct QueryAwaiter final : coring::detail::Cancellable {
  Query* query;
  bool gave_up = false;  // then `query` belongs to its callback: never touched again
  explicit QueryAwaiter(Query* q) noexcept : query(q) {}
  bool await_ready() const noexcept { return query->done; }
  bool await_suspend(std::coroutine_handle<> h) noexcept {
    query->loop = &EventLoop::get();
    query->task = query->loop->current_task();
    if (query->task->must_cancel) return false;
    query->handle = h;
    task_of_cancel = query->task;
    query->task->suspended_at = this;
    return true;
  }
  void cancel() noexcept override {
    if (query->done || gave_up) return;
    gave_up = true;
    query->abandoned = true;
    query->loop->schedule(query->task, query->handle);
  }
  /// True if the query was given up (the caller must not touch it).
  bool await_resume() {
    if (gave_up) {
      task_of_cancel->suspended_at = nullptr;
      task_of_cancel->throw_if_cancelled();
      return true;
    }
    if (query->task) query->task->suspended_at = nullptr;
    if (!query->done) {  // never suspended: a cancellation was pending
      query->abandoned = true;
      gave_up = true;
      query->task->throw_if_cancelled();
    }
    return false;
  }
  coring::detail::TaskBase* task_of_cancel = nullptr;
};

SocketAddress with_port(SocketAddress a, std::uint16_t port) {
  sockaddr_storage s{};
  std::memcpy(&s, a.native(), a.native_size());
  if (s.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&s)->sin_port = htons(port);
  if (s.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&s)->sin6_port = htons(port);
  return SocketAddress::from_native(reinterpret_cast<sockaddr*>(&s), a.native_size());
}

}  // namespace

Resolver::Resolver(Options options) : options_(std::move(options)) {
  std::call_once(library_once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

Resolver::~Resolver() { close(); }

void Resolver::close() noexcept {
  if (!state_) return;
  state_->open = false;
  for (auto& [fd, watch] : state_->watches) {
    watch->wanted = false;
    state_->loop->ring().prep_cancel(watch);
  }
  state_->watches.clear();
  if (state_->armed()) state_->loop->remove_timer(state_.get());
  state_.reset();  // the last watch to finish frees the channel
}

Task<std::vector<SocketAddress>> Resolver::resolve(const std::string& host, std::uint16_t port, bool& cache_hit) {
  cache_hit = false;
  try {
    co_return std::vector<SocketAddress>{SocketAddress::ip(host, port)};
  } catch (const std::invalid_argument&) {
  }
  const auto now = std::chrono::steady_clock::now();
  if (auto it = cache_.find(host); it != cache_.end()) {
    if (it->second.expires > now) {
      cache_hit = true;
      std::vector<SocketAddress> out;
      for (const auto& a : it->second.addresses) out.push_back(with_port(a, port));
      co_return out;
    }
    cache_.erase(it);
  }
  if (!state_) {
    state_ = std::make_shared<State>();
    state_->loop = &EventLoop::get();
    ares_options opts{};
    opts.sock_state_cb = &State::on_socket_state;
    opts.sock_state_cb_data = state_.get();
    opts.timeout = 2000;  // ms per try
    opts.tries = 2;
    const int rc = ares_init_options(&state_->channel, &opts, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
    if (rc != ARES_SUCCESS) {
      state_.reset();
      throw ClientConnectorError(std::string("cannot start the DNS resolver: ") + ares_strerror(rc), 0);
    }
    if (!options_.servers.empty()) {
      std::string csv;
      for (const auto& s : options_.servers) csv += (csv.empty() ? "" : ",") + s;
      if (ares_set_servers_ports_csv(state_->channel, csv.c_str()) != ARES_SUCCESS)
        throw ClientConnectorError("bad DNS server list \"" + csv + "\"", 0);
    }
  }
  auto* query = new Query;
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  ares_getaddrinfo(state_->channel, host.c_str(), nullptr, &hints, &Query::on_result, query);
  state_->arm_timer();
  // If this throws (cancelled), the abandoned query is freed by its callback.
  co_await QueryAwaiter{query};
  const int status = query->status;
  std::vector<SocketAddress> addresses = std::move(query->addresses);
  delete query;
  if (status != ARES_SUCCESS || addresses.empty())
    throw ClientConnectorError("cannot resolve host \"" + host + "\": " +
                                   (status != ARES_SUCCESS ? ares_strerror(status) : "no address"),
                               0);
  if (cache_.size() >= sweep_at_) {
    std::erase_if(cache_, [now](const auto& entry) { return entry.second.expires <= now; });
    sweep_at_ = std::max<std::size_t>(64, 2 * cache_.size());
  }
  cache_[host] = {addresses, now + options_.cache_ttl};
  for (auto& a : addresses) a = with_port(a, port);
  co_return addresses;
}

}  // namespace coring::http::detail
