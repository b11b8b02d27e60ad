#pragma once
// Connected sockets on 127.0.0.1 for the runtime's socket tests.
#include <span>
#include <string_view>

#include <coring/coring.hpp>

namespace test_support {

/// The bytes of `s`, for send_all.
inline std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

struct SocketPair {
  coring::Socket client, server;
};

/// A client socket connected to 127.0.0.1, and the server's end of it.
inline coring::Task<SocketPair> connected_pair() {
  coring::Listener listener = coring::Listener::bind(coring::SocketAddress::parse("127.0.0.1:0"));
  SocketPair pair;
  pair.client = co_await coring::Socket::connect(listener.local_address());
  pair.server = co_await listener.accept();
  co_await listener.close();
  co_return pair;
}

}  // namespace test_support
