// CookieJar: parsing Set-Cookie, domain and path matching, eviction under
// the limits, and the Cookie header.
#include "coring/http/cookies.hpp"

#include <algorithm>
#include <ctime>

#include "ascii.hpp"
#include "public_suffix.hpp"

namespace coring::http {

namespace {

using detail::to_lower;
using detail::trim;

bool is_ip_literal(std::string_view host) {
  if (host.find(':') != std::string_view::npos) return true;  // IPv6
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

/// RFC 6265 5.1.3: the host is the domain, or a subdomain of it (not for IPs).
bool domain_matches(std::string_view host, std::string_view domain) {
  if (host == domain) return true;
  if (is_ip_literal(host)) return false;
  return host.size() > domain.size() && host.ends_with(domain) && host[host.size() - domain.size() - 1] == '.';
}

/// The cookies counted together against max_cookies_per_domain: a
/// registrable domain's, its subdomains' included; an IP address's, or a
/// public suffix host's (host-only cookies), alone.
struct Site {
  std::string_view name;
  bool with_subdomains = false;

  [[nodiscard]] bool contains(std::string_view domain) const {
    if (domain == name) return true;
    // A subdomain can be a site of its own: "us-east-1.amazonaws.com" is a
    // public suffix under the registrable "amazonaws.com".
    return with_subdomains && domain_matches(domain, name) && detail::registrable_domain(domain) == name;
  }
};

Site site_of(std::string_view domain) {
  if (is_ip_literal(domain)) return {domain};
  const std::string_view registrable = detail::registrable_domain(domain);
  if (registrable.empty()) return {domain};
  return {registrable, true};
}

/// RFC 6265bis 5.6: a string with a control character other than HTAB
/// (NUL, CR, LF among them) is ignored whole; none reaches a Cookie header.
bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7f;
  });
}

/// RFC 6265bis 5.6: a longer attribute value is ignored (its attribute, not
/// the cookie), which bounds a stored Path.
constexpr std::size_t max_attribute_size = 1024;

/// RFC 6265 5.1.4.
bool path_matches(std::string_view request_path, std::string_view cookie_path) {
  if (request_path == cookie_path) return true;
  if (!request_path.starts_with(cookie_path)) return false;
  return cookie_path.back() == '/' || request_path[cookie_path.size()] == '/';
}

/// The directory of the request path (RFC 6265 5.1.4's default-path).
std::string default_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return "/";
  const auto last = path.rfind('/');
  return last == 0 ? "/" : std::string(path.substr(0, last));
}

/// `from` plus `seconds`, saturated at the ends of the clock: its nanoseconds
/// since 1970 run out in 2262, and "Expires=Fri, 31 Dec 9999 ..." is common
/// (overflowing, it would wrap to 1816 and drop the cookie as expired).
CookieJar::Clock::time_point add_seconds(CookieJar::Clock::time_point from, long long seconds) {
  using Clock = CookieJar::Clock;
  constexpr long long limit = std::chrono::duration_cast<std::chrono::seconds>(Clock::duration::max()).count() - 1;
  const long long base = std::chrono::duration_cast<std::chrono::seconds>(from.time_since_epoch()).count();
  if (seconds >= limit - base) return Clock::time_point::max();
  if (seconds <= -limit - base) return Clock::time_point::min();
  return from + std::chrono::seconds(seconds);
}

/// An HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT" and its common variants).
std::optional<CookieJar::Clock::time_point> parse_date(std::string_view text) {
  const std::string s(trim(text));
  for (const char* format : {"%a, %d %b %Y %H:%M:%S", "%a, %d-%b-%Y %H:%M:%S", "%a, %d-%b-%y %H:%M:%S",
                             "%A, %d-%b-%y %H:%M:%S", "%a %b %d %H:%M:%S %Y"}) {
    std::tm tm{};
    const char* end = ::strptime(s.c_str(), format, &tm);
    if (end != nullptr) return add_seconds(CookieJar::Clock::time_point{}, ::timegm(&tm));
  }
  return std::nullopt;
}

/// Erases `excess` cookies that `pick` selects; false if there are not so
/// many, or, erasing nothing, if that takes a Secure one and not `secure_origin`.
template <class Pick>
bool evict(std::vector<Cookie>& cookies, Pick pick, std::size_t excess, bool secure_origin) {
  // Oldest first: the jar is in creation order. RFC 6265 5.3 evicts by last
  // access instead, which header_for would then write on every request; by
  // creation, a site's flood evicts its own older cookies first. Secure ones
  // go last (RFC 6265bis 5.7, Chrome), and never for an http:// response: a
  // flood over http must not do what cookie-alone forbids it to do directly.
  const auto plain = static_cast<std::size_t>(
      std::count_if(cookies.begin(), cookies.end(), [&](const Cookie& c) { return !c.secure && pick(c); }));
  if (plain < excess && !secure_origin) return false;
  for (const bool secure : {false, true})
    for (auto it = cookies.begin(); it != cookies.end() && excess != 0;)
      if (it->secure == secure && pick(*it)) {
        it = cookies.erase(it);
        --excess;
      } else {
        ++it;
      }
  return excess == 0;
}

}  // namespace

void CookieJar::set_cookie(std::string_view line, const URL& url, Clock::time_point now) {
  if (has_control(line)) return;
  Cookie c;
  const auto semicolon = line.find(';');
  const std::string_view pair = trim(line.substr(0, semicolon));
  const auto eq = pair.find('=');
  if (eq == std::string_view::npos) return;  // RFC 6265 5.2: no '=' means ignore
  c.name = std::string(trim(pair.substr(0, eq)));
  c.value = std::string(trim(pair.substr(eq + 1)));
  if (c.name.empty() || c.name.size() + c.value.size() > limits_.max_cookie_size) return;
  c.domain = url.host();
  c.path = default_path(url.path());
  std::optional<Clock::time_point> max_age_expiry;
  std::string_view attributes = semicolon == std::string_view::npos ? "" : line.substr(semicolon + 1);
  while (!attributes.empty()) {
    const auto next = attributes.find(';');
    const std::string_view attribute = trim(attributes.substr(0, next));
    attributes = next == std::string_view::npos ? "" : attributes.substr(next + 1);
    const auto aeq = attribute.find('=');
    const std::string key = to_lower(trim(attribute.substr(0, aeq)));
    const std::string_view value = aeq == std::string_view::npos ? "" : trim(attribute.substr(aeq + 1));
    if (value.size() > max_attribute_size) continue;
    if (key == "domain" && !value.empty()) {
      std::string domain = to_lower(value);
      if (domain.front() == '.') domain.erase(0, 1);
      if (domain.empty()) continue;
      if (!domain_matches(url.host(), domain)) return;  // a cookie for another site: refused
      // RFC 6265 5.3 step 5: "Domain=co.uk" would reach every site under it;
      // set by the suffix's own host, the cookie stays with that host.
      const bool shared = !detail::is_public_suffix(domain);
      if (!shared && domain != url.host()) return;
      c.domain = std::move(domain);
      c.host_only = !shared;
    } else if (key == "path" && !value.empty() && value.front() == '/') {
      c.path = std::string(value);
    } else if (key == "max-age") {
      char* end = nullptr;
      const std::string digits(value);
      const long seconds = std::strtol(digits.c_str(), &end, 10);
      if (!digits.empty() && end != nullptr && *end == '\0')
        max_age_expiry = seconds <= 0 ? Clock::time_point::min() : add_seconds(now, seconds);
    } else if (key == "expires") {
      if (auto when = parse_date(value)) c.expires = *when;
    } else if (key == "secure") {
      c.secure = true;
    } else if (key == "httponly") {
      c.http_only = true;
    }
  }
  if (max_age_expiry) c.expires = max_age_expiry;  // Max-Age wins over Expires
  remove_expired(now);  // before any rule looks at what the jar holds
  // A Secure cookie is an https origin's: over http (which anyone on the path
  // can answer) none may be set, nor one that would replace, delete or shadow
  // a Secure one of its name (RFC 6265bis storage model; the rule came from
  // draft-ietf-httpbis-cookie-alone). Browsers and curl do the same.
  if (!url.is_https() && (c.secure || shadows_secure(c))) return;
  const auto same = std::find_if(cookies_.begin(), cookies_.end(), [&](const Cookie& old) {
    return old.name == c.name && old.domain == c.domain && old.path == c.path;
  });
  if (c.expires && *c.expires <= now) {  // expired: it only deletes its namesake
    if (same != cookies_.end()) cookies_.erase(same);
    return;
  }
  if (c.expires) next_expiry_ = std::min(next_expiry_, *c.expires);
  if (same != cookies_.end()) {
    // In its namesake's place: the replacement keeps the old creation time
    // (RFC 6265 5.3 step 11.3), which orders both the Cookie header and eviction.
    *same = std::move(c);
    return;
  }
  if (make_room(c.domain, url.is_https())) cookies_.push_back(std::move(c));
}

bool CookieJar::make_room(std::string_view domain, bool secure_origin) {
  const Site site = site_of(domain);
  auto in_site = [&](const Cookie& old) { return site.contains(old.domain); };
  auto anywhere = [](const Cookie&) { return true; };
  const auto in_site_count = static_cast<std::size_t>(std::count_if(cookies_.begin(), cookies_.end(), in_site));
  if (in_site_count >= limits_.max_cookies_per_domain &&
      !evict(cookies_, in_site, in_site_count - limits_.max_cookies_per_domain + 1, secure_origin))
    return false;
  return cookies_.size() < limits_.max_cookies ||
         evict(cookies_, anywhere, cookies_.size() - limits_.max_cookies + 1, secure_origin);
}

bool CookieJar::shadows_secure(const Cookie& c) const {
  return std::any_of(cookies_.begin(), cookies_.end(), [&](const Cookie& old) {
    return old.secure && old.name == c.name &&
           (domain_matches(old.domain, c.domain) || domain_matches(c.domain, old.domain)) &&
           path_matches(c.path, old.path);
  });
}

void CookieJar::update(const Headers& response_headers, const URL& url, Clock::time_point now) {
  // Field by field: most responses set no cookie, and then nothing is allocated.
  for (const auto& [name, value] : response_headers)
    if (iequals(name, "Set-Cookie")) set_cookie(value, url, now);
}

void CookieJar::remove_expired(Clock::time_point now) {
  if (now < next_expiry_) return;
  std::erase_if(cookies_, [&](const Cookie& c) { return c.expires && *c.expires <= now; });
  next_expiry_ = Clock::time_point::max();
  for (const Cookie& c : cookies_)
    if (c.expires) next_expiry_ = std::min(next_expiry_, *c.expires);
}

std::string CookieJar::header_for(const URL& url, Clock::time_point now) {
  remove_expired(now);
  std::vector<const Cookie*> matching;
  for (const Cookie& c : cookies_) {
    if (c.secure && !url.is_https()) continue;
    if (c.host_only ? url.host() != c.domain : !domain_matches(url.host(), c.domain)) continue;
    if (!path_matches(url.path(), c.path)) continue;
    matching.push_back(&c);
  }
  if (matching.empty()) return {};
  std::stable_sort(matching.begin(), matching.end(),
                   [](const Cookie* a, const Cookie* b) { return a->path.size() > b->path.size(); });
  // The whole line, "Cookie: " included, within what servers read.
  constexpr std::size_t field_name = std::string_view("Cookie: ").size();
  const std::size_t room = limits_.max_header_line > field_name ? limits_.max_header_line - field_name : 0;
  std::string header;
  for (const Cookie* c : matching) {
    const std::size_t more = (header.empty() ? 0 : 2) + c->name.size() + 1 + c->value.size();
    if (header.size() + more > room) continue;  // this one stays home; a shorter one may fit
    if (!header.empty()) header += "; ";
    header += c->name;
    header += '=';
    header += c->value;
  }
  return header;
}

}  // namespace coring::http
