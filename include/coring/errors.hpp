#pragma once
// The exceptions of the runtime, named as in asyncio.
#include <stdexcept>
#include <string>
#include <system_error>

namespace coring {

/// Raised inside a task at the suspension point where it was cancelled.
/// Like asyncio's CancelledError, it is not an Exception of the program's own:
/// it derives from std::exception only, so `catch (const std::runtime_error&)`
/// does not swallow it by accident.
class CancelledError : public std::exception {
 public:
  const char* what() const noexcept override { return "task was cancelled"; }
};

/// A deadline passed (`wait_for`, `wait` with a timeout, HTTP timeouts).
class TimeoutError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An operation is not allowed in the object's current state (asyncio's
/// InvalidStateError): a result asked of an unfinished task, a result taken twice.
class InvalidStateError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// The runtime cannot do what was asked: no running loop, `run` inside a
/// running loop, io_uring unavailable.
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A system call failed; `code()` holds the errno, `what()` names the
/// operation and the resource (e.g. "connect to 127.0.0.1:1: Connection refused").
class OSError : public std::system_error {
 public:
  OSError(int errno_value, const std::string& what_failed)
      : std::system_error(errno_value, std::system_category(), what_failed) {}
};

class QueueEmpty : public std::runtime_error {
 public:
  QueueEmpty() : std::runtime_error("queue is empty") {}
};

class QueueFull : public std::runtime_error {
 public:
  QueueFull() : std::runtime_error("queue is full") {}
};

}  // namespace coring
