#pragma once
// The order of requests on one HTTP/1.1 connection. Every request takes a
// ticket; it writes when the writes before it are done and reads its
// response when the responses before it have been read. Without
// pipelining there is one request at a time and every turn comes at once.
//
// When a request fails or is abandoned (an error, a timeout, a cancelled
// task, a body left unread, a response that ends the connection), the
// requests behind it on the connection can no longer get their responses
// there: they are told so, and retry on another connection (only
// idempotent requests are pipelined, see TCPConnector::pipelining).
#include <cstdint>
#include <limits>

#include "coring/extend/waiter.hpp"

namespace coring::http::detail {

class Pipeline {
 public:
  enum class Phase { write, read };
  using Ticket = std::uint64_t;

  Ticket take_ticket() noexcept { return next_ticket_++; }
  /// True if a request behind `ticket` has been written: bytes past its
  /// response may be the next response, not one nobody asked for.
  [[nodiscard]] bool followed(Ticket ticket) const noexcept { return write_turn_ > ticket + 1; }
  /// Requests after `ticket` cannot be answered on this connection.
  void break_after(Ticket ticket) noexcept;
  [[nodiscard]] bool broken() const noexcept { return broken_after_ != no_break; }
  /// `ticket` is done with a phase: the next request's turn.
  void done(Ticket ticket, Phase phase) noexcept;

  /// Waits for `ticket`'s turn at `phase`. Resumes true when it has come,
  /// false if a request ahead failed (the caller retries elsewhere).
  /// Cancellable.
  struct TurnAwaiter final : coring::extend::Waiter {
    Pipeline& pipeline;
    Ticket ticket;
    Phase phase;
    TurnAwaiter(Pipeline& p, Ticket t, Phase ph) : pipeline(p), ticket(t), phase(ph) {}
    bool await_ready() const noexcept { return pipeline.decided(ticket, phase); }
    bool await_suspend(std::coroutine_handle<> h) noexcept { return park(pipeline.waiters_, h); }
    bool await_resume() {
      if (unpark()) raise_if_cancelled();
      return !pipeline.bails(ticket);
    }
  };
  TurnAwaiter turn(Ticket ticket, Phase phase) noexcept { return {*this, ticket, phase}; }

 private:
  static constexpr Ticket no_break = std::numeric_limits<Ticket>::max();
  [[nodiscard]] bool bails(Ticket ticket) const noexcept { return broken_after_ != no_break && ticket > broken_after_; }
  [[nodiscard]] bool decided(Ticket ticket, Phase phase) const noexcept {
    return bails(ticket) || (phase == Phase::write ? write_turn_ : read_turn_) == ticket;
  }
  void wake_decided() noexcept;

  Ticket next_ticket_ = 0;
  Ticket write_turn_ = 0;
  Ticket read_turn_ = 0;
  Ticket broken_after_ = no_break;
  coring::extend::WaiterQueue waiters_;  // TurnAwaiters
};

inline void Pipeline::break_after(Ticket ticket) noexcept {
  if (ticket < broken_after_) broken_after_ = ticket;
  wake_decided();
}

inline void Pipeline::done(Ticket ticket, Phase phase) noexcept {
  (phase == Phase::write ? write_turn_ : read_turn_) = ticket + 1;
  if (!waiters_.empty()) wake_decided();
}

inline void Pipeline::wake_decided() noexcept {
  waiters_.for_each([this](coring::extend::Waiter* w) {
    auto* waiter = static_cast<TurnAwaiter*>(w);
    if (!decided(waiter->ticket, waiter->phase)) return;
    coring::extend::WaiterQueue::remove(waiter);
    waiter->wake(true);
  });
}

}  // namespace coring::http::detail
