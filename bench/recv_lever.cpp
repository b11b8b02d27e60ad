// A lever measured on its own: single-shot receives against one multishot
// receive per connection with a provided-buffer ring (issue 6's "multishot
// receive with provided buffer rings"). A minimal keep-alive HTTP/1.1 load
// on raw liburing, the same in both modes but for the receive, so the
// difference is the lever's alone:
//
//   coring_recv_lever HOST PORT PATH CONNECTIONS REQUESTS single|multishot
//
// single:    after each request, one recv SQE into the connection's buffer
//            (what coring's sockets do).
// multishot: one IORING_RECV_MULTISHOT per connection, armed once, filling
//            buffers the kernel takes from a ring; each is copied into the
//            connection's buffer and given back (re-armed if the kernel
//            ended it, e.g. when the ring ran dry).
// quiet:     multishot, and each send asks for no completion when it
//            succeeds (IOSQE_CQE_SKIP_SUCCESS, with MSG_WAITALL so that a
//            success is a whole send): one completion per request, not two.
// Prints one RESULT line with req/s and this process's CPU per 100k.
#include <arpa/inet.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr unsigned buffer_count = 1024;  // a power of two, as the ring needs
constexpr unsigned buffer_size = 4096;
constexpr std::uint64_t send_tag = 1ULL << 63;

struct Connection {
  int fd = -1;
  std::string received;  // the response so far
};

[[noreturn]] void fail(const char* what, int error) {
  std::fprintf(stderr, "recv_lever: %s: %s\n", what, std::strerror(error));
  std::exit(1);
}

/// Bytes of the complete response at the front of `data`, or 0 if it is not all in.
std::size_t complete_response(std::string_view data) {
  const std::size_t head_end = data.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return 0;
  const std::size_t at = data.substr(0, head_end).find("Content-Length: ");
  if (at == std::string_view::npos) fail("response without Content-Length", EPROTO);
  const std::size_t length = std::strtoul(data.data() + at + 16, nullptr, 10);
  const std::size_t total = head_end + 4 + length;
  return data.size() >= total ? total : 0;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s HOST PORT PATH CONNECTIONS REQUESTS single|multishot|quiet\n", argv[0]);
    return 2;
  }
  const std::string host = argv[1];
  const int port = std::atoi(argv[2]);
  const std::string request = std::string("GET ") + argv[3] + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
  const std::size_t connections = std::strtoul(argv[4], nullptr, 10);
  const std::uint64_t requests = std::strtoull(argv[5], nullptr, 10);
  const std::string_view mode = argv[6];
  const bool quiet_sends = mode == "quiet";
  const bool multishot = mode == "multishot" || quiet_sends;
  if (!multishot && mode != "single") fail("mode is single, multishot or quiet", EINVAL);

  io_uring ring{};
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
  params.cq_entries = 16384;
  if (int rc = io_uring_queue_init_params(4096, &ring, &params); rc < 0) fail("io_uring_queue_init", -rc);

  std::vector<char> buffers;
  io_uring_buf_ring* provided = nullptr;
  if (multishot) {
    // (liburing 2.3, Debian 12's, has no io_uring_setup_buf_ring: by hand.)
    void* entries = nullptr;
    if (posix_memalign(&entries, 4096, buffer_count * sizeof(io_uring_buf)) != 0) fail("posix_memalign", ENOMEM);
    provided = static_cast<io_uring_buf_ring*>(entries);
    io_uring_buf_ring_init(provided);
    io_uring_buf_reg registration{};
    registration.ring_addr = reinterpret_cast<std::uint64_t>(entries);
    registration.ring_entries = buffer_count;
    registration.bgid = 0;
    if (int rc = io_uring_register_buf_ring(&ring, &registration, 0); rc < 0) fail("io_uring_register_buf_ring", -rc);
    buffers.resize(std::size_t{buffer_count} * buffer_size);
    for (unsigned i = 0; i < buffer_count; ++i)
      io_uring_buf_ring_add(provided, &buffers[std::size_t{i} * buffer_size], buffer_size, static_cast<unsigned short>(i),
                            io_uring_buf_ring_mask(buffer_count), static_cast<int>(i));
    io_uring_buf_ring_advance(provided, buffer_count);
  }

  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) fail("HOST must be a numeric IPv4 address", EINVAL);
  std::vector<Connection> conns(connections);
  std::vector<char> single_buffers(connections * buffer_size);
  for (auto& c : conns) {
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.fd < 0 || connect(c.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fail("connect", errno);
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }

  auto get_sqe = [&] {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (sqe == nullptr) {
      io_uring_submit(&ring);
      sqe = io_uring_get_sqe(&ring);
    }
    return sqe;
  };
  auto send_request = [&](std::size_t i) {
    io_uring_sqe* sqe = get_sqe();
    if (quiet_sends) {
      io_uring_prep_send(sqe, conns[i].fd, request.data(), request.size(), MSG_NOSIGNAL | MSG_WAITALL);
      sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
    } else {
      io_uring_prep_send(sqe, conns[i].fd, request.data(), request.size(), MSG_NOSIGNAL);
    }
    io_uring_sqe_set_data64(sqe, send_tag | i);
  };
  auto arm_recv = [&](std::size_t i) {
    io_uring_sqe* sqe = get_sqe();
    if (multishot) {
      io_uring_prep_recv_multishot(sqe, conns[i].fd, nullptr, 0, 0);
      sqe->flags |= IOSQE_BUFFER_SELECT;
      sqe->buf_group = 0;
    } else {
      io_uring_prep_recv(sqe, conns[i].fd, &single_buffers[i * buffer_size], buffer_size, 0);
    }
    io_uring_sqe_set_data64(sqe, i);
  };

  std::uint64_t sent = 0, done = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_seconds();
  for (std::size_t i = 0; i < conns.size() && sent < requests; ++i, ++sent) {
    send_request(i);
    arm_recv(i);
  }
  // LEVER_WAIT_NR / LEVER_MIN_WAIT_US: wait for that many completions, but
  // no longer than that many microseconds unless none has come (the
  // kernel's batch wait, min_wait_usec, 6.12+).
  const unsigned wait_nr = std::getenv("LEVER_WAIT_NR") ? std::atoi(std::getenv("LEVER_WAIT_NR")) : 1;
  const unsigned min_wait_us = std::getenv("LEVER_MIN_WAIT_US") ? std::atoi(std::getenv("LEVER_MIN_WAIT_US")) : 0;
  while (done < requests) {
    if (min_wait_us > 0) {
      const unsigned submitted = io_uring_submit(&ring);
      (void)submitted;
      io_uring_getevents_arg arg{};
      arg.pad = min_wait_us;  // min_wait_usec, in liburing 2.3's header still "pad"
      if (int rc = io_uring_enter2(ring.ring_fd, 0, wait_nr, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
                                   reinterpret_cast<sigset_t*>(&arg), sizeof arg);
          rc < 0 && rc != -EINTR && rc != -ETIME)
        fail("io_uring_enter (batch wait)", -rc);
    } else if (int rc = io_uring_submit_and_wait(&ring, 1); rc < 0 && rc != -EINTR) {
      fail("io_uring_enter", -rc);
    }
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      const std::uint64_t tag = io_uring_cqe_get_data64(cqe);
      if (tag & send_tag) {
        if (cqe->res < 0) fail("send", -cqe->res);
        continue;
      }
      const std::size_t i = tag;
      Connection& c = conns[i];
      if (multishot && cqe->res == -ENOBUFS) {  // the ring ran dry: the kernel ended the receive
        arm_recv(i);
        continue;
      }
      if (cqe->res <= 0) fail("recv (or the server closed)", cqe->res < 0 ? -cqe->res : ECONNRESET);
      if (multishot) {
        const unsigned id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
        char* data = &buffers[std::size_t{id} * buffer_size];
        c.received.append(data, static_cast<std::size_t>(cqe->res));
        io_uring_buf_ring_add(provided, data, buffer_size, static_cast<unsigned short>(id),
                              io_uring_buf_ring_mask(buffer_count), 0);
        io_uring_buf_ring_advance(provided, 1);
      } else {
        c.received.append(&single_buffers[i * buffer_size], static_cast<std::size_t>(cqe->res));
      }
      bool want_more = true;
      while (const std::size_t n = complete_response(c.received)) {
        c.received.erase(0, n);
        ++done;
        if (sent < requests) {
          ++sent;
          send_request(i);
        } else {
          want_more = false;
        }
      }
      // A single-shot receive is re-armed after every completion; a
      // multishot one only if the kernel ended it.
      if (want_more && (!multishot || !(cqe->flags & IORING_CQE_F_MORE))) arm_recv(i);
    }
    io_uring_cq_advance(&ring, seen);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - cpu0;
  std::printf("RESULT client=recv_%s requests=%llu rps=%.0f cpu_s_per_100k=%.3f\n", argv[6],
              static_cast<unsigned long long>(done), static_cast<double>(done) / seconds,
              cpu / static_cast<double>(done) * 1e5);
  for (auto& c : conns) close(c.fd);
  io_uring_queue_exit(&ring);
  return 0;
}
