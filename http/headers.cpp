// Headers: checking, adding, finding and removing fields in one
// back-to-back buffer; word-at-a-time case-insensitive compares.
#include "coring/http/headers.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>

#include "coring/http/errors.hpp"

namespace coring::http {

namespace {

bool is_token_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

void validate(std::string_view name, std::string_view value) {
  if (name.empty()) throw InvalidRequestError("header name is empty");
  if (!is_token(name)) throw InvalidRequestError("header name \"" + std::string(name) + "\" is not a valid token");
  // Refused before anything is sent: CR or LF would let a value inject
  // headers or a second request (response splitting).
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0')
      throw InvalidRequestError("value of header \"" + std::string(name) + "\" contains CR, LF or NUL");
}
}  // namespace

bool is_token(std::string_view text) noexcept {
  if (text.empty()) return false;
  for (char c : text)
    if (!is_token_char(c)) return false;
  return true;
}

namespace {
std::uint64_t load8(const char* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, 8);
  return word;
}

/// 1 to 7 bytes as one word, each byte in it at least once: equal words for
/// equal texts of the same size (fixed-size loads, no memcpy call).
std::uint64_t load_short(const char* p, std::size_t n) noexcept {
  if (n >= 4) {
    std::uint32_t first, last;
    std::memcpy(&first, p, 4);
    std::memcpy(&last, p + n - 4, 4);
    return first | (std::uint64_t{last} << 32);
  }
  const auto byte = [p](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(p[i])}; };
  return byte(0) | byte(n / 2) << 8 | byte(n - 1) << 16;
}

/// Eight bytes lowercased at once (ASCII letters only; bytes of 0x80 and
/// up are left as they are): a header lookup compares every name it meets
/// of the right size, so that compare is its hot path.
std::uint64_t lower_word(std::uint64_t word) noexcept {
  constexpr std::uint64_t high_bits = 0x8080808080808080;
  const std::uint64_t seven_bits = word & ~high_bits;  // no byte can carry into the next below
  const std::uint64_t at_least_A = seven_bits + 0x3f3f3f3f3f3f3f3f;  // 'A' + 0x3f = 0x80
  const std::uint64_t above_Z = seven_bits + 0x2525252525252525;     // 'Z' + 1 + 0x25 = 0x80
  const std::uint64_t upper = at_least_A & ~above_Z & ~word & high_bits;
  return word | (upper >> 2);  // 0x80 >> 2 is the case bit 0x20
}
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  if (n < 8) return n == 0 || lower_word(load_short(a.data(), n)) == lower_word(load_short(b.data(), n));
  for (std::size_t i = 0; i + 8 <= n; i += 8)
    if (lower_word(load8(a.data() + i)) != lower_word(load8(b.data() + i))) return false;
  // The last bytes, as the (overlapping) last word.
  return n % 8 == 0 || lower_word(load8(a.data() + n - 8)) == lower_word(load8(b.data() + n - 8));
}

Headers::Headers(std::initializer_list<Field> fields) {
  for (const auto& [name, value] : fields) add(name, value);
}

void Headers::add(std::string_view name, std::string_view value) {
  validate(name, value);
  add_unchecked(name, value);
}

void Headers::add_unchecked(std::string_view name, std::string_view value) {
  // Offsets of 32 bits: a head is limited far below that (ParserLimits),
  // and a list built by hand past 4 GiB is refused rather than wrapped.
  const std::size_t needed = text_.size() + name.size() + value.size();
  if (needed > UINT32_MAX) throw InvalidRequestError("header list over 4 GiB");
  if (needed > text_.capacity()) {
    // The name or value may be a view into this list (h.set("X", *h.get("Y"))):
    // found again by offset once the bytes have moved.
    const std::ptrdiff_t name_offset = points_into(name) ? name.data() - text_.data() : -1;
    const std::ptrdiff_t value_offset = points_into(value) ? value.data() - text_.data() : -1;
    text_.reserve(std::max(needed, 2 * text_.capacity()));
    if (name_offset >= 0) name = {text_.data() + name_offset, name.size()};
    if (value_offset >= 0) value = {text_.data() + value_offset, value.size()};
  }
  start_field();
  append_to_last_field(name, true);
  append_to_last_field(value, false);
}

void Headers::start_field() {
  const auto at = static_cast<std::uint32_t>(text_.size());
  entries_.push_back({at, 0, at, 0});
}

void Headers::append_to_last_field(std::string_view piece, bool to_name) {
  text_.insert(text_.end(), piece.begin(), piece.end());
  Entry& e = entries_.back();
  const auto n = static_cast<std::uint32_t>(piece.size());
  if (to_name) {
    e.name_size += n;
    e.value_at += n;
  } else {
    e.value_size += n;
  }
}

void Headers::set(std::string_view name, std::string_view value) {
  validate(name, value);
  // Views into this list would see its bytes move as remove() compacts it.
  std::string own_name, own_value;
  if (points_into(name)) name = own_name = name;
  if (points_into(value)) value = own_value = value;
  remove(name);
  add_unchecked(name, value);
}

bool Headers::points_into(std::string_view piece) const noexcept {
  const std::less<const char*> before;
  return !piece.empty() && !before(piece.data(), text_.data()) && before(piece.data(), text_.data() + text_.size());
}

std::size_t Headers::remove(std::string_view name) {
  const std::size_t removed = std::erase_if(entries_, [&](const Entry& e) {
    return iequals(std::string_view(text_.data() + e.name_at, e.name_size), name);
  });
  if (removed != 0) compact();
  return removed;
}

void Headers::compact() noexcept {
  // Fields sit in the order they were added, each after the one before: moved
  // down in that order, no field overwrites one not yet moved. (Without this,
  // a list whose header is set again and again would only grow.)
  std::uint32_t at = 0;
  for (Entry& e : entries_) {
    std::memmove(text_.data() + at, text_.data() + e.name_at, e.name_size);
    e.name_at = at;
    at += e.name_size;
    std::memmove(text_.data() + at, text_.data() + e.value_at, e.value_size);
    e.value_at = at;
    at += e.value_size;
  }
  text_.resize(at);
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  const std::string_view text(text_.data(), text_.size());
  // The size first, here: most names differ in it, and finding that out
  // should cost no call per field.
  for (const Entry& e : entries_)
    if (e.name_size == name.size() && iequals(text.substr(e.name_at, e.name_size), name))
      return text.substr(e.value_at, e.value_size);
  return std::nullopt;
}

std::vector<std::string_view> Headers::get_all(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const auto& [n, v] : *this)
    if (iequals(n, name)) values.push_back(v);
  return values;
}

}  // namespace coring::http
