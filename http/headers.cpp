#include "coring/http/headers.hpp"

#include <algorithm>
#include <cstring>
#include <functional>

#include "coring/http/errors.hpp"

namespace coring::http {

namespace {
char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

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

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
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
  const auto at = static_cast<std::uint32_t>(text_.size());
  text_.insert(text_.end(), name.begin(), name.end());
  text_.insert(text_.end(), value.begin(), value.end());
  entries_.push_back({at, static_cast<std::uint32_t>(name.size()), static_cast<std::uint32_t>(at + name.size()),
                      static_cast<std::uint32_t>(value.size())});
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
  // The size first, here: most names differ in it, and a call per field
  // to find out was a fifth of the time spent looking up.
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
