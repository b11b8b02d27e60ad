// libFuzzer target: coring::http::URL. Each input line is parsed as a URL,
// and joined as a reference to a base URL; the results are checked:
//   - a parsed or joined URL is whole: scheme http or https, a host, a path
//     starting with '/' without "." or ".." segments, and a request target
//     and Host header with no byte a request line cannot carry;
//   - it survives a round trip: parse(to_string()) gives it back (less its
//     user and password, which to_string() leaves out);
//   - a reference without a scheme or authority keeps the base's origin;
//   - mask_credentials() of a URL's text that has a password leaves that
//     password out.
// Refusals are InvalidURL; any other exception, a crash or a sanitizer
// report is a finding.
//
// Input format (the seeds in url_corpus/ follow it): lines. The first is
// also the base of the others, if it parses; else the base is
// "http://user:pw@example.test/a/b/c?q=1".
//
// Build and run: see scripts/test.sh (the fuzz step).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <coring/http/errors.hpp>
#include <coring/http/url.hpp>

using namespace coring::http;

namespace {

std::string_view line_text;  // for the report

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "url_fuzz: %s\n  for line: %.*s\n", what.c_str(), static_cast<int>(line_text.size()),
               line_text.data());
  std::abort();
}

/// What may stand on a request line unescaped: visible ASCII but '#'.
bool request_line_safe(std::string_view s) {
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '#') return false;
  }
  return true;
}

bool has_dot_segment(std::string_view path) {
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    const std::string_view segment = path.substr(start, slash - start);
    if (segment == "." || segment == "..") return true;
    start = slash + 1;
  }
  return false;
}

void check_whole(const URL& url, const char* how) {
  const std::string text = url.to_string();
  if (url.scheme() != "http" && url.scheme() != "https") broken(std::string(how) + " has scheme " + url.scheme());
  if (url.host().empty()) broken(std::string(how) + " has no host: " + text);
  if (url.path().empty() || url.path().front() != '/') broken(std::string(how) + " has path " + url.path());
  if (has_dot_segment(url.path())) broken(std::string(how) + " keeps a dot segment: " + url.path());
  if (!request_line_safe(url.target())) broken(std::string(how) + " has a target unfit to send: " + url.target());
  if (!request_line_safe(url.host_header())) broken(std::string(how) + " has a Host unfit to send: " + url.host_header());
  URL again;
  try {
    again = URL::parse(text);
  } catch (const InvalidURL& e) {
    broken(std::string(how) + "'s text " + text + " does not parse: " + e.what());
  }
  if (again != url.without_credentials()) broken(std::string(how) + "'s text " + text + " parses as " + again.to_string());
}

/// Occurrences of `needle` in `text`, overlapping ones included.
std::size_t occurrences(std::string_view text, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

void check_masked(std::string_view text, const URL& url) {
  const std::string& password = url.password();
  // A '*' could be made of the mask itself.
  if (password.empty() || password.find('*') != std::string::npos) return;
  const std::size_t given = occurrences(text, password);
  if (given == 0) return;  // percent-encoded in the text: not there to leak as such
  const std::string masked = mask_credentials(text);
  if (occurrences(masked, password) >= given) broken("mask_credentials left the password in: " + masked);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::optional<URL> base;
  bool first = true;
  while (first || !input.empty()) {
    const auto end = input.find('\n');
    const std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? "" : input.substr(end + 1);
    line_text = line;
    try {
      const URL url = URL::parse(line);
      check_whole(url, "a parsed URL");
      check_masked(line, url);
      if (first) base = url;
    } catch (const InvalidURL&) {
    }
    if (first && !base) base = URL::parse("http://user:pw@example.test/a/b/c?q=1");
    first = false;
    try {
      const URL joined = base->join(line);
      check_whole(joined, "a joined URL");
      const bool relative = line.find("://") == std::string_view::npos && !line.starts_with("//");
      if (relative && joined.origin() != base->origin())
        broken("a relative reference moved " + base->to_string() + " to " + joined.to_string());
    } catch (const InvalidURL&) {
    }
  }
  return 0;
}
