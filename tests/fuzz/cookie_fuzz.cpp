// libFuzzer target: coring::http::CookieJar. Set-Cookie lines from fuzzed
// and fixed URLs, a clock moved forward, Cookie headers asked for; the
// jar's invariants are checked (the counts after every step that sets
// cookies, the rest at each 'h' step and at the end):
//   - at most max_cookies in all, max_cookies_per_domain per registrable
//     domain (counted here from the public suffix list, cookie by cookie);
//     the jar's limits are small (`fuzz_limits`, or an 'l' step's), so
//     that short inputs reach them all: thousands of cookies, or cookies of
//     4 KiB, would make each of a fuzzer's runs slow;
//   - every cookie whole: a name, name and value within max_cookie_size, no
//     control character, a path starting with '/', a Domain (not host-only)
//     that is no public suffix;
//   - a response over http changes no unexpired Secure cookie;
//   - a Cookie header fits its line in max_header_line, has no control
//     character, and each of its name=value pairs is a cookie of the jar
//     that may go to that URL: its domain covers the host (exactly, if
//     host-only or an IP), its path covers the path, Secure only over https.
// A crash, a sanitizer report or a broken invariant is a finding.
//
// Input format (the seeds in cookie_corpus/ follow it): lines; the first
// byte of each is the step, the rest its argument:
//   u  the current URL from now on: a digit picks one of `fixed_urls`, else
//      the text, if it parses
//   s  a Set-Cookie value, from the current URL
//   h  the Cookie header for the current URL, checked
//   t  the clock moves on by the decimal number of seconds given (it stops
//      in 2191, short of the end of system_clock)
//   l  "l<cookie size> <per domain> <in all> <header line>": an empty jar
//      with these limits (at most 5000, 20, 60 and 20000) from now on
//   m  "m<N> <Set-Cookie>": N of it (at most 80), the names suffixed 0..N-1
//   n  "n<N> <Set-Cookie>": one from each of N sites s0.test... (at most 80)
//      (120 cookies from 'm' and 'n' steps in all: twice the largest jar)
//   other: the whole line is a Set-Cookie value, from the current URL
// At the end, the header for each fixed URL is checked too.
//
// Build and run: see scripts/test.sh (the fuzz step).
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <coring/http/cookies.hpp>
#include <coring/http/errors.hpp>
#include <coring/http/url.hpp>

#include "../../http/public_suffix.hpp"

using namespace coring::http;

namespace {

constexpr CookieLimits fuzz_limits{
    .max_cookie_size = 300, .max_cookies_per_domain = 6, .max_cookies = 40, .max_header_line = 1024};

constexpr std::array<std::string_view, 10> fixed_urls = {
    "http://example.test/",
    "https://www.example.test/app/page",
    "http://a.example.co.uk/x/y",
    "https://co.uk/",
    "https://github.io/",
    "https://user.github.io/p/",
    "http://127.0.0.1:8080/",
    "http://[::1]/",
    "https://bucket.us-east-1.amazonaws.com/",
    "http://amazonaws.com/deep/path/",
};

std::string_view step_text;  // for the report

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "cookie_fuzz: %s\n  at step: %.*s\n", what.c_str(), static_cast<int>(step_text.size()),
               step_text.data());
  std::abort();
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7f;
  });
}

bool is_ip(std::string_view host) {
  return host.find(':') != std::string_view::npos ||
         std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

/// Whether `c` may go to `url`, written from RFC 6265 5.4 apart from the jar's own code.
bool may_send(const Cookie& c, const URL& url) {
  const std::string& host = url.host();
  const bool domain_ok = host == c.domain || (!c.host_only && !is_ip(host) && host.size() > c.domain.size() &&
                                              host.ends_with("." + c.domain));
  const std::string& path = url.path();
  const bool path_ok = path == c.path || (path.starts_with(c.path) && (c.path.back() == '/' || path[c.path.size()] == '/'));
  return domain_ok && path_ok && (!c.secure || url.is_https());
}

std::string site_of(std::string_view domain) {
  if (is_ip(domain)) return std::string(domain);
  const std::string_view registrable = detail::registrable_domain(domain);
  return std::string(registrable.empty() ? domain : registrable);
}

/// The counts after every step; each cookie's content, which takes a scan of
/// up to 4 KiB a cookie, only when `whole` (at an 'h' step and the end).
void check_jar(const CookieJar& jar, bool whole) {
  const CookieLimits& limits = jar.limits();
  if (jar.size() > limits.max_cookies) broken("the jar holds " + std::to_string(jar.size()) + " cookies");
  // By domain first, sorted: a lookup in the list for each domain, not each
  // cookie (this runs after every step).
  std::vector<std::string_view> domains;
  domains.reserve(jar.size());
  for (const Cookie& c : jar.cookies()) domains.emplace_back(c.domain);
  std::sort(domains.begin(), domains.end());
  std::vector<std::pair<std::string, std::size_t>> per_site;
  for (auto run = domains.begin(); run != domains.end();) {
    const auto run_end = std::upper_bound(run, domains.end(), *run);
    const std::string site = site_of(*run);
    auto counted = std::find_if(per_site.begin(), per_site.end(), [&](const auto& entry) { return entry.first == site; });
    if (counted == per_site.end()) counted = per_site.insert(per_site.end(), {site, 0});
    counted->second += static_cast<std::size_t>(run_end - run);
    if (counted->second > limits.max_cookies_per_domain) broken("too many cookies for " + site);
    run = run_end;
  }
  if (!whole) return;
  for (const Cookie& c : jar.cookies()) {
    if (c.name.empty() || c.name.size() + c.value.size() > limits.max_cookie_size) broken("a cookie of bad size");
    if (has_control(c.name) || has_control(c.value) || has_control(c.path) || has_control(c.domain))
      broken("a control character in cookie " + c.name);
    if (c.path.empty() || c.path.front() != '/') broken("cookie " + c.name + " has path " + c.path);
    if (c.domain.empty()) broken("cookie " + c.name + " has no domain");
    if (!c.host_only && !is_ip(c.domain) && detail::is_public_suffix(c.domain))
      broken("cookie " + c.name + " is shared by the public suffix " + c.domain);
  }
}

void check_header(CookieJar& jar, const URL& url, CookieJar::Clock::time_point now) {
  const std::string header = jar.header_for(url, now);
  if (!header.empty() && header.size() + std::string_view("Cookie: ").size() > jar.limits().max_header_line)
    broken("a Cookie header of " + std::to_string(header.size()) + " bytes");
  if (has_control(header)) broken("a control character in the Cookie header");
  std::string_view rest = header;
  while (!rest.empty()) {
    const auto end = rest.find("; ");
    const std::string_view pair = rest.substr(0, end);
    rest = end == std::string_view::npos ? "" : rest.substr(end + 2);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) broken("no '=' in the Cookie header's " + std::string(pair));
    const std::string_view name = pair.substr(0, eq), value = pair.substr(eq + 1);
    const bool sent_rightly = std::any_of(jar.cookies().begin(), jar.cookies().end(), [&](const Cookie& c) {
      return c.name == name && c.value == value && (!c.expires || *c.expires > now) && may_send(c, url);
    });
    if (!sent_rightly) broken("the header for " + url.to_string() + " has " + std::string(pair) + ", no cookie of it");
  }
}

using SecureState = std::vector<std::tuple<std::string, std::string, std::string, std::string>>;

SecureState secure_cookies(const CookieJar& jar, CookieJar::Clock::time_point now) {
  SecureState out;
  for (const Cookie& c : jar.cookies())
    if (c.secure && (!c.expires || *c.expires > now)) out.emplace_back(c.name, c.value, c.domain, c.path);
  return out;
}

/// Runs `step`, which sets cookies from `url`, checking that over http no
/// unexpired Secure cookie changes.
template <class Step>
void set_from(CookieJar& jar, const URL& url, CookieJar::Clock::time_point now, Step step) {
  if (url.is_https()) {
    step();
    return;
  }
  const SecureState before = secure_cookies(jar, now);
  step();
  if (secure_cookies(jar, now) != before) broken("a response over http changed a Secure cookie");
}

/// "<N> <rest>": N (at most `most`) and the rest.
std::pair<std::size_t, std::string_view> count_and_rest(std::string_view arg, std::size_t most) {
  std::size_t n = 0, i = 0;
  for (; i < arg.size() && i < 9 && arg[i] >= '0' && arg[i] <= '9'; ++i) n = n * 10 + static_cast<std::size_t>(arg[i] - '0');
  if (i < arg.size() && arg[i] == ' ') ++i;
  return {std::min(n, most), arg.substr(i)};
}

/// `line` with "<suffix>" after the cookie's name.
std::string with_name_suffix(std::string_view line, std::size_t suffix) {
  const auto eq = line.find('=');
  if (eq == std::string_view::npos) return std::string(line);
  return std::string(line.substr(0, eq)) + std::to_string(suffix) + std::string(line.substr(eq));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  CookieJar jar(fuzz_limits);
  // 2024-01-01: a fixed clock, so that a finding replays.
  auto now = CookieJar::Clock::time_point(std::chrono::seconds(1'704'067'200));
  const auto clock_end = CookieJar::Clock::time_point(std::chrono::seconds(7'000'000'000));
  URL current = URL::parse(fixed_urls[0]);
  // Cookies set by 'm' and 'n' steps, all told: a few times the limits is
  // all they need, and more only repeats itself, slowly.
  std::size_t mass_budget = 120;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    const auto end = input.find('\n');
    const std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? "" : input.substr(end + 1);
    if (line.empty()) continue;
    step_text = line;
    const std::string_view arg = line.substr(1);
    switch (line.front()) {
      case 'u':
        try {
          current = arg.size() == 1 && arg[0] >= '0' && arg[0] <= '9' ? URL::parse(fixed_urls[arg[0] - '0'])
                                                                      : URL::parse(arg);
        } catch (const InvalidURL&) {
        }
        break;
      case 's': set_from(jar, current, now, [&] { jar.set_cookie(arg, current, now); }); break;
      case 'h':
        check_header(jar, current, now);
        check_jar(jar, true);
        break;
      case 't':
        now = std::min(now + std::chrono::seconds(count_and_rest(arg, 999'999'999).first), clock_end);
        break;
      case 'l': {
        const auto [cookie_size, after_first] = count_and_rest(arg, 5000);
        const auto [per_domain, after_second] = count_and_rest(after_first, 20);
        const auto [in_all, after_third] = count_and_rest(after_second, 60);
        jar = CookieJar({.max_cookie_size = cookie_size,
                         .max_cookies_per_domain = per_domain,
                         .max_cookies = in_all,
                         .max_header_line = count_and_rest(after_third, 20000).first});
        break;
      }
      case 'm': {
        const auto [count, suffixed] = count_and_rest(arg, std::min<std::size_t>(80, mass_budget));
        mass_budget -= count;
        set_from(jar, current, now, [&, n = count, rest = suffixed] {
          for (std::size_t i = 0; i < n; ++i) jar.set_cookie(with_name_suffix(rest, i), current, now);
        });
        break;
      }
      case 'n': {
        const auto [count, line_rest] = count_and_rest(arg, std::min<std::size_t>(80, mass_budget));
        mass_budget -= count;
        set_from(jar, current, now, [&, n = count, rest = line_rest] {
          for (std::size_t i = 0; i < n; ++i)
            jar.set_cookie(rest, URL::parse(current.scheme() + "://s" + std::to_string(i) + ".test" + current.path()), now);
        });
        break;
      }
      default: set_from(jar, current, now, [&] { jar.set_cookie(line, current, now); }); break;
    }
    if (line.front() != 'u' && line.front() != 't') check_jar(jar, false);  // those set nothing
  }
  step_text = "(the end)";
  check_jar(jar, true);
  for (std::string_view url : fixed_urls) check_header(jar, URL::parse(url), now);
  check_header(jar, current, now);
  return 0;
}
