#pragma once
// coring::Result<T>: a value or the exception that took its place, as
// gather(return_exceptions, ...) hands back.
#include <exception>
#include <utility>
#include <variant>

namespace coring {

template <class T>
class Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(std::exception_ptr error) : state_(std::in_place_index<1>, std::move(error)) {}

  [[nodiscard]] bool has_value() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  /// The value, or the exception rethrown.
  T& value() & {
    if (!has_value()) std::rethrow_exception(std::get<1>(state_));
    return std::get<0>(state_);
  }
  T&& value() && { return std::move(value()); }
  /// The exception, or nullptr when there is a value.
  [[nodiscard]] std::exception_ptr error() const noexcept {
    return has_value() ? nullptr : std::get<1>(state_);
  }

 private:
  std::variant<T, std::exception_ptr> state_;
};

template <>
class Result<void> {
 public:
  Result() = default;
  Result(std::exception_ptr error) : error_(std::move(error)) {}
  [[nodiscard]] bool has_value() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return has_value(); }
  void value() const {
    if (error_) std::rethrow_exception(error_);
  }
  [[nodiscard]] std::exception_ptr error() const noexcept { return error_; }

 private:
  std::exception_ptr error_;
};

}  // namespace coring
