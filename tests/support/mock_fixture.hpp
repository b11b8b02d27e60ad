#pragma once
// Runs a test body against a ClientSession over a MockBackend.
#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <coring/http/mock.hpp>

namespace test_support {

/// Runs `use(session)` on a fresh loop with a session over `mock`.
template <class Use>
void with_mock(std::shared_ptr<coring::http::MockBackend> mock, Use use, coring::http::SessionOptions options = {}) {
  auto body = [](std::shared_ptr<coring::http::MockBackend> m, Use& u,
                 coring::http::SessionOptions o) -> coring::Task<> {
    co_await coring::async_with(coring::http::ClientSession(std::move(o), std::move(m)), u);
  };
  coring::run(body(std::move(mock), use, std::move(options)));
}

}  // namespace test_support
