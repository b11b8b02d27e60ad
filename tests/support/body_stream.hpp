#pragma once
// A streamed request body (coring::http::BodyStream) for tests: yields given
// pieces in turn, optionally pausing before each or failing at one, and
// counts how many were taken.
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <coring/coring.hpp>
#include <coring/http/backend.hpp>

namespace test_support {

struct Chunks {
  std::vector<std::string> pieces;
  std::size_t next = 0;
  std::chrono::milliseconds pause{0};
  std::size_t fail_at = SIZE_MAX;  // throws instead of yielding this piece
};

// A free coroutine holding a share of the state: a lambda coroutine's
// captures would live in the std::function, which is copied along the way.
inline coring::Task<std::string> next_piece(std::shared_ptr<Chunks> c) {
  if (c->pause > std::chrono::milliseconds(0)) co_await coring::sleep(c->pause);
  if (c->next == c->fail_at) throw std::runtime_error("the producer broke");
  if (c->next == c->pieces.size()) co_return std::string();
  co_return c->pieces[c->next++];
}

/// A body stream yielding `c`'s pieces in turn; `c` counts what was taken.
inline coring::http::BodyStream stream_of(std::shared_ptr<Chunks> c) {
  return [c] { return next_piece(c); };
}

/// A body stream of `pieces`, and the state that counts what was taken.
inline std::shared_ptr<Chunks> chunks_of(std::vector<std::string> pieces) {
  auto c = std::make_shared<Chunks>();
  c->pieces = std::move(pieces);
  return c;
}

}  // namespace test_support
