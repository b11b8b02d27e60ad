// libFuzzer target: both HTTP/1.1 parsers, differentially. The same bytes,
// fed whole and then cut into pieces at points drawn from the input, must
// give the same messages (heads, bodies, trailers, keep-alive), and be
// refused or not alike: a field split across reads (FieldReader), a limit
// crossed inside a piece, a chunk size cut in two. Which of two faults close
// together is named may depend on the cuts (llhttp hands a name over when
// its piece ends: a 129th name is refused as too many when cut, or for a
// bad character further on when whole), so refusals are compared, not
// their words. Any other difference, a crash or a sanitizer report is a
// finding. No event loop: an input costs the parsers' time alone.
//
// Input format (the seeds in parser_corpus/ follow it):
//   byte 0   bit 7     the request parser (the server's); else the response parser
//            bit 6     the first response answers a HEAD request (no body)
//            bits 0-5  seed of the cuts: pieces of 1 to 2^(bits 0-2 + 1) bytes
//   then     the bytes on the connection: any number of messages
//
// Build and run: see scripts/test.sh (the fuzz step).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "../../http/parser.hpp"

using namespace coring::http;
using namespace coring::http::detail;

namespace {

/// The next piece's size, given what is left.
using Cutter = std::function<std::size_t(std::size_t left)>;

std::string fields_of(const Headers& headers) {
  std::string out;
  for (const auto& [name, value] : headers) {
    out.append(name).append(": ").append(value).append("\n");
  }
  return out;
}

/// A message's trailers stay within the head's limits: ParserLimits'
/// max_headers fields, max_line_size bytes of names and values in all.
void check_trailers_bounded(ResponseParser& parser) {
  const ParserLimits limits;
  std::size_t bytes = 0;
  for (const auto& [name, value] : parser.trailers()) bytes += name.size() + value.size();
  if (parser.trailers().size() <= limits.max_headers && bytes <= limits.max_line_size) return;
  std::fprintf(stderr, "parser_fuzz: %zu trailer fields of %zu bytes, past the limits\n", parser.trailers().size(),
               bytes);
  std::abort();
}

/// Neither used a byte, nor ended a message, nor failed: the caller would wait forever.
[[noreturn]] void stalled(const char* side, const std::string& so_far) {
  std::fprintf(stderr, "parser_fuzz: the %s parser took none of its input and did not fail, after:\n%s\n", side,
               so_far.c_str());
  std::abort();
}

/// Feeds `wire` to `parser` in the pieces `cut` gives, until it fails, has
/// taken everything, or `message_done` (called at each message's end, after
/// `each_feed`) returns false. `out` is what the caller made of it so far.
template <class Parser, class EachFeed, class MessageDone>
void feed_all(Parser& parser, std::string_view wire, const Cutter& cut, const char* side, const std::string& out,
              EachFeed each_feed, MessageDone message_done) {
  std::string pending;
  std::size_t messages = 0;
  while (!wire.empty() || !pending.empty()) {
    if (pending.empty()) {
      const std::size_t n = cut(wire.size());
      pending.assign(wire.substr(0, n));
      wire.remove_prefix(n);
    }
    const std::size_t used = parser.feed(pending);
    pending.erase(0, used);
    each_feed();
    if (parser.failed()) return;
    if (parser.message_complete()) {
      // Bounded: each feed uses a byte at least, but be plain about it.
      if (!message_done() || ++messages == 16) return;
    } else if (used == 0 && !pending.empty()) {
      stalled(side, out);
    }
  }
}

/// What a parser made of a connection's bytes: the messages, in text to
/// compare, and the refusal that ended them, if any.
struct Transcript {
  std::string messages;
  std::optional<std::string> refusal;
  [[nodiscard]] std::string text() const { return messages + (refusal ? "\n[refused: " + *refusal + "]" : ""); }
};

/// Everything the response parser made of `wire`, as text to compare.
Transcript responses(std::string_view wire, bool head_first, const Cutter& cut) {
  ResponseParser parser;
  std::string out;
  parser.start(head_first);
  feed_all(
      parser, wire, cut, "response", out,
      [&] {
        out += parser.body();
        parser.body().clear();
      },
      [&] {
        const ResponseHead& h = parser.head();
        check_trailers_bounded(parser);
        out += "\n[" + std::to_string(h.status) + " " + h.reason + " 1." + std::to_string(h.version_minor) +
               (parser.keep_alive() ? " keep-alive" : " close") + "]\n" + fields_of(h.headers) + "[total " +
               std::to_string(parser.body_bytes_total()) + "]\n[trailers]\n" + fields_of(parser.trailers());
        parser.start(false);
        return true;
      });
  if (!parser.failed() && !parser.message_complete()) {
    parser.finish();
    out += parser.body();
    if (parser.message_complete()) out += "\n[ended by close, total " + std::to_string(parser.body_bytes_total()) + "]";
  }
  if (!parser.failed()) return {out, std::nullopt};
  return {out, std::string(parser.error_in_body() ? "in body: " : "") + parser.error()};
}

/// Everything the request parser made of `wire`, as text to compare.
Transcript requests(std::string_view wire, const Cutter& cut) {
  RequestParser parser;
  std::string out;
  feed_all(
      parser, wire, cut, "request", out, [] {},
      [&] {
        RequestHead& h = parser.head();
        out += "[" + h.method + " " + h.target + " 1." + std::to_string(h.version_minor) +
               (parser.keep_alive() ? " keep-alive" : " close") + "]\n" + fields_of(h.headers) + "[body " +
               parser.body() + "]\n";
        parser.start();
        return true;
      });
  if (!parser.failed()) return {out, std::nullopt};
  return {out, std::to_string(parser.error_status()) + " " + parser.error()};
}

}  // namespace

// UB is a finding, not a line in a log that libFuzzer would not read.
extern "C" const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return -1;  // no mode byte: not in the format, keep it out of the corpus
  const std::uint8_t mode = data[0];
  const std::string_view wire(reinterpret_cast<const char*>(data + 1), size - 1);
  const Cutter whole = [](std::size_t left) { return left; };
  std::uint32_t rng = mode;
  const Cutter pieces = [&](std::size_t left) {
    rng = rng * 1103515245u + 12345u;
    const std::size_t piece = 1 + (rng >> 16) % (std::size_t{2} << (mode & 0x07));
    return piece < left ? piece : left;
  };
  const bool request_side = (mode & 0x80) != 0;
  const bool head_first = (mode & 0x40) != 0;
  const Transcript a = request_side ? requests(wire, whole) : responses(wire, head_first, whole);
  const Transcript b = request_side ? requests(wire, pieces) : responses(wire, head_first, pieces);
  if (a.messages != b.messages || a.refusal.has_value() != b.refusal.has_value()) {
    std::fprintf(stderr, "parser_fuzz: fed whole:\n%s\n---- fed in pieces:\n%s\n", a.text().c_str(), b.text().c_str());
    std::abort();
  }
  return 0;
}
