// Socket and Listener on the ring, and the submit/cancel/result machinery
// every socket operation shares.
#include "coring/net.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "coring/async_with.hpp"
#include "coring/errors.hpp"
#include "coring/loop.hpp"
#include "ring.hpp"

namespace coring {

// ---- the shared operation machinery ----

namespace detail {

bool IoAwaitable::await_suspend(std::coroutine_handle<> h) {
  loop_ = &EventLoop::get();
  TaskBase* task = loop_->current_task();
  if (cancellable() && task->must_cancel) {
    interrupted_ = true;
    completion_.task = task;
    return false;
  }
  completion_.task = task;
  completion_.handle = h;
  prepare(*loop_);
  if (cancellable()) task->suspended_at = this;
  return true;
}

void IoAwaitable::cancel() noexcept { loop_->ring().prep_cancel(&completion_); }

int IoAwaitable::result() {
  TaskBase* task = completion_.task;
  if (interrupted_) task->throw_if_cancelled();
  if (cancellable()) task->suspended_at = nullptr;
  const int res = completion_.result;
  if (completion_.cancel_sent && (res == -ECANCELED || res == -EINTR)) task->throw_if_cancelled();
  return res;
}

}  // namespace detail

namespace {
void set_nodelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}
}  // namespace

void RecvOperation::prepare(EventLoop& loop) {
  loop.ring().prep_recv(fd_, buffer_.data(), buffer_.size(), 0, &completion_);
}

std::size_t RecvOperation::await_resume() {
  const int res = result();
  if (res < 0) throw OSError(-res, "recv");
  return static_cast<std::size_t>(res);
}

void SendOperation::prepare(EventLoop& loop) {
  // MSG_NOSIGNAL: a peer that went away is an EPIPE error, not a SIGPIPE.
  loop.ring().prep_send(fd_, data_.data(), data_.size(), MSG_NOSIGNAL, &completion_);
}

std::size_t SendOperation::await_resume() {
  const int res = result();
  if (res < 0) throw OSError(-res, "send");
  return static_cast<std::size_t>(res);
}

void AcceptOperation::prepare(EventLoop& loop) {
  loop.ring().prep_accept(fd_, reinterpret_cast<sockaddr*>(&peer_), &peer_size_, SOCK_CLOEXEC, &completion_);
}

Socket AcceptOperation::await_resume() {
  const int res = result();
  if (res < 0) throw OSError(-res, "accept");
  if (peer_.ss_family == AF_INET || peer_.ss_family == AF_INET6) set_nodelay(res);
  return Socket(res);
}

void PollOperation::prepare(EventLoop& loop) { loop.ring().prep_poll(fd_, events_, &completion_); }

unsigned PollOperation::await_resume() {
  const int res = result();
  if (res < 0) throw OSError(-res, "poll");
  return static_cast<unsigned>(res);
}

void CloseOperation::prepare(EventLoop& loop) { loop.ring().prep_close(fd_, &completion_); }

void CloseOperation::await_resume() {
  // The descriptor is gone whatever close reports (EINTR, EIO): nothing to retry.
  if (fd_ >= 0) (void)result();
}

namespace {
/// connect's kernel half, on the ring.
class ConnectOperation final : public detail::IoAwaitable {
 public:
  ConnectOperation(int fd, const SocketAddress& address) noexcept : fd_(fd), address_(address) {}
  int await_resume() { return result(); }

 private:
  void prepare(EventLoop& loop) override {
    loop.ring().prep_connect(fd_, address_.native(), address_.native_size(), &completion_);
  }
  int fd_;
  const SocketAddress& address_;
};
}  // namespace

namespace {
/// Closes `fd` at once, after handing the loop's queued SQEs to the kernel.
/// One of them may name `fd`: a receive prepared this pass and cancelled
/// behind it. Left queued, it would reach the kernel after the close, when
/// a socket made or accepted in between may hold the number, and read that
/// socket's first bytes: a request lost, and its sender waiting for ever.
void close_now(int fd) noexcept {
  if (EventLoop* loop = EventLoop::current()) loop->ring().submit_queued();
  ::close(fd);
}
}  // namespace

// ---- Socket ----

Socket::Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) {
      detail::report_unreleased("Socket (overwritten while open)");
      close_now(fd_);
    }
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

Socket::~Socket() {
  if (fd_ >= 0) {
    detail::report_unreleased("Socket (not closed; use co_await close() or async_with)");
    close_now(fd_);
  }
}

Task<Socket> Socket::connect(SocketAddress address) {
  const int fd = ::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw OSError(errno, "socket for " + address.to_string());
  Socket socket(fd);
  int res;
  try {
    res = co_await ConnectOperation(fd, address);
  } catch (...) {
    socket.abort();
    throw;
  }
  if (res < 0) {
    socket.abort();
    throw OSError(-res, "connect to " + address.to_string());
  }
  if (!address.is_unix()) set_nodelay(fd);
  co_return socket;
}

Task<> Socket::send_all(std::span<const std::byte> data) {
  while (!data.empty()) {
    const std::size_t sent = co_await send(data);
    if (sent == 0) throw OSError(EPIPE, "send");  // no progress on a non-empty buffer
    data = data.subspan(sent);
  }
}

void Socket::shutdown_write() noexcept {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

CloseOperation Socket::close() noexcept { return CloseOperation(std::exchange(fd_, -1)); }

void Socket::abort() noexcept {
  if (fd_ >= 0) close_now(std::exchange(fd_, -1));
}

namespace {
SocketAddress name_of(int fd, int (*getter)(int, sockaddr*, socklen_t*), const char* what) {
  sockaddr_storage storage{};
  socklen_t size = sizeof storage;
  if (getter(fd, reinterpret_cast<sockaddr*>(&storage), &size) != 0) throw OSError(errno, what);
  return SocketAddress::from_native(reinterpret_cast<sockaddr*>(&storage), size);
}
}  // namespace

SocketAddress Socket::local_address() const { return name_of(fd_, ::getsockname, "getsockname"); }
SocketAddress Socket::peer_address() const { return name_of(fd_, ::getpeername, "getpeername"); }

// ---- Listener ----

Listener::Listener(Listener&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), unix_path_(std::move(other.unix_path_)) {}

Listener& Listener::operator=(Listener&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close_now(fd_);
    fd_ = std::exchange(other.fd_, -1);
    unix_path_ = std::move(other.unix_path_);
  }
  return *this;
}

Listener::~Listener() {
  if (fd_ >= 0) {
    detail::report_unreleased("Listener (not closed; use co_await close() or async_with)");
    close_now(fd_);
    if (!unix_path_.empty()) ::unlink(unix_path_.c_str());
  }
}

void Listener::abort() noexcept {
  if (fd_ < 0) return;
  close_now(std::exchange(fd_, -1));
  if (!unix_path_.empty()) ::unlink(std::exchange(unix_path_, {}).c_str());
}

Listener Listener::bind(const SocketAddress& address, int backlog, bool reuse_port) {
  const int fd = ::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw OSError(errno, "socket for " + address.to_string());
  Listener listener;
  listener.fd_ = fd;
  if (!address.is_unix()) {
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      const int error = errno;
      ::close(std::exchange(listener.fd_, -1));  // never named by an SQE
      throw OSError(error, "SO_REUSEPORT for " + address.to_string());
    }
  }
  if (::bind(fd, address.native(), address.native_size()) != 0) {
    const int error = errno;
    ::close(std::exchange(listener.fd_, -1));  // never named by an SQE
    throw OSError(error, "bind " + address.to_string());
  }
  if (address.is_unix()) listener.unix_path_ = reinterpret_cast<const sockaddr_un*>(address.native())->sun_path;
  if (::listen(fd, backlog) != 0) {
    const int error = errno;
    ::close(std::exchange(listener.fd_, -1));  // never named by an SQE
    throw OSError(error, "listen on " + address.to_string());
  }
  return listener;
}

SocketAddress Listener::local_address() const { return name_of(fd_, ::getsockname, "getsockname"); }

CloseOperation Listener::close() noexcept {
  if (!unix_path_.empty()) ::unlink(std::exchange(unix_path_, {}).c_str());
  return CloseOperation(std::exchange(fd_, -1));
}

}  // namespace coring
