// ConnectionPool and Lease: slots under the limits, the FIFO of waiters,
// places in pipelines, idle connections and their expiry, spare read buffers.
#include "connection_pool.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "coring/loop.hpp"
#include "time_limit.hpp"

namespace coring::http::detail {

// ---- Lease ----

Lease::Lease(Lease&& other) noexcept
    : connection(std::move(other.connection)),
      reused(other.reused),
      pool_(std::exchange(other.pool_, nullptr)),
      key_(other.key_) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release(false);
    connection = std::move(other.connection);
    reused = other.reused;
    pool_ = std::exchange(other.pool_, nullptr);
    key_ = other.key_;
  }
  return *this;
}

Lease::~Lease() { release(false); }

bool Connection::sent_while_idle() {
  if (receiver) return receiver->ready();  // its receive stays armed while idle
  if (tls) return tls->sent_while_idle();
  // A plain socket read by recv (no provided-buffer rings): asked directly.
  if (!socket.is_open()) return false;
  char byte = 0;
  const ssize_t n = ::recv(socket.fd(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

void Lease::attach(std::shared_ptr<Connection> fresh) {
  connection = std::move(fresh);
  connection->users = 1;
  ++connection->requests;
  if (pool_ != nullptr && !connection->buffer) connection->buffer = pool_->take_buffer();
}

void Lease::release(bool reusable) noexcept {
  if (pool_ == nullptr) return;
  std::exchange(pool_, nullptr)->release_lease(*key_, std::move(connection), reusable);
}

// ---- ConnectionPool ----

namespace {
/// A request takes a place in the connection's pipeline.
void join(Connection& c) noexcept {
  ++c.users;
  ++c.requests;
}
}  // namespace

struct ConnectionPool::Waiter final : coring::extend::Waiter {
  ConnectionPool& pool;
  std::string_view key;
  bool may_join;
  bool has_slot = false;
  std::shared_ptr<Connection> joined;  // instead of a slot: a place in a pipeline
  Waiter(ConnectionPool& p, std::string_view k, bool join) : pool(p), key(k), may_join(join) {}
  bool await_ready() {
    if (!pool.waiters_.empty()) return false;  // FIFO
    if (pool.has_room(key)) {
      pool.take_slot(key);
      has_slot = true;
      return true;
    }
    if (may_join) joined = pool.joinable(key);
    if (joined) join(*joined);
    return joined != nullptr;
  }
  bool await_suspend(std::coroutine_handle<> h) noexcept { return park(pool.waiters_, h); }
  void await_resume() {
    if (!unpark()) return;
    has_slot = granted && !joined;
    if (cancel_pending()) {
      if (has_slot) pool.release_slot(key, nullptr, false);
      if (joined) pool.release_lease(key, std::move(joined), true);  // nothing was sent on it
      raise_if_cancelled();
    }
  }
};

ConnectionPool::ConnectionPool(TCPConnector options) : options_(options) {}

ConnectionPool::~ConnectionPool() {
  if (armed() && loop_ != nullptr) loop_->remove_timer(this);
}

ConnectionPool::Hosts::value_type* ConnectionPool::find_host(std::string_view key) noexcept {
  if (last_host_ != nullptr && last_host_->first == key) return last_host_;
  auto it = hosts_.find(key);
  if (it == hosts_.end()) return nullptr;
  last_host_ = &*it;
  return last_host_;
}

ConnectionPool::Hosts::value_type& ConnectionPool::host_entry(std::string_view key) {
  if (Hosts::value_type* found = find_host(key)) return *found;
  last_host_ = &*hosts_.try_emplace(std::string(key)).first;
  return *last_host_;
}

bool ConnectionPool::has_room(std::string_view key) {
  if (options_.limit != 0 && in_use_ >= options_.limit) return false;
  if (options_.limit_per_host != 0) {
    const auto* host = find_host(key);
    if (host != nullptr && host->second.in_use >= options_.limit_per_host) return false;
  }
  return true;
}

void ConnectionPool::take_slot(std::string_view key) {
  ++in_use_;
  ++host_entry(key).second.in_use;
}

Task<Lease> ConnectionPool::acquire(std::string_view key, Reuse reuse) {
  if (closed_) throw ClientError("the session is closed");
  Waiter waiter{*this, key, reuse == Reuse::idle_or_join};
  co_await waiter;
  if (closed_) {
    if (waiter.has_slot) release_slot(key, nullptr, false);
    if (waiter.joined) release_lease(key, std::move(waiter.joined), true);
    throw ClientError("the session was closed while this request waited for a connection");
  }
  auto* const host = &host_entry(key);
  Lease lease(this, &host->first);
  if (waiter.joined) {
    lease.connection = std::move(waiter.joined);  // its users count already holds this lease
    lease.reused = true;
    co_return lease;
  }
  auto& idle = host->second.idle;
  // A true clock read, not the loop's time: this pass may have run a while,
  // and a connection past its idle time may be closed by the server already.
  const auto now = reuse != Reuse::none && !idle.empty() ? Clock::now() : Clock::time_point{};
  while (reuse != Reuse::none && !idle.empty()) {
    std::shared_ptr<Connection> candidate = std::move(idle.back());
    idle.pop_back();
    const bool stale = candidate->sent_while_idle();
    if (candidate->idle_until > now && !stale) {
      lease.attach(std::move(candidate));
      lease.reused = true;
      break;
    }
  }
  co_return lease;
}

void ConnectionPool::offer(Lease& lease) {
  Connection& c = *lease.connection;
  if (c.joinable || c.spent || c.pipeline.broken() || closed_) return;
  c.joinable = true;
  find_host(lease.key())->second.busy.push_back(lease.connection);
  wake_waiters();
}

std::shared_ptr<Connection> ConnectionPool::joinable(std::string_view key) {
  if (closed_) return nullptr;
  const auto* host = find_host(key);
  if (host == nullptr) return nullptr;
  const std::shared_ptr<Connection>* best = nullptr;
  const std::uint64_t max_requests = host->second.max_requests;
  for (const auto& c : host->second.busy) {
    if (c->spent || c->pipeline.broken() || c->users >= options_.pipelining) continue;
    if (c->requests >= std::min(max_requests, c->max_requests)) continue;
    if (best == nullptr || c->users < (*best)->users) best = &c;
  }
  return best != nullptr ? *best : nullptr;
}

void ConnectionPool::learn_max_requests(std::string_view key, std::uint64_t requests) {
  if (auto* host = find_host(key)) host->second.max_requests = requests;
}

void ConnectionPool::learn_kept_alive(std::string_view key, std::uint64_t requests) {
  auto* host = find_host(key);
  if (host != nullptr && host->second.max_requests <= requests)
    host->second.max_requests = std::numeric_limits<std::uint64_t>::max();  // learned again at the next close
}

void ConnectionPool::release_lease(std::string_view key, std::shared_ptr<Connection> connection, bool reusable) noexcept {
  if (connection) {
    if (!reusable) connection->spent = true;
    if (--connection->users > 0) {
      if (connection->joinable) wake_waiters();  // room in its pipeline
      return;
    }
    if (connection->joinable) {
      connection->joinable = false;
      std::erase(find_host(key)->second.busy, connection);
    }
    reusable = !connection->spent;
  }
  release_slot(key, std::move(connection), reusable);
}

bool ConnectionPool::Host::unused() const noexcept {
  return in_use == 0 && idle.empty() && busy.empty() && max_requests == std::numeric_limits<std::uint64_t>::max();
}

void ConnectionPool::forget_if_unused(Hosts::iterator entry) noexcept {
  if (!entry->second.unused()) return;
  if (last_host_ == &*entry) last_host_ = nullptr;
  hosts_.erase(entry);
}

void ConnectionPool::release_slot(std::string_view key, std::shared_ptr<Connection> connection,
                                  bool reusable) noexcept {
  Hosts::value_type* const entry = find_host(key);  // made when the slot was taken
  Host& host = entry->second;
  --in_use_;
  --host.in_use;
  // A few spares absorb the ups and downs of a steady load; more would keep
  // the memory of a burst that is over.
  constexpr std::size_t spares_kept = 32;
  if (connection && connection->buffer) {
    if (spare_buffers_.size() < spares_kept) {
      spare_buffers_.push_back(std::move(connection->buffer));
    } else {
      connection->buffer.reset();
    }
  }
  if (connection && reusable && !closed_ && !options_.force_close && !connection->has_unread() &&
      connection->idle_until > loop_now()) {
    const auto until = connection->idle_until;
    host.idle.push_back(std::move(connection));
    arm_by(until);
  }
  connection.reset();
  wake_waiters();
  // Last: `key` may be the entry's own, and a waiter woken may have taken a slot on it.
  if (host.unused()) forget_if_unused(hosts_.find(entry->first));
}

std::unique_ptr<char[]> ConnectionPool::take_buffer() {
  if (spare_buffers_.empty()) return std::make_unique<char[]>(Connection::buffer_size);
  auto buffer = std::move(spare_buffers_.back());
  spare_buffers_.pop_back();
  return buffer;
}

void ConnectionPool::wake_waiters() noexcept {
  // In FIFO order, and no further than the first waiter that must go on
  // waiting: nobody overtakes it, so a request that needs a slot of its
  // own (one that cannot be pipelined) gets one once the connections in
  // use drain, and a wake costs what it wakes, not the whole queue.
  waiters_.for_each_while([this](coring::extend::Waiter* w) {
    auto* waiter = static_cast<Waiter*>(w);
    if (closed_ || has_room(waiter->key)) {
      coring::extend::WaiterQueue::remove(waiter);
      if (!closed_) take_slot(waiter->key);
      waiter->wake(!closed_);
      return true;
    }
    std::shared_ptr<Connection> c = waiter->may_join ? joinable(waiter->key) : nullptr;
    if (!c) return false;
    coring::extend::WaiterQueue::remove(waiter);
    join(*c);
    waiter->joined = std::move(c);
    waiter->wake(true);
    return true;
  });
}

std::size_t ConnectionPool::idle_count() const noexcept {
  std::size_t n = 0;
  for (const auto& [key, host] : hosts_) n += host.idle.size();
  return n;
}

void ConnectionPool::arm_expiry() noexcept {
  std::optional<Clock::time_point> earliest;
  for (const auto& [key, host] : hosts_)
    for (const auto& c : host.idle)
      if (!earliest || c->idle_until < *earliest) earliest = c->idle_until;
  if (loop_ == nullptr) loop_ = EventLoop::current();
  if (loop_ == nullptr) return;
  if (armed()) loop_->remove_timer(this);
  if (!earliest) return;
  deadline = *earliest;
  loop_->add_timer(this);
}

void ConnectionPool::arm_by(Clock::time_point when) noexcept {
  if (loop_ == nullptr) loop_ = EventLoop::current();
  if (loop_ == nullptr) return;
  if (armed()) {
    if (deadline <= when) return;  // it fires first anyway, and re-arms for the rest
    loop_->remove_timer(this);
  }
  deadline = when;
  loop_->add_timer(this);
}

void ConnectionPool::on_timer() noexcept {
  const auto now = loop_now();
  for (auto it = hosts_.begin(); it != hosts_.end();) {
    std::erase_if(it->second.idle, [now](const std::shared_ptr<Connection>& c) { return c->idle_until <= now; });
    forget_if_unused(it++);
  }
  arm_expiry();
}

void ConnectionPool::close_all() noexcept {
  closed_ = true;
  for (auto& [key, host] : hosts_) {
    host.idle.clear();
    for (auto& c : host.busy) c->joinable = false;
    host.busy.clear();
  }
  spare_buffers_.clear();
  if (armed() && loop_ != nullptr) loop_->remove_timer(this);
  wake_waiters();
}

}  // namespace coring::http::detail
