#include "coring/http/headers.hpp"

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
  if (text_.size() + name.size() + value.size() > UINT32_MAX) throw InvalidRequestError("header list over 4 GiB");
  const auto at = static_cast<std::uint32_t>(text_.size());
  text_.insert(text_.end(), name.begin(), name.end());
  text_.insert(text_.end(), value.begin(), value.end());
  entries_.push_back({at, static_cast<std::uint32_t>(name.size()), static_cast<std::uint32_t>(at + name.size()),
                      static_cast<std::uint32_t>(value.size())});
}

void Headers::set(std::string_view name, std::string_view value) {
  validate(name, value);
  remove(name);
  add_unchecked(name, value);
}

std::size_t Headers::remove(std::string_view name) {
  // The removed fields' bytes stay in text_ until the list is cleared.
  const std::size_t removed = std::erase_if(entries_, [&](const Entry& e) {
    return iequals(std::string_view(text_.data() + e.name_at, e.name_size), name);
  });
  if (entries_.empty()) text_.clear();
  return removed;
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
