#pragma once
// Sockets on the loop: TCP and Unix-domain streams, connect, accept, send,
// receive and close, each an io_uring operation. Every operation that waits
// can be cancelled (the kernel operation is cancelled in the kernel, and the
// buffer must stay alive until the awaiting coroutine resumes, which it does
// only after the kernel let go of it) and so works under wait_for.
#include <sys/socket.h>

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "coring/detail/io_completion.hpp"
#include "coring/detail/task_base.hpp"
#include "coring/task.hpp"

namespace coring {

class EventLoop;

/// An IPv4, IPv6 or Unix-domain socket address.
class SocketAddress {
 public:
  SocketAddress() noexcept;
  /// "127.0.0.1:8080", "[::1]:8080", or a Unix socket path ("/run/x.sock",
  /// "unix:/run/x.sock"). Numeric addresses only (no DNS); InvalidArgument
  /// (std::invalid_argument) naming the text if it does not parse.
  static SocketAddress parse(std::string_view text);
  static SocketAddress ip(std::string_view numeric_host, std::uint16_t port);
  static SocketAddress unix_path(std::string_view path);
  static SocketAddress from_native(const sockaddr* address, socklen_t length);

  [[nodiscard]] int family() const noexcept { return storage_.ss_family; }
  [[nodiscard]] bool is_unix() const noexcept { return family() == AF_UNIX; }
  [[nodiscard]] std::uint16_t port() const noexcept;  // 0 for Unix sockets
  [[nodiscard]] std::string to_string() const;
  [[nodiscard]] const sockaddr* native() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  [[nodiscard]] socklen_t native_size() const noexcept { return size_; }

 private:
  sockaddr_storage storage_;
  socklen_t size_ = 0;
};

namespace detail {

/// The shared half of every socket operation: submits on await_suspend,
/// registers for cancellation, and hands back the CQE's result.
class IoAwaitable : protected Cancellable {
 public:
  IoAwaitable() = default;
  IoAwaitable(IoAwaitable&&) noexcept {}  // movable until awaited
  IoAwaitable& operator=(const IoAwaitable&) = delete;

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h);

 protected:
  ~IoAwaitable() = default;
  /// The CQE's result (>= 0, or -errno). Throws CancelledError if the task
  /// was cancelled before the operation completed. A completed operation's
  /// result is returned even if a cancellation came in meanwhile: it is
  /// then raised at the next suspension point, and no data is lost.
  int result();
  virtual void prepare(EventLoop& loop) = 0;
  /// Operations that must run to the end (close) are not cancellable.
  virtual bool cancellable() const noexcept { return true; }

  IoCompletion completion_;
  EventLoop* loop_ = nullptr;

 private:
  void cancel() noexcept override;
  bool interrupted_ = false;  // never submitted: a cancellation was pending
};

}  // namespace detail

class Socket;

class [[nodiscard]] RecvOperation final : public detail::IoAwaitable {
 public:
  RecvOperation(int fd, std::span<std::byte> buffer) noexcept : fd_(fd), buffer_(buffer) {}
  /// Bytes received; 0 when the peer has closed its side. OSError otherwise.
  std::size_t await_resume();

 private:
  void prepare(EventLoop& loop) override;
  int fd_;
  std::span<std::byte> buffer_;
};

class [[nodiscard]] SendOperation final : public detail::IoAwaitable {
 public:
  SendOperation(int fd, std::span<const std::byte> data) noexcept : fd_(fd), data_(data) {}
  /// Bytes sent (maybe fewer than asked). OSError on failure (EPIPE, ECONNRESET).
  std::size_t await_resume();

 private:
  void prepare(EventLoop& loop) override;
  int fd_;
  std::span<const std::byte> data_;
};

class [[nodiscard]] AcceptOperation final : public detail::IoAwaitable {
 public:
  explicit AcceptOperation(int fd) noexcept : fd_(fd) {}
  Socket await_resume();

 private:
  void prepare(EventLoop& loop) override;
  int fd_;
  sockaddr_storage peer_{};
  socklen_t peer_size_ = sizeof peer_;
};

class [[nodiscard]] CloseOperation final : public detail::IoAwaitable {
 public:
  explicit CloseOperation(int fd) noexcept : fd_(fd) {}
  bool await_ready() const noexcept { return fd_ < 0; }  // already closed
  void await_resume();

 private:
  void prepare(EventLoop& loop) override;
  bool cancellable() const noexcept override { return false; }
  int fd_;
};

/// Waits until `fd` is ready for `events` (POLLIN, POLLOUT: <poll.h>) and
/// returns the events that fired. For descriptors owned by other libraries
/// (a DNS resolver's sockets); coring's own sockets use recv/send directly.
class [[nodiscard]] PollOperation final : public detail::IoAwaitable {
 public:
  PollOperation(int fd, unsigned events) noexcept : fd_(fd), events_(events) {}
  unsigned await_resume();

 private:
  void prepare(EventLoop& loop) override;
  int fd_;
  unsigned events_;
};

inline PollOperation poll(int fd, unsigned events) noexcept { return PollOperation(fd, events); }

/// A connected stream socket (TCP or Unix). Move-only; owns its descriptor.
/// Close it with `co_await socket.close()` or use it through async_with;
/// destroying an open Socket closes the descriptor at once and reports the
/// missed close on stderr.
class Socket {
 public:
  Socket() noexcept = default;
  explicit Socket(int fd) noexcept : fd_(fd) {}
  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  ~Socket();

  /// Connects to `address`. TCP sockets get TCP_NODELAY (requests are
  /// written whole; Nagle would only delay them). OSError naming the address
  /// on failure (refused, unreachable...).
  static Task<Socket> connect(SocketAddress address);

  [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0; }
  [[nodiscard]] int fd() const noexcept { return fd_; }

  RecvOperation recv(std::span<std::byte> buffer) noexcept { return {fd_, buffer}; }
  SendOperation send(std::span<const std::byte> data) noexcept { return {fd_, data}; }
  /// Sends all of `data`, in as many sends as it takes.
  Task<> send_all(std::span<const std::byte> data);
  /// Shuts down the sending side (the peer reads end-of-stream).
  void shutdown_write() noexcept;

  /// Closes through the ring. Not cancellable: it always completes. Closing
  /// a closed socket does nothing.
  CloseOperation close() noexcept;
  /// Closes at once, synchronously, without a report (error paths).
  void abort() noexcept;

  [[nodiscard]] SocketAddress local_address() const;
  [[nodiscard]] SocketAddress peer_address() const;

 private:
  int fd_ = -1;
};

/// A listening socket. `bind` is synchronous (it does not wait); `accept`
/// waits for a connection.
class Listener {
 public:
  Listener() noexcept = default;
  Listener(Listener&& other) noexcept;
  Listener& operator=(Listener&& other) noexcept;
  ~Listener();

  /// Binds and listens (SO_REUSEADDR for TCP). Port 0 picks a free port; see
  /// local_address(). OSError naming the address on failure.
  /// With `reuse_port` (SO_REUSEPORT), several listeners, one per thread and
  /// loop, may bind the same TCP port; the kernel spreads connections over them.
  static Listener bind(const SocketAddress& address, int backlog = 1024, bool reuse_port = false);

  AcceptOperation accept() noexcept { return AcceptOperation(fd_); }
  [[nodiscard]] SocketAddress local_address() const;
  [[nodiscard]] bool is_open() const noexcept { return fd_ >= 0; }
  /// Stops listening; a Unix socket's file is removed.
  CloseOperation close() noexcept;
  /// Closes at once, synchronously, without a report (error paths).
  void abort() noexcept;

 private:
  int fd_ = -1;
  std::string unix_path_;
};

}  // namespace coring
