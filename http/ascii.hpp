#pragma once
// ASCII text helpers for protocol text (header values, schemes, host names,
// cookie attributes): locale-free, bytes of 0x80 and up left as they are.
#include <string>
#include <string_view>

namespace coring::http::detail {

/// `s` without the spaces and tabs around it (HTTP's OWS, RFC 9110 section 5.6.3).
inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// `s` with ASCII capitals lowered.
inline std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  return out;
}

}  // namespace coring::http::detail
