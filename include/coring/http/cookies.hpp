#pragma once
// coring::http::CookieJar: Set-Cookie stored, Cookie sent back (RFC 6265),
// as aiohttp's CookieJar.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "coring/http/headers.hpp"
#include "coring/http/url.hpp"

namespace coring::http {

struct Cookie {
  std::string name;
  std::string value;
  std::string domain;  // lower-case, no leading dot
  bool host_only = true;  // no Domain attribute: this exact host only
  std::string path = "/";
  std::optional<std::chrono::system_clock::time_point> expires;  // none: a session cookie
  bool secure = false;
  bool http_only = false;
};

/// A CookieJar's limits, so that a server cannot make the jar, or the
/// requests it builds, grow without end (curl's CVE-2022-32205).
struct CookieLimits {
  /// A cookie whose name and value take more is ignored (RFC 6265bis, browsers).
  std::size_t max_cookie_size = 4096;
  /// Past this many cookies of one registrable domain ("example.co.uk", its
  /// subdomains' included, as browsers count), or max_cookies in all, the
  /// oldest stored goes first, Secure ones last (expired ones are gone
  /// already); over http, when only a Secure cookie could make room, the new
  /// cookie is ignored. 50 and 3000 are RFC 6265 6.1's minimums.
  std::size_t max_cookies_per_domain = 50;
  std::size_t max_cookies = 3000;
  /// The Cookie header leaves out the cookies that would take its line
  /// ("Cookie: " included) past this: the line limit of our parser, aiohttp's
  /// and Apache's.
  std::size_t max_header_line = 8190;
};

class CookieJar {
 public:
  using Clock = std::chrono::system_clock;

  CookieJar() = default;
  explicit CookieJar(CookieLimits limits) : limits_(limits) {}

  /// Stores the Set-Cookie fields of a response from `url`. A cookie whose
  /// Domain does not cover the URL's host, or is a public suffix ("com",
  /// "co.uk") other than the host itself, is ignored; so is, from an http://
  /// URL, a Secure cookie or one named as a Secure cookie it would replace or
  /// shadow. One already expired (Max-Age <= 0, Expires in the past) removes
  /// its namesake. The cookies expired by `now` leave the jar first; then
  /// the limits above apply. Never throws for what a server sends: an invalid
  /// cookie is ignored (RFC 6265).
  void update(const Headers& response_headers, const URL& url, Clock::time_point now = Clock::now());
  /// Stores one Set-Cookie value.
  void set_cookie(std::string_view set_cookie, const URL& url, Clock::time_point now = Clock::now());
  /// The Cookie header value for a request to `url` (empty if none): by
  /// domain, path and Secure; longer paths first, then older cookies.
  /// Removes the cookies expired by `now` from the jar, as set_cookie does.
  [[nodiscard]] std::string header_for(const URL& url, Clock::time_point now = Clock::now());

  /// The cookies held, in creation order; an expired one until the next
  /// update or header_for.
  [[nodiscard]] const std::vector<Cookie>& cookies() const noexcept { return cookies_; }
  [[nodiscard]] std::size_t size() const noexcept { return cookies_.size(); }
  void clear() noexcept {
    cookies_.clear();
    next_expiry_ = Clock::time_point::max();
  }
  [[nodiscard]] const CookieLimits& limits() const noexcept { return limits_; }

 private:
  /// Whether `c` bears the name of a Secure cookie whose domain covers or is
  /// covered by its own, at or above its path.
  [[nodiscard]] bool shadows_secure(const Cookie& c) const;
  /// A pass over the jar only once `now` reaches next_expiry_.
  void remove_expired(Clock::time_point now);
  /// Evicts so that one more cookie for `domain` stays within the limits;
  /// false, evicting nothing more, if that would take a Secure cookie and
  /// the new one does not come from https.
  [[nodiscard]] bool make_room(std::string_view domain, bool secure_origin);

  CookieLimits limits_;
  std::vector<Cookie> cookies_;
  /// No cookie expires before this (a bound: a replaced or evicted cookie
  /// may have set it earlier than the earliest left).
  Clock::time_point next_expiry_ = Clock::time_point::max();
};

}  // namespace coring::http
