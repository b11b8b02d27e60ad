// SocketAddress: parsing and printing IPv4, IPv6 and Unix-domain addresses.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "coring/net.hpp"

namespace coring {

namespace {
[[noreturn]] void bad_address(std::string_view text, const char* why) {
  throw std::invalid_argument("invalid socket address \"" + std::string(text) + "\": " + why);
}

std::uint16_t parse_port(std::string_view whole, std::string_view digits) {
  if (digits.empty() || digits.size() > 5) bad_address(whole, "the port must be a number from 0 to 65535");
  unsigned value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') bad_address(whole, "the port must be a number from 0 to 65535");
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) bad_address(whole, "the port must be a number from 0 to 65535");
  return static_cast<std::uint16_t>(value);
}
}  // namespace

SocketAddress::SocketAddress() noexcept { std::memset(&storage_, 0, sizeof storage_); }

SocketAddress SocketAddress::ip(std::string_view numeric_host, std::uint16_t port) {
  SocketAddress a;
  const std::string host(numeric_host);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.size_ = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.size_ = sizeof(sockaddr_in6);
  } else {
    bad_address(numeric_host, "not a numeric IPv4 or IPv6 address");
  }
  return a;
}

SocketAddress SocketAddress::unix_path(std::string_view path) {
  SocketAddress a;
  auto* un = reinterpret_cast<sockaddr_un*>(&a.storage_);
  if (path.empty() || path.size() >= sizeof un->sun_path) bad_address(path, "a Unix socket path must have 1 to 107 bytes");
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  a.size_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return a;
}

SocketAddress SocketAddress::parse(std::string_view text) {
  if (text.starts_with("unix:")) return unix_path(text.substr(5));
  if (text.starts_with("/") || text.starts_with("./")) return unix_path(text);
  if (text.starts_with("[")) {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      bad_address(text, "expected [IPv6]:port");
    return ip(text.substr(1, close - 1), parse_port(text, text.substr(close + 2)));
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) bad_address(text, "expected host:port");
  return ip(text.substr(0, colon), parse_port(text, text.substr(colon + 1)));
}

SocketAddress SocketAddress::from_native(const sockaddr* address, socklen_t length) {
  SocketAddress a;
  if (length > sizeof a.storage_) length = sizeof a.storage_;
  std::memcpy(&a.storage_, address, length);
  a.size_ = length;
  return a;
}

std::uint16_t SocketAddress::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

std::string SocketAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(port());
  }
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, text, sizeof text);
    std::string result = "[";  // built in steps: GCC 12 warns falsely on "[" + s (its bug 105329)
    result += text;
    result += "]:";
    result += std::to_string(port());
    return result;
  }
  if (family() == AF_UNIX) return "unix:" + std::string(reinterpret_cast<const sockaddr_un*>(&storage_)->sun_path);
  return "(no address)";
}

}  // namespace coring
