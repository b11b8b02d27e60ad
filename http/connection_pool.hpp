#pragma once
// The native backend's pool of keep-alive connections: limits (total and
// per host), a FIFO of waiting requests, idle expiry.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "coring/extend/timer.hpp"
#include "coring/extend/waiter.hpp"
#include "coring/http/client.hpp"
#include "coring/multishot_receiver.hpp"
#include "coring/net.hpp"
#include "parser.hpp"
#include "pipeline.hpp"
#include "tls.hpp"

namespace coring::http::detail {

/// One HTTP/1.1 connection: its socket, its parser and its read buffer.
/// Shared by the leases of the requests pipelined on it.
struct Connection {
  explicit Connection(std::string k, ParserLimits limits) : key(std::move(k)), parser(limits) {}
  ~Connection() {  // a pooled connection closes at once, without a report
    receiver.reset();  // first: while its receive is armed the kernel holds the socket open
    socket.abort();
  }

  std::string key;  // scheme://host:port
  Socket socket;
  /// http: reads `socket` through one armed receive, which also tells when
  /// an idle connection was closed or sent something unasked. Absent for
  /// https and on kernels without provided-buffer rings (recv instead).
  std::optional<MultishotReceiver> receiver;
  std::unique_ptr<TLSStream> tls;  // https: over `socket`, so declared after it
  ResponseParser parser;
  std::string out;  // the request being written (its capacity is reused)
  std::chrono::steady_clock::time_point idle_until{};
  std::uint64_t requests = 0;  // leases it was given to, pipelined or not
  static constexpr std::size_t buffer_size = 16384;
  /// The read buffer, held only while the connection is leased: an idle
  /// pooled connection gives it back to the pool's spares (see Lease).
  std::unique_ptr<char[]> buffer;
  /// Bytes read past the end of a response: the start of the next one
  /// (pipelining), at buffer[unread_begin, unread_end).
  std::size_t unread_begin = 0;
  std::size_t unread_end = 0;
  [[nodiscard]] bool has_unread() const noexcept { return unread_begin < unread_end; }
  Pipeline pipeline;
  std::size_t users = 0;  // leases holding it
  /// Requests the server takes on it (its Keep-Alive: max hint).
  std::uint64_t max_requests = std::numeric_limits<std::uint64_t>::max();
  /// Takes pipelined requests: listed in its host's `busy`, open to joiners.
  bool joinable = false;
  /// Some lease gave it back as not reusable: closed when the last one leaves.
  bool spent = false;

  /// Whether the server sent something, or closed, while the connection
  /// idled in the pool: it would fail, or answer the next request with a
  /// response nobody asked for.
  [[nodiscard]] bool sent_while_idle();
};

class ConnectionPool;

/// A right to one connection slot, and maybe the connection in it. If it is
/// destroyed still holding one, the connection is closed (never pooled): an
/// exception, a cancellation or an unread body ends it.
class Lease {
 public:
  Lease() = default;
  /// `key` is the pool's own copy (a key of its host table, which lives as long as the pool).
  Lease(ConnectionPool* pool, const std::string* key) : pool_(pool), key_(key) {}
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;
  ~Lease();

  /// Has its read buffer while leased.
  std::shared_ptr<Connection> connection;
  bool reused = false;
  /// Sets `connection` (a new one) and gives it a read buffer.
  void attach(std::shared_ptr<Connection> fresh);
  [[nodiscard]] const std::string& key() const noexcept { return *key_; }
  /// Gives the connection back for reuse (if `reusable`) and frees the
  /// slot, once the last lease sharing the connection has given it back.
  void release(bool reusable) noexcept;

 private:
  ConnectionPool* pool_ = nullptr;
  const std::string* key_ = nullptr;
};

class ConnectionPool final : coring::extend::Timer {
 public:
  explicit ConnectionPool(TCPConnector options);
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  ~ConnectionPool();

  /// Which connections a request may take.
  enum class Reuse {
    idle,           ///< an idle one, or else a new one
    idle_or_join,   ///< the same, or, when no slot is free, a place in a busy connection's pipeline
    none,           ///< a new one (a retry after a pooled connection failed)
  };
  /// Waits (FIFO) for a free slot under the limits, then returns it, with an
  /// idle connection to that host if `reuse` allows and there is one; or,
  /// with idle_or_join, a place in a pipeline if that comes first.
  /// Cancellable. `key` must live until the returned task ends.
  Task<Lease> acquire(std::string_view key, Reuse reuse = Reuse::idle);
  /// Opens the leased connection to requests pipelined behind this one.
  void offer(Lease& lease);
  /// The host closed a connection after `requests` requests: no more than
  /// that many are pipelined on one of its connections from now on.
  void learn_max_requests(std::string_view key, std::uint64_t requests);
  /// A connection stayed open after its `requests`th request: if the limit
  /// learned for the host is not above that, it was no limit (a close for
  /// another reason, a server restarted with a higher one) and is
  /// forgotten, to be learned again at the host's next such close (what is
  /// pipelined past it then is sent again, as after any failure ahead).
  void learn_kept_alive(std::string_view key, std::uint64_t requests);
  void close_all() noexcept;
  /// True if acquire() would have to wait for a slot now.
  [[nodiscard]] bool must_wait(std::string_view key) { return !waiters_.empty() || !has_room(key); }
  [[nodiscard]] std::size_t idle_count() const noexcept;
  [[nodiscard]] std::size_t in_use() const noexcept { return in_use_; }
  /// Hosts with an entry: those with connections in use or pooled, or a
  /// learned request limit (the others are forgotten).
  [[nodiscard]] std::size_t host_count() const noexcept { return hosts_.size(); }

 private:
  friend class Lease;
  struct Host {
    std::vector<std::shared_ptr<Connection>> idle;  // most recently used last
    /// Leased connections that take pipelined requests (pipelining > 1).
    std::vector<std::shared_ptr<Connection>> busy;
    std::size_t in_use = 0;
    /// Requests the host takes on a connection before it closes it, as last seen.
    std::uint64_t max_requests = std::numeric_limits<std::uint64_t>::max();
    [[nodiscard]] bool unused() const noexcept;  // nothing in use, pooled or learned
  };
  struct Waiter;
  /// Looked up by string_view: a request's key need not be a std::string.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept { return std::hash<std::string_view>{}(key); }
  };
  using Hosts = std::unordered_map<std::string, Host, KeyHash, std::equal_to<>>;
  /// The host's entry, made at its first request (the only allocation for a key).
  Hosts::value_type& host_entry(std::string_view key);
  /// The host's entry if it has one. The last one found is remembered: a
  /// load on one host hashes its key once, not at each of a request's
  /// lookups.
  Hosts::value_type* find_host(std::string_view key) noexcept;
  /// Erases the entry of a host with no connection in use or pooled and no
  /// learned limit: a client that visits many hosts (a crawler) keeps
  /// memory only for those it still uses.
  void forget_if_unused(Hosts::iterator entry) noexcept;
  bool has_room(std::string_view key);
  void take_slot(std::string_view key);
  void release_slot(std::string_view key, std::shared_ptr<Connection> connection, bool reusable) noexcept;
  /// A lease of `connection` is given back: frees the slot if it was the last.
  void release_lease(std::string_view key, std::shared_ptr<Connection> connection, bool reusable) noexcept;
  /// The least loaded busy connection to `key` with room in its pipeline.
  std::shared_ptr<Connection> joinable(std::string_view key);
  void wake_waiters() noexcept;
  /// A read buffer from the spares, or a new one.
  std::unique_ptr<char[]> take_buffer();
  void on_timer() noexcept override;  // idle expiry
  /// Arms the expiry timer for the earliest idle deadline: a scan of every
  /// idle connection, done when the timer fires (not at every release).
  void arm_expiry() noexcept;
  /// Makes sure the timer fires by `when` (a connection just went idle): O(1).
  void arm_by(std::chrono::steady_clock::time_point when) noexcept;

  TCPConnector options_;
  Hosts hosts_;
  Hosts::value_type* last_host_ = nullptr;
  std::size_t in_use_ = 0;
  coring::extend::WaiterQueue waiters_;
  /// Read buffers of connections gone idle or closed, for the next lease:
  /// memory follows the connections in use, not the pooled ones, and a
  /// steady state allocates none.
  std::vector<std::unique_ptr<char[]>> spare_buffers_;
  EventLoop* loop_ = nullptr;
  bool closed_ = false;
};

}  // namespace coring::http::detail
