#pragma once
// A minimal DNS server on 127.0.0.1 (UDP) for tests: answers A queries for
// the names it knows with 127.0.0.1, and NXDOMAIN otherwise. It runs on its
// own thread with blocking sockets: it stands in for a real server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>

namespace test_support {

class FakeDns {
 public:
  explicit FakeDns(std::set<std::string> names) : names_(std::move(names)) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    timeval tv{0, 50'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeDns() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  [[nodiscard]] std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] int queries() const { return queries_; }

 private:
  void serve() {
    unsigned char q[512];
    while (!stop_) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n = ::recvfrom(fd_, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 12) continue;
      ++queries_;
      // The question: labels from byte 12, then type and class.
      std::string name;
      std::size_t i = 12;
      while (i < static_cast<std::size_t>(n) && q[i] != 0) {
        const std::size_t l = q[i];
        if (!name.empty()) name += '.';
        name.append(reinterpret_cast<const char*>(q + i + 1), l);
        i += l + 1;
      }
      const std::size_t question_end = i + 5;  // zero byte, type, class
      if (question_end > static_cast<std::size_t>(n)) continue;
      const unsigned type = (q[i + 1] << 8) | q[i + 2];
      std::string r(reinterpret_cast<const char*>(q), question_end);
      r[2] = static_cast<char>(0x81);  // response, recursion desired
      const bool known = names_.count(name) != 0;
      r[3] = static_cast<char>(known ? 0x80 : 0x83);  // recursion available; NXDOMAIN if unknown
      r[4] = 0, r[5] = 1;  // one question
      r[6] = 0, r[7] = (known && type == 1) ? 1 : 0;
      r[8] = r[9] = r[10] = r[11] = 0;
      if (known && type == 1) {
        const unsigned char answer[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1};
        r.append(reinterpret_cast<const char*>(answer), sizeof answer);
      }
      ::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  std::set<std::string> names_;
  int fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

}  // namespace test_support
