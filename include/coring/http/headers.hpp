#pragma once
// coring::http::Headers: an ordered, case-insensitive, multi-valued list of
// header fields, as HTTP has them (aiohttp's CIMultiDict).
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coring::http {

namespace detail {
struct HeadersAccess;  // http/headers_access.hpp: the parsers' and the session's way in
}  // namespace detail

/// Names and values live back to back in one string, each field a pair of
/// views into it: a parsed head is two copies per field into memory that
/// is kept from one response to the next, not two strings per field.
class Headers {
 public:
  /// One field, as views into the list: valid until the list changes.
  using Field = std::pair<std::string_view, std::string_view>;

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Field;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Field;

    const_iterator() = default;
    Field operator*() const noexcept { return headers_->field(index_); }
    const_iterator& operator++() noexcept {
      ++index_;
      return *this;
    }
    const_iterator operator++(int) noexcept {
      const_iterator before = *this;
      ++index_;
      return before;
    }
    bool operator==(const const_iterator&) const noexcept = default;

   private:
    friend class Headers;
    const_iterator(const Headers* headers, std::size_t index) noexcept : headers_(headers), index_(index) {}
    const Headers* headers_ = nullptr;
    std::size_t index_ = 0;
  };

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

  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
  [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }
  [[nodiscard]] const_iterator begin() const noexcept { return {this, 0}; }
  [[nodiscard]] const_iterator end() const noexcept { return {this, entries_.size()}; }
  /// Empties the list, keeping its room.
  void clear() noexcept {
    entries_.clear();
    text_.clear();
  }
  /// Room for `n` fields of a typical size.
  void reserve(std::size_t n) {
    entries_.reserve(n);
    text_.reserve(n * 32);
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return entries_.capacity(); }
  /// Room for names and values, in bytes.
  [[nodiscard]] std::size_t byte_capacity() const noexcept { return text_.capacity(); }

 private:
  friend struct detail::HeadersAccess;
  /// Appends without checks: for fields already checked (a parser's, or
  /// another list's). Not public: a request's headers are sent as they are.
  void add_unchecked(std::string_view name, std::string_view value);
  // A field built from a parser's pieces as they come: start_field, then
  // name pieces, then value pieces, each byte copied once. A parser's limits
  // bound the sizes (no 4 GiB check here).
  void start_field();
  void append_to_last_field(std::string_view piece, bool to_name);
  struct Entry {
    std::uint32_t name_at, name_size, value_at, value_size;
  };
  void compact() noexcept;  // drops the bytes of removed fields
  [[nodiscard]] bool points_into(std::string_view piece) const noexcept;
  [[nodiscard]] Field field(std::size_t index) const noexcept {
    const Entry& e = entries_[index];
    const std::string_view text(text_.data(), text_.size());
    return {text.substr(e.name_at, e.name_size), text.substr(e.value_at, e.value_size)};
  }
  // Every name and value, back to back. A vector, not a std::string: an
  // empty one holds no pointer to itself, so RequestOptions stays safe as
  // a default argument in a co_await expression, which GCC 12 copies bit
  // by bit (a std::string's inline buffer would then be freed).
  std::vector<char> text_;
  std::vector<Entry> entries_;
};

/// A token as HTTP defines it (RFC 9110 5.6.2): what a method or a header
/// name must be. Never empty.
bool is_token(std::string_view text) noexcept;

/// ASCII case-insensitive comparison, as header names compare.
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace coring::http
