#pragma once
// coring::http::URL: an absolute http(s) URL, parsed and normalised.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coring::http {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

class URL {
 public:
  URL() = default;
  /// Parses an absolute http:// or https:// URL. InvalidURL, naming the text
  /// (its user:password masked) and the reason, otherwise. The fragment is
  /// dropped (never sent).
  static URL parse(std::string_view text);

  [[nodiscard]] const std::string& scheme() const noexcept { return scheme_; }
  /// Lower-cased; IPv6 literals without brackets.
  [[nodiscard]] const std::string& host() const noexcept { return host_; }
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] bool is_default_port() const noexcept;
  /// Path, starting with '/'; percent-encoding as given.
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  /// The query without '?', or empty.
  [[nodiscard]] const std::string& query() const noexcept { return query_; }
  [[nodiscard]] bool is_https() const noexcept { return scheme_.size() == 5; }  // parse() admits http and https only
  /// The user and password of "http://user:password@host/", percent-decoded;
  /// ClientSession sends them as Basic authentication. Never part of
  /// to_string() or origin(), so never in an error message or a log.
  [[nodiscard]] const std::string& user() const noexcept { return user_; }
  [[nodiscard]] const std::string& password() const noexcept { return password_; }
  [[nodiscard]] bool has_credentials() const noexcept { return !user_.empty() || !password_.empty(); }
  /// This URL without user and password.
  [[nodiscard]] URL without_credentials() const;

  /// What goes on the request line: path, then '?query' if any.
  [[nodiscard]] std::string target() const;
  /// The Host header value: host, with ":port" unless default; IPv6 bracketed.
  [[nodiscard]] std::string host_header() const;
  /// target() and host_header() appended to `out`: no string of their own
  /// (the client writes every request line with them).
  void append_target(std::string& out) const;
  void append_host_header(std::string& out) const;
  /// scheme://host:port, for comparing origins (redirects drop credentials
  /// when it changes).
  [[nodiscard]] std::string origin() const;
  /// origin() written into `buffer`, without allocating; empty if it does not fit.
  [[nodiscard]] std::string_view origin_into(std::span<char> buffer) const noexcept;
  [[nodiscard]] std::string to_string() const;

  /// This URL with `params` appended to its query, percent-encoded.
  [[nodiscard]] URL with_query(const QueryParams& params) const;
  /// Resolves a reference (a Location header, a path under base_url) against
  /// this URL, as RFC 3986 section 5 does.
  [[nodiscard]] URL join(std::string_view reference) const;

  friend bool operator==(const URL&, const URL&) = default;

 private:
  std::string scheme_, host_, path_ = "/", query_, user_, password_;
  std::uint16_t port_ = 0;
};

/// Percent-encodes for a query component (application/x-www-form-urlencoded:
/// space becomes '+'), keeping unreserved characters.
std::string form_urlencode(std::string_view text);
/// Encodes fields as `a=1&b=2`, percent-encoded.
std::string encode_form(const QueryParams& fields);
/// `text` with the user:password of a URL in it replaced by "***", for
/// messages about text that may not parse as a URL: a URL that parses is
/// shown as parsed (as to_string(), with "***@" if it had credentials); one
/// that does not is masked from "://" to its last '@', whatever lies between.
std::string mask_credentials(std::string_view text);

}  // namespace coring::http
