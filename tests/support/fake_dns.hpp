#pragma once
// A minimal DNS server on 127.0.0.1 (UDP) for tests: answers A and AAAA
// queries for the names it knows (with 127.0.0.1, or the addresses given),
// and NXDOMAIN otherwise. It runs on its own thread with blocking sockets:
// it stands in for a real server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace test_support {

class FakeDns {
 public:
  /// Each name resolves to 127.0.0.1.
  explicit FakeDns(const std::set<std::string>& names) : FakeDns(loopback(names)) {}
  /// Each name resolves to its numeric addresses, IPv4 (A) and IPv6 (AAAA),
  /// answered in the order given.
  explicit FakeDns(std::map<std::string, std::vector<std::string>> addresses) : names_(std::move(addresses)) {
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
  static std::map<std::string, std::vector<std::string>> loopback(const std::set<std::string>& names) {
    std::map<std::string, std::vector<std::string>> addresses;
    for (const std::string& name : names) addresses[name] = {"127.0.0.1"};
    return addresses;
  }
  /// The name's addresses of the queried type (1: A, 28: AAAA), in wire form.
  std::vector<std::string> answers(const std::string& name, unsigned type) const {
    std::vector<std::string> found;
    const auto it = names_.find(name);
    if (it == names_.end()) return found;
    for (const std::string& text : it->second) {
      unsigned char raw[16];
      if (type == 1 && ::inet_pton(AF_INET, text.c_str(), raw) == 1) found.emplace_back(reinterpret_cast<char*>(raw), 4);
      if (type == 28 && ::inet_pton(AF_INET6, text.c_str(), raw) == 1) found.emplace_back(reinterpret_cast<char*>(raw), 16);
    }
    return found;
  }

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
      const std::vector<std::string> found = answers(name, type);
      r[3] = static_cast<char>(known ? 0x80 : 0x83);  // recursion available; NXDOMAIN if unknown
      r[4] = 0, r[5] = 1;  // one question
      r[6] = 0, r[7] = static_cast<char>(found.size());
      r[8] = r[9] = r[10] = r[11] = 0;
      for (const std::string& address : found) {
        // A pointer to the question's name, the type, class IN, TTL 60 s, the length.
        const unsigned char answer[] = {0xc0, 0x0c, 0, static_cast<unsigned char>(type), 0, 1, 0, 0, 0, 60,
                                        0, static_cast<unsigned char>(address.size())};
        r.append(reinterpret_cast<const char*>(answer), sizeof answer);
        r += address;
      }
      ::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  std::map<std::string, std::vector<std::string>> names_;
  int fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

}  // namespace test_support
