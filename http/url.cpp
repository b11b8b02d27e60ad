// URL: parsing, normalising, joining and writing URLs; percent-encoding;
// credentials masked in text.
#include "coring/http/url.hpp"

#include <algorithm>
#include <arpa/inet.h>

#include <charconv>
#include <cstdio>

#include "ascii.hpp"
#include "coring/http/errors.hpp"

namespace coring::http {

namespace {

using detail::to_lower;

/// `text`, which does not parse, with everything between "://" and its
/// last '@' masked: where the userinfo ends cannot be known, and a password
/// may hold any of '/', '?', '#' and '@', so this masks too much rather than
/// too little.
std::string mask_unparsed(std::string_view text) {
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return std::string(text);
  const auto authority_start = scheme_end + 3;
  const auto at = text.rfind('@');
  if (at == std::string_view::npos || at < authority_start) return std::string(text);
  return std::string(text.substr(0, authority_start)) + "***" + std::string(text.substr(at));
}

[[noreturn]] void invalid(std::string_view text, const std::string& why) {
  throw InvalidURL("invalid URL \"" + mask_unparsed(text) + "\": " + why);
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/// The length of the scheme that `text` begins with (RFC 3986 section 3.1:
/// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) then ':'), or 0 if it begins
/// with none: "/next?return=https://x" is a path, not a URL.
std::size_t scheme_length(std::string_view text) {
  if (text.empty() || !is_alpha(text.front())) return 0;
  for (std::size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ':') return i;
    if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return 0;
  }
  return 0;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Decodes %XX escapes (a user name or password); a stray '%' stays as is.
std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool is_unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

/// Characters allowed raw in a path or query as we send it; anything else
/// (space, controls, non-ASCII) is percent-encoded.
bool allowed_in_target(unsigned char c) {
  return is_unreserved(c) || c == '%' || c == '/' || c == '?' || c == ':' || c == '@' || c == '!' || c == '$' ||
         c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' || c == ',' || c == ';' || c == '=';
}

/// Percent-encodes every byte `keep` rejects; `plus_for_space` as forms do.
template <class Keep>
std::string percent_encode(std::string_view text, Keep keep, bool plus_for_space) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (keep(c)) {
      out += static_cast<char>(c);
    } else if (plus_for_space && c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string encode_target_part(std::string_view text) { return percent_encode(text, allowed_in_target, false); }

/// Removes "." and ".." segments (RFC 3986 section 5.2.4).
std::string remove_dot_segments(std::string_view path) {
  // Most paths have no "." or ".." segment: nothing to remove, no vector.
  if (path.find("/.") == std::string_view::npos) return std::string(path);
  std::vector<std::string_view> segments;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view segment = path.substr(start, slash - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      if (slash == path.size()) segments.emplace_back();
    } else if (segment == ".") {
      if (slash == path.size()) segments.emplace_back();
    } else {
      segments.push_back(segment);
    }
    start = slash + 1;
  }
  std::string out;
  for (auto s : segments) {
    out += '/';
    out += s;
  }
  return out.empty() ? "/" : out;
}

}  // namespace

URL URL::parse(std::string_view text) {
  if (text.empty()) invalid(text, "it is empty");
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f) invalid(text, "it contains a control character");
  const std::size_t colon = scheme_length(text);
  if (colon == 0) invalid(text, "no scheme (expected http:// or https://)");
  if (text.substr(colon, 3) != "://") invalid(text, "no \"//\" after the scheme (expected http:// or https://)");
  URL url;
  url.scheme_ = to_lower(text.substr(0, colon));
  if (url.scheme_ == "http") {
    url.port_ = 80;
  } else if (url.scheme_ == "https") {
    url.port_ = 443;
  } else {
    invalid(text, "unsupported scheme \"" + url.scheme_ + "\" (expected http or https)");
  }
  std::string_view rest = text.substr(colon + 3);
  const auto fragment = rest.find('#');
  if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  const auto authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path_and_query = authority_end == std::string_view::npos ? "" : rest.substr(authority_end);
  // The last '@' ends the userinfo: a password may hold a raw '@'.
  const auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const auto colon_in_userinfo = userinfo.find(':');
    url.user_ = percent_decode(userinfo.substr(0, colon_in_userinfo));
    if (colon_in_userinfo != std::string_view::npos) url.password_ = percent_decode(userinfo.substr(colon_in_userinfo + 1));
    authority = authority.substr(at + 1);
  }
  if (authority.empty()) invalid(text, "no host");

  std::string_view host = authority;
  std::string_view port;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) invalid(text, "unclosed '[' in the host");
    host = authority.substr(1, close - 1);
    std::string literal(host);
    in6_addr address{};
    if (inet_pton(AF_INET6, literal.c_str(), &address) != 1) invalid(text, "bad IPv6 address");
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') invalid(text, "unexpected text after the IPv6 address");
      port = after.substr(1);
    }
  } else {
    const auto port_colon = authority.rfind(':');
    if (port_colon != std::string_view::npos) {
      host = authority.substr(0, port_colon);
      port = authority.substr(port_colon + 1);
    }
    if (host.empty()) invalid(text, "no host");
    for (char c : host)
      if (!(is_unreserved(static_cast<unsigned char>(c)))) invalid(text, "bad character in the host");
  }
  url.host_ = to_lower(host);
  if (authority_end != std::string_view::npos || !port.empty() || authority.back() == ':') {
    if (authority.back() == ':' && port.empty()) {
      // "http://host:/" means the default port (RFC 3986 allows an empty port).
    } else if (!port.empty()) {
      if (port.size() > 5) invalid(text, "port out of range");
      unsigned value = 0;
      for (char c : port) {
        if (c < '0' || c > '9') invalid(text, "the port is not a number");
        value = value * 10 + static_cast<unsigned>(c - '0');
      }
      if (value == 0 || value > 65535) invalid(text, "port out of range");
      url.port_ = static_cast<std::uint16_t>(value);
    }
  }
  const auto question = path_and_query.find('?');
  std::string_view path = path_and_query.substr(0, question);
  if (question != std::string_view::npos) url.query_ = encode_target_part(path_and_query.substr(question + 1));
  url.path_ = path.empty() ? "/" : remove_dot_segments(encode_target_part(path));
  return url;
}

URL URL::without_credentials() const {
  URL url = *this;
  url.user_.clear();
  url.password_.clear();
  return url;
}

bool URL::is_default_port() const noexcept { return port_ == (is_https() ? 443 : 80); }

std::string URL::target() const {
  std::string out;
  append_target(out);
  return out;
}

std::string URL::host_header() const {
  std::string out;
  append_host_header(out);
  return out;
}

void URL::append_target(std::string& out) const {
  out += path_;
  if (query_.empty()) return;
  out += '?';
  out += query_;
}

void URL::append_host_header(std::string& out) const {
  // Written in place, one resize, not five appends: every request has one.
  const std::size_t start = out.size();
  out.resize(start + host_.size() + 8);  // brackets, ':' and five digits at most
  char* at = out.data() + start;
  const bool ipv6 = host_.find(':') != std::string::npos;
  if (ipv6) *at++ = '[';
  at = std::copy(host_.begin(), host_.end(), at);
  if (ipv6) *at++ = ']';
  if (!is_default_port()) {
    *at++ = ':';
    at = std::to_chars(at, out.data() + out.size(), port_).ptr;
  }
  out.resize(static_cast<std::size_t>(at - out.data()));
}

std::string URL::origin() const {
  char buffer[320];
  const std::string_view fits = origin_into(buffer);
  if (!fits.empty()) return std::string(fits);
  std::string long_origin(scheme_.size() + host_.size() + 12, '\0');  // a host name of over 300 bytes
  long_origin.resize(origin_into(long_origin).size());
  return long_origin;
}

std::string_view URL::origin_into(std::span<char> buffer) const noexcept {
  // By hand rather than snprintf: the pool looks this up for every request.
  const bool ipv6 = host_.find(':') != std::string::npos;
  std::size_t at = 0;
  auto put = [&](std::string_view piece) {
    if (at + piece.size() > buffer.size()) return false;
    piece.copy(buffer.data() + at, piece.size());
    at += piece.size();
    return true;
  };
  if (!put(scheme_) || !put("://") || (ipv6 && !put("[")) || !put(host_) || (ipv6 && !put("]")) || !put(":"))
    return {};
  const auto [end, error] = std::to_chars(buffer.data() + at, buffer.data() + buffer.size(), port_);
  if (error != std::errc{}) return {};
  return {buffer.data(), static_cast<std::size_t>(end - buffer.data())};
}

std::string URL::to_string() const { return scheme_ + "://" + host_header() + target(); }

URL URL::with_query(const QueryParams& params) const {
  if (params.empty()) return *this;
  URL url = *this;
  if (!url.query_.empty()) url.query_ += '&';
  url.query_ += encode_form(params);
  return url;
}

URL URL::join(std::string_view reference) const {
  if (scheme_length(reference) != 0) return parse(reference);
  if (reference.starts_with("//")) return parse(scheme_ + ":" + std::string(reference));
  URL url = *this;
  const auto fragment = reference.find('#');
  if (fragment != std::string_view::npos) reference = reference.substr(0, fragment);
  if (reference.empty()) return url;
  const auto question = reference.find('?');
  std::string_view path = reference.substr(0, question);
  url.query_ = question == std::string_view::npos ? "" : encode_target_part(reference.substr(question + 1));
  if (path.empty()) {
    if (question == std::string_view::npos) url.query_ = query_;
    return url;
  }
  std::string merged;
  if (path.front() == '/') {
    merged = std::string(path);
  } else {
    merged = path_.substr(0, path_.rfind('/') + 1) + std::string(path);
  }
  url.path_ = remove_dot_segments(encode_target_part(merged));
  return url;
}

std::string form_urlencode(std::string_view text) { return percent_encode(text, is_unreserved, true); }

std::string encode_form(const QueryParams& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    out += form_urlencode(name);
    out += '=';
    out += form_urlencode(value);
  }
  return out;
}

std::string mask_credentials(std::string_view text) {
  URL url;
  try {
    url = URL::parse(text);
  } catch (const InvalidURL&) {
    return mask_unparsed(text);
  }
  // The parsed form, not the text: the parser's own reading of where the
  // userinfo ends is the one that decides what is a credential.
  std::string out = url.scheme() + "://";
  if (url.has_credentials()) out += "***@";
  url.append_host_header(out);
  url.append_target(out);
  return out;
}

const char* to_string(TimeoutKind kind) noexcept {
  switch (kind) {
    case TimeoutKind::total: return "total";
    case TimeoutKind::connect: return "connect";
    case TimeoutKind::sock_connect: return "sock_connect";
    case TimeoutKind::sock_read: return "sock_read";
    case TimeoutKind::pool: return "pool";
  }
  return "unknown";
}

}  // namespace coring::http
