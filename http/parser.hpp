#pragma once
// HTTP/1.1 parsers: bytes in, a message head and body bytes out, no I/O
// (llhttp's own shape). parser.cpp is the one file that includes llhttp.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "coring/http/headers.hpp"
#include "headers_access.hpp"

namespace coring::http::detail {

struct ResponseHead {
  int status = 0;
  std::string reason;
  int version_major = 1;
  int version_minor = 1;
  Headers headers;
};

struct ParserLimits {
  std::size_t max_line_size = 8190;   // status line, and each header line (aiohttp's limit)
  std::size_t max_headers = 128;      // aiohttp's limit
  std::size_t max_body_size = 0;      // 0: no limit
  /// Count body bytes without keeping them (a load generator's reads).
  bool discard_body = false;
};

/// A head's fields from the pieces llhttp hands over (a field comes in as
/// many pieces as reads split it): straight into the head's list, each byte
/// copied once, under the limits on their count and on each line's size.
/// Both parsers read their fields through one.
class FieldReader {
 public:
  enum class Limit { none, too_many_headers, line_too_long };
  /// A piece of a name; the first of a field starts it. Limit::none if taken.
  /// (Inline: a response head calls these a dozen times or more.)
  Limit name_piece(Headers& headers, std::string_view piece, const ParserLimits& limits) {
    if (!in_field_) {
      if (headers.size() >= limits.max_headers) return Limit::too_many_headers;
      HeadersAccess::start_field(headers);
      in_field_ = true;
      line_size_ = 0;
    }
    if (!fits(piece, limits)) return Limit::line_too_long;
    HeadersAccess::append_to_name(headers, piece);
    return Limit::none;
  }
  Limit value_piece(Headers& headers, std::string_view piece, const ParserLimits& limits) {
    if (!fits(piece, limits)) return Limit::line_too_long;
    HeadersAccess::append_to_value(headers, piece);
    return Limit::none;
  }
  /// What a refusal says, naming the limit ("more than 128 headers").
  [[gnu::cold]] static std::string describe(Limit limit, const ParserLimits& limits);
  void value_complete() noexcept { in_field_ = false; }
  /// A field started, its value not complete yet.
  [[nodiscard]] bool in_field() const noexcept { return in_field_; }
  void reset() noexcept { in_field_ = false; }

 private:
  bool fits(std::string_view piece, const ParserLimits& limits) noexcept {
    line_size_ += piece.size();
    return line_size_ <= limits.max_line_size;
  }
  bool in_field_ = false;
  std::size_t line_size_ = 0;  // of the field being read
};

/// What the response and request parsers share: llhttp's state (behind a
/// pointer: llhttp stays in parser.cpp), the limits, the message read so
/// far and how reading it went. `Head` is ResponseHead or RequestHead.
template <class Head>
class MessageParser {
 public:
  MessageParser(const MessageParser&) = delete;
  MessageParser& operator=(const MessageParser&) = delete;

  /// The head is in (the body, if any, follows).
  [[nodiscard]] bool head_complete() const noexcept { return head_complete_; }
  [[nodiscard]] bool message_complete() const noexcept { return message_complete_; }
  [[nodiscard]] bool failed() const noexcept { return !error_.empty(); }
  /// Why parsing failed (or the message was refused), naming the cause.
  [[nodiscard]] const std::string& error() const noexcept { return error_; }
  /// The connection may carry another message after this one (known once
  /// the head is in).
  [[nodiscard]] bool keep_alive() const noexcept { return keep_alive_; }
  Head& head() noexcept { return head_; }
  /// Body bytes parsed and not yet taken by the reader.
  std::string& body() noexcept { return body_; }

 protected:
  explicit MessageParser(ParserLimits limits);
  ~MessageParser();

  struct State;  // llhttp's parser
  std::unique_ptr<State> state_;
  ParserLimits limits_;
  Head head_;
  std::string body_;
  FieldReader fields_;
  bool head_complete_ = false;
  bool message_complete_ = false;
  bool keep_alive_ = false;
  char last_byte_ = 0;  // of the last feed: a CRLF may be cut in two between feeds
  std::string error_;
};

class ResponseParser : public MessageParser<ResponseHead> {
 public:
  explicit ResponseParser(ParserLimits limits = {});

  /// Prepares for the response to a new request. After a HEAD request the
  /// response has no body, whatever its headers say.
  void start(bool head_request);

  /// Parses `data`. Interim 1xx responses are skipped. Body bytes are
  /// appended to body(). Stops at the end of the message; returns the bytes
  /// used. Bytes beyond the message are left alone: a server that sends them
  /// has broken the connection for reuse.
  std::size_t feed(std::string_view data);
  /// The peer closed the connection: completes a body delimited by close,
  /// or records the truncation.
  void finish();

  /// The trailer fields after a chunked body, as sent (never merged into
  /// the head: RFC 9110 6.5.1), complete once message_complete(); empty if
  /// there were none. Bounded as a head is: at most limits.max_headers
  /// fields, limits.max_line_size bytes of names and values in all.
  Headers& trailers() noexcept { return trailers_; }
  /// Whether the body (not the head) was at fault when parsing failed.
  [[nodiscard]] bool error_in_body() const noexcept { return error_in_body_; }
  /// True once some byte of a response has been seen.
  [[nodiscard]] bool started() const noexcept { return started_; }
  /// A 100 Continue was among the interim responses skipped so far: the
  /// server takes the body of a request sent with `Expect: 100-continue`.
  [[nodiscard]] bool continued() const noexcept { return continued_; }
  [[nodiscard]] std::uint64_t body_bytes_total() const noexcept { return body_total_; }

 private:
  struct Callbacks;
  void fail(std::string why, bool in_body);
  /// Feeds `piece` to llhttp. True if it took all of it; false if it
  /// stopped, at the message's end (`used` bytes taken) or failing.
  bool execute(std::string_view piece, std::size_t& used);
  /// An empty head, keeping the header list's room.
  void reset_head();

  bool head_request_ = false;
  bool started_ = false;
  bool error_in_body_ = false;
  bool continued_ = false;
  std::size_t line_size_ = 0;  // of the status line
  std::uint64_t body_total_ = 0;
  // What is read and dropped is bounded too: a server could send it without
  // end, costing CPU until the total timeout.
  std::size_t interim_ = 0;          // 1xx responses skipped before this one
  Headers trailers_;
  std::size_t trailer_bytes_ = 0;    // of the trailer section, names and values
  std::size_t extension_bytes_ = 0;  // of the current chunk's extensions
};

/// At most this many interim (1xx) responses before the final one (Go's limit).
inline constexpr std::size_t max_interim_responses = 5;

struct RequestHead {
  std::string method;
  std::string target;
  int version_minor = 1;
  Headers headers;
};

/// A request head's line endings, checked byte by byte as reads bring them
/// in: every line ends in CRLF (no bare CR or LF) and none starts with
/// whitespace (obs-fold). llhttp 8.1.0 lets these through in places; see
/// parser.cpp for the fixes of later releases this stands in for.
class HeadLines {
 public:
  enum class Fault { none, bare_cr, bare_lf, obs_fold };
  /// Scans `data` up to the head's end (the empty line) or the first fault;
  /// returns the bytes scanned. After the end, scans nothing.
  std::size_t scan(std::string_view data) noexcept;
  [[nodiscard]] Fault fault() const noexcept { return fault_; }
  [[nodiscard]] static const char* describe(Fault fault) noexcept;
  void reset() noexcept { *this = HeadLines{}; }

 private:
  char prev_ = 0;
  bool line_empty_ = true;
  bool seen_line_ = false;  // the request line: empty lines before it are skipped
  bool done_ = false;
  Fault fault_ = Fault::none;
};

/// The server's side: parses requests (pipelined ones one at a time),
/// more strictly than llhttp 8.1.0 alone: see parser.cpp.
class RequestParser : public MessageParser<RequestHead> {
 public:
  explicit RequestParser(ParserLimits limits = {});

  /// Prepares for the next request on the connection.
  void start();
  /// Parses `data`; stops at the end of one request. Returns the bytes used.
  std::size_t feed(std::string_view data);
  /// The status that answers the refusal: 413 for a body over
  /// limits.max_body_size (declared or grown to), 414 for a request target
  /// over the line limit, 431 for a header line or count over its limit,
  /// else 400.
  [[nodiscard]] int error_status() const noexcept { return error_status_; }

 private:
  struct Callbacks;
  HeadLines lines_;
  bool chunk_ended_ = false;  // llhttp paused at a chunk's end, for its CRLF to be checked
  int error_status_ = 400;
};

}  // namespace coring::http::detail
