#pragma once
// coring::http::Headers: an ordered, case-insensitive, multi-valued list of
// header fields, as HTTP has them (aiohttp's CIMultiDict).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coring::http {

class Headers;
namespace detail {
void recycle_strings(Headers& headers) noexcept;  // http/header_cache.cpp
}  // namespace detail

class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  Headers() = default;
  Headers(std::initializer_list<Field> fields);

  /// Appends a field (a second Set-Cookie does not replace the first).
  /// InvalidRequestError if the name is not a token or the value holds CR, LF or NUL.
  void add(std::string_view name, std::string_view value);
  /// Replaces every field of that name with one.
  void set(std::string_view name, std::string_view value);
  /// Removes every field of that name; returns how many.
  std::size_t remove(std::string_view name);

  /// The first value of `name`, if any.
  [[nodiscard]] std::optional<std::string_view> get(std::string_view name) const;
  [[nodiscard]] std::vector<std::string_view> get_all(std::string_view name) const;
  [[nodiscard]] bool contains(std::string_view name) const { return get(name).has_value(); }

  [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }
  [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }
  [[nodiscard]] auto begin() const noexcept { return fields_.begin(); }
  [[nodiscard]] auto end() const noexcept { return fields_.end(); }
  void clear() noexcept { fields_.clear(); }
  void reserve(std::size_t n) { fields_.reserve(n); }
  [[nodiscard]] std::size_t capacity() const noexcept { return fields_.capacity(); }

  /// Appends without checks: for fields the parser has already validated.
  void add_unchecked(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }

 private:
  friend void detail::recycle_strings(Headers& headers) noexcept;
  std::vector<Field> fields_;
};

/// A token as HTTP defines it (RFC 9110 5.6.2): what a method or a header
/// name must be. Never empty.
bool is_token(std::string_view text) noexcept;

/// ASCII case-insensitive comparison, as header names compare.
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace coring::http
