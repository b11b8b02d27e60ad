// Resolver: c-ares driven by io_uring polls and a loop timer, and the
// session's cache of answers.
#include "resolver.hpp"

#include <ares.h>
#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "coring/errors.hpp"
#include "coring/extend/timer.hpp"
#include "coring/http/errors.hpp"
#include "coring/loop.hpp"
#include "coring/sync.hpp"
#include "coring/task_handle.hpp"

namespace coring::http::detail {

namespace {

std::once_flag library_once;

/// One socket c-ares wants watched, and the generation of that want: a
/// watch that finds its entry replaced (the same descriptor number, wanted
/// anew) leaves it alone.
struct Watch {
  TaskHandle<void> task;
  std::uint64_t generation = 0;
};

}  // namespace

struct Resolver::State final : coring::extend::Timer, std::enable_shared_from_this<Resolver::State> {
  ares_channel channel = nullptr;
  EventLoop* loop = nullptr;
  std::unordered_map<int, Watch> watches;
  std::uint64_t generations = 0;
  bool open = true;

  ~State() {
    if (armed()) loop->remove_timer(this);
    if (channel) ares_destroy(channel);
  }

  // c-ares says which sockets it wants watched, and for what.
  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<State*>(data);
    if (auto it = self->watches.find(fd); it != self->watches.end()) {
      it->second.task.cancel();  // its poll is cancelled in the kernel; the task ends on its own
      self->watches.erase(it);
    }
    if (!self->open || (!readable && !writable)) return;
    const unsigned events = (readable ? POLLIN : 0) | (writable ? POLLOUT : 0);
    const std::uint64_t generation = ++self->generations;
    self->watches[fd] = {create_task(watch(self->shared_from_this(), fd, events, generation)), generation};
  }

  /// Polls `fd` and hands each readiness to c-ares, until cancelled. Holds a
  /// share of the state, so the c-ares channel outlives every poll the
  /// kernel still holds.
  static Task<> watch(std::shared_ptr<State> state, int fd, unsigned events, std::uint64_t generation) {
    bool failed = false;
    try {
      for (;;) {
        const unsigned revents = co_await coring::poll(fd, events);
        const bool readable = (revents & (POLLIN | POLLERR | POLLHUP)) != 0;
        const bool writable = (revents & (POLLOUT | POLLERR | POLLHUP)) != 0;
        ares_process_fd(state->channel, readable ? fd : ARES_SOCKET_BAD, writable ? fd : ARES_SOCKET_BAD);
        state->arm_timer();
      }
    } catch (const CancelledError&) {
    } catch (const OSError&) {
      failed = true;
    }
    if (!failed || !state->open) co_return;
    // The poll failed (the socket went away): let c-ares find out.
    if (auto it = state->watches.find(fd); it != state->watches.end() && it->second.generation == generation)
      state->watches.erase(it);
    ares_process_fd(state->channel, fd, fd);
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

/// One ares_getaddrinfo in flight, shared by the task that waits for it and
/// the callback: if the task is cancelled, the callback still comes (at the
/// latest when the channel is destroyed) and drops the last share.
struct Query {
  Event done;
  int status = ARES_SUCCESS;
  std::vector<SocketAddress> addresses;

  static void on_result(void* arg, int status, int, ares_addrinfo* result) {
    const std::unique_ptr<std::shared_ptr<Query>> share(static_cast<std::shared_ptr<Query>*>(arg));
    Query& q = **share;
    q.status = status;
    if (status == ARES_SUCCESS && result != nullptr) {
      for (ares_addrinfo_node* n = result->nodes; n != nullptr; n = n->ai_next)
        q.addresses.push_back(SocketAddress::from_native(n->ai_addr, n->ai_addrlen));
    }
    if (result) ares_freeaddrinfo(result);
    q.done.set();
  }
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
  for (auto& [fd, watch] : state_->watches) watch.task.cancel();
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
  auto query = std::make_shared<Query>();
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  ares_getaddrinfo(state_->channel, host.c_str(), nullptr, &hints, &Query::on_result,
                   new std::shared_ptr<Query>(query));
  state_->arm_timer();
  co_await query->done.wait();
  const int status = query->status;
  std::vector<SocketAddress> addresses = std::move(query->addresses);
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
