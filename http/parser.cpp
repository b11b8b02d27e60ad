// ResponseParser and RequestParser over llhttp (the one file that includes
// it), with the checks of later llhttp releases a server needs.
#include "parser.hpp"
#include "header_cache.hpp"

#include <llhttp.h>

namespace coring::http::detail {

std::string FieldReader::describe(Limit limit, const ParserLimits& limits) {
  if (limit == Limit::too_many_headers) return "more than " + std::to_string(limits.max_headers) + " headers";
  return "header line longer than " + std::to_string(limits.max_line_size) + " bytes";
}

template <class Head>
struct MessageParser<Head>::State {
  llhttp_t parser{};
};

template <class Head>
MessageParser<Head>::MessageParser(ParserLimits limits) : state_(std::make_unique<State>()), limits_(limits) {}

template <class Head>
MessageParser<Head>::~MessageParser() = default;

template class MessageParser<ResponseHead>;
template class MessageParser<RequestHead>;

namespace {

/// llhttp's table of callbacks for a parser's `Callbacks`: each hook it
/// defines, under llhttp's name for it (`on_chunk_extension` takes both
/// pieces of an extension); the others stay unset. Built at compile time,
/// one table per parser type: llhttp calls each hook straight through it.
template <class C>
constexpr llhttp_settings_t settings_for() {
  llhttp_settings_t s{};  // all unset, as llhttp_settings_init leaves them
  if constexpr (requires { &C::on_message_begin; }) s.on_message_begin = &C::on_message_begin;
  if constexpr (requires { &C::on_url; }) s.on_url = &C::on_url;
  if constexpr (requires { &C::on_status; }) s.on_status = &C::on_status;
  if constexpr (requires { &C::on_header_field; }) s.on_header_field = &C::on_header_field;
  if constexpr (requires { &C::on_header_value; }) s.on_header_value = &C::on_header_value;
  if constexpr (requires { &C::on_header_value_complete; })
    s.on_header_value_complete = &C::on_header_value_complete;
  if constexpr (requires { &C::on_headers_complete; }) s.on_headers_complete = &C::on_headers_complete;
  if constexpr (requires { &C::on_body; }) s.on_body = &C::on_body;
  if constexpr (requires { &C::on_chunk_header; }) s.on_chunk_header = &C::on_chunk_header;
  if constexpr (requires { &C::on_chunk_extension; })
    s.on_chunk_extension_name = s.on_chunk_extension_value = &C::on_chunk_extension;
  if constexpr (requires { &C::on_chunk_complete; }) s.on_chunk_complete = &C::on_chunk_complete;
  if constexpr (requires { &C::on_message_complete; }) s.on_message_complete = &C::on_message_complete;
  return s;
}

/// Readies `parser` for a new message of `type`, calling the hooks of
/// `Callbacks` with `owner` as the parser's data.
template <class Callbacks>
void start_llhttp(llhttp_t& parser, llhttp_type_t type, void* owner) {
  static constexpr llhttp_settings_t settings = settings_for<Callbacks>();
  llhttp_init(&parser, type, &settings);
  parser.data = owner;
}

}  // namespace

// llhttp calls these with the parser; `data` points back to our object.
// Returning -1 stops parsing with HPE_USER; HPE_PAUSED stops after the call.
struct ResponseParser::Callbacks {
  static ResponseParser& self(llhttp_t* p) { return *static_cast<ResponseParser*>(p->data); }

  static int on_message_begin(llhttp_t* p) {
    auto& s = self(p);
    s.started_ = true;
    s.reset_head();
    s.line_size_ = 0;
    s.fields_.reset();
    return 0;
  }
  static int on_status(llhttp_t* p, const char* at, std::size_t length) {
    auto& s = self(p);
    s.line_size_ += length;
    if (s.line_size_ > s.limits_.max_line_size) {
      s.fail("status line longer than " + std::to_string(s.limits_.max_line_size) + " bytes", false);
      return -1;
    }
    s.head_.reason.append(at, length);
    return 0;
  }
  // Trailers (after a chunked body) are not part of the head: kept apart,
  // under the limits of a head (fields, and bytes in all).
  static int on_header_field(llhttp_t* p, const char* at, std::size_t length) {
    auto& s = self(p);
    if (s.head_complete_) return trailer_piece(s, {at, length}, true);
    const FieldReader::Limit limit = s.fields_.name_piece(s.head_.headers, {at, length}, s.limits_);
    return limit == FieldReader::Limit::none ? 0 : refuse(s, limit);
  }
  static int on_header_value(llhttp_t* p, const char* at, std::size_t length) {
    auto& s = self(p);
    if (s.head_complete_) return trailer_piece(s, {at, length}, false);
    const FieldReader::Limit limit = s.fields_.value_piece(s.head_.headers, {at, length}, s.limits_);
    return limit == FieldReader::Limit::none ? 0 : refuse(s, limit);
  }
  static int on_header_value_complete(llhttp_t* p) {
    self(p).fields_.value_complete();
    return 0;
  }
  /// A piece of a trailer field's name or value. The section's size is
  /// checked first: it bounds every line in it too, so the one limit
  /// FieldReader can still meet is the count of fields.
  static int trailer_piece(ResponseParser& s, std::string_view piece, bool name) {
    s.trailer_bytes_ += piece.size();
    if (s.trailer_bytes_ > s.limits_.max_line_size) {
      s.fail("trailer section longer than " + std::to_string(s.limits_.max_line_size) + " bytes", true);
      return -1;
    }
    const FieldReader::Limit limit = name ? s.fields_.name_piece(s.trailers_, piece, s.limits_)
                                          : s.fields_.value_piece(s.trailers_, piece, s.limits_);
    if (limit == FieldReader::Limit::none) return 0;
    s.fail("more than " + std::to_string(s.limits_.max_headers) + " trailer fields", true);
    return -1;
  }
  static int on_chunk_extension(llhttp_t* p, const char*, std::size_t length) {
    auto& s = self(p);
    s.extension_bytes_ += length;
    if (s.extension_bytes_ <= s.limits_.max_line_size) return 0;
    s.fail("chunk extensions longer than " + std::to_string(s.limits_.max_line_size) + " bytes", true);
    return -1;
  }
  static int on_chunk_header(llhttp_t* p) {
    self(p).extension_bytes_ = 0;
    return 0;
  }
  [[gnu::cold, gnu::noinline]] static int refuse(ResponseParser& s, FieldReader::Limit limit) {
    s.fail(FieldReader::describe(limit, s.limits_), false);
    return -1;
  }
  static int on_headers_complete(llhttp_t* p) {
    auto& s = self(p);
    if (s.fields_.in_field()) {
      s.fail("header without a value", false);
      return -1;
    }
    s.head_.status = static_cast<int>(p->status_code);
    s.head_.version_major = p->http_major;
    s.head_.version_minor = p->http_minor;
    if (s.head_.status == 101) {
      s.fail("the server switched protocols (101), which this client does not support", false);
      return -1;
    }
    // After HEAD, and in a 1xx, 204 or 304, there is no body whatever the
    // headers say (RFC 9112 6.3; a 304 may carry the Content-Length of the
    // representation). llhttp 8 skips it only when we return 1.
    if (s.head_.status >= 100 && s.head_.status < 200) {  // interim: skipped at its end
      s.continued_ = s.continued_ || s.head_.status == 100;
      if (++s.interim_ <= max_interim_responses) return 1;
      s.fail("more than " + std::to_string(max_interim_responses) + " interim (1xx) responses", false);
      return -1;
    }
    s.head_complete_ = true;
    // Known from the head already (a client deciding how to pipeline needs
    // it then); set again, finally, at the message's end.
    s.keep_alive_ = llhttp_should_keep_alive(p) != 0;
    if (s.head_request_ || s.head_.status == 204 || s.head_.status == 304) return 1;
    return 0;
  }
  static int on_body(llhttp_t* p, const char* at, std::size_t length) {
    auto& s = self(p);
    s.body_total_ += length;
    if (s.limits_.max_body_size != 0 && s.body_total_ > s.limits_.max_body_size) {
      s.fail("body larger than the limit of " + std::to_string(s.limits_.max_body_size) + " bytes", true);
      return -1;
    }
    if (!s.limits_.discard_body) s.body_.append(at, length);
    return 0;
  }
  static int on_message_complete(llhttp_t* p) {
    auto& s = self(p);
    if (!s.head_complete_) return 0;  // the end of an interim 1xx: the real response follows
    s.message_complete_ = true;
    s.keep_alive_ = llhttp_should_keep_alive(p) != 0;
    // Stop here: any byte after this response is not part of it.
    return HPE_PAUSED;
  }
};

ResponseParser::ResponseParser(ParserLimits limits) : MessageParser(limits) { start(false); }

void ResponseParser::start(bool head_request) {
  start_llhttp<Callbacks>(state_->parser, HTTP_RESPONSE, this);
  head_request_ = head_request;
  started_ = head_complete_ = message_complete_ = keep_alive_ = error_in_body_ = continued_ = false;
  body_.clear();
  body_total_ = 0;
  last_byte_ = 0;
  trailers_.clear();
  interim_ = trailer_bytes_ = extension_bytes_ = 0;
  error_.clear();
  // The head is reset where the next message begins (on_message_begin).
}

void ResponseParser::reset_head() {
  head_.status = 0;
  head_.reason.clear();
  head_.version_major = head_.version_minor = 1;
  head_.headers.clear();
  // The list moves out with each response a client returns: then a
  // recycled one, not a new one grown field by field.
  if (head_.headers.capacity() == 0) head_.headers = take_headers();
}

void ResponseParser::fail(std::string why, bool in_body) {
  if (error_.empty()) {
    error_ = std::move(why);
    error_in_body_ = in_body;
  }
}

// llhttp 8.1.0 refuses a header line that ends in a bare LF
// (HPE_INVALID_HEADER_TOKEN), and none of its lenient flags lets one through
// (llhttp 9 has llhttp_set_lenient_optional_cr_before_lf for it; 8.1.0's
// llhttp_set_lenient_headers would instead let any byte into a value). RFC
// 9112 2.2 allows a recipient to take a bare LF for a line's end, and curl
// (its test 1417) and aiohttp do so in responses. So while a response's head
// is being read, a CR is fed to llhttp before each LF that came without one:
// llhttp sees the head the server meant. Only the head: once it is complete
// the bytes are the body's, and pass untouched. A CRLF cut in two by reads
// is told from a bare LF by the last byte of the previous feed. Requests
// stay strict: RequestParser refuses a bare LF.
std::size_t ResponseParser::feed(std::string_view data) {
  if (failed() || message_complete_ || data.empty()) return 0;
  std::size_t fed = 0;  // bytes of `data` handed to llhttp
  std::size_t used = 0;
  for (std::size_t from = 0; !head_complete_;) {
    const std::size_t lf = data.find('\n', from);
    if (lf == std::string_view::npos) break;
    from = lf + 1;
    if ((lf == 0 ? last_byte_ : data[lf - 1]) == '\r') continue;
    if (!execute(data.substr(fed, lf - fed), used)) return failed() ? 0 : fed + used;
    fed = lf;
    if (head_complete_) break;  // the head ended before this LF: it is the body's
    if (!execute("\r", used)) return failed() ? 0 : fed;
  }
  if (!execute(data.substr(fed), used)) return failed() ? 0 : fed + used;
  last_byte_ = data.back();
  return data.size();
}

bool ResponseParser::execute(std::string_view piece, std::size_t& used) {
  used = piece.size();
  if (piece.empty()) return true;
  llhttp_t* p = &state_->parser;
  const llhttp_errno_t rc = llhttp_execute(p, piece.data(), piece.size());
  if (rc == HPE_OK) return true;
  if (rc == HPE_PAUSED) {
    used = static_cast<std::size_t>(llhttp_get_error_pos(p) - piece.data());
    return false;
  }
  if (error_.empty()) fail(std::string(llhttp_errno_name(rc)) + ": " + llhttp_get_error_reason(p), head_complete_);
  used = 0;
  return false;
}

void ResponseParser::finish() {
  if (failed() || message_complete_) return;
  llhttp_t* p = &state_->parser;
  const llhttp_errno_t rc = llhttp_finish(p);
  if (message_complete_) return;
  if (!started_) {
    fail("the server closed the connection without sending a response", false);
  } else if (!head_complete_) {
    fail("the server closed the connection in the middle of the response head", false);
  } else if (rc != HPE_OK && rc != HPE_PAUSED) {
    fail("the server closed the connection before the end of the body (after " + std::to_string(body_total_) +
             " body bytes)",
         true);
  } else {
    fail("the server closed the connection before the end of the body", true);
  }
}

}  // namespace coring::http::detail

namespace coring::http::detail {

// Request smuggling: the server reads requests with llhttp 8.1.0 (Debian's
// sources), in its default loose mode. Of the smuggling fixes in later
// llhttp releases, these matter to a server, and are covered so:
//   - CL and TE together, a second Content-Length, a Transfer-Encoding whose
//     last coding is not chunked: 8.1.0 refuses them already (400).
//   - A CR not followed by LF ending a header line (CVE-2023-30589, llhttp
//     8.1.1: "X: \rxTransfer-Encoding: chunked" is two fields to 8.1.0) and a
//     line ended by a bare LF (8.1.0 takes one for the head's last line;
//     llhttp 9 refuses it unless allowed by a lenient flag): HeadLines
//     refuses both in the head.
//   - obs-fold, a header line starting with whitespace (CVE-2024-27982, llhttp
//     8.1.2 and 9.2.1: 8.1.0 folds " Content-Length: 5" into the previous
//     field, where a proxy may read a Content-Length): HeadLines refuses it,
//     as RFC 9112 5.2 allows a server to.
//   - Whitespace between a field name and its colon: 8.1.0 refuses it in
//     Content-Length and Transfer-Encoding only; on_header_field refuses it
//     in every name, as RFC 9112 5.1 requires (llhttp 9 does too).
//   - The CRLF after a chunk's data: 8.1.0 skips any two bytes there
//     (llhttp 9 checks them unless llhttp_set_lenient_optional_crlf_after_chunk):
//     on_chunk_complete pauses and feed() checks them.
//   - Transfer-Encoding in an HTTP/1.0 request: RFC 9112 6.1 says its framing
//     is faulty; refused in on_headers_complete.
// Not covered: an unbounded chunk extension (CVE-2024-22019, llhttp 9.1.3)
// costs reading time, not memory: extensions are not kept.

std::size_t HeadLines::scan(std::string_view data) noexcept {
  for (std::size_t i = 0; i < data.size() && !done_; ++i) {
    const char c = data[i];
    if (prev_ == '\r' && c != '\n') {
      fault_ = Fault::bare_cr;
    } else if (c == '\n') {
      if (prev_ != '\r') fault_ = Fault::bare_lf;
      done_ = line_empty_ && seen_line_;
      line_empty_ = true;
    } else if (c != '\r') {
      if (line_empty_ && seen_line_ && (c == ' ' || c == '\t')) fault_ = Fault::obs_fold;
      line_empty_ = false;
      seen_line_ = true;
    }
    if (fault_ != Fault::none) return i;
    prev_ = c;
  }
  return data.size();
}

const char* HeadLines::describe(Fault fault) noexcept {
  switch (fault) {
    case Fault::bare_cr: return "a CR not followed by LF in the request head";
    case Fault::bare_lf: return "a line of the request head ended by LF without CR";
    case Fault::obs_fold: return "a header line starting with whitespace (obs-fold)";
    case Fault::none: break;
  }
  return "no fault";
}

struct RequestParser::Callbacks {
  static RequestParser& self(llhttp_t* p) { return *static_cast<RequestParser*>(p->data); }
  static int on_url(llhttp_t* p, const char* at, std::size_t length) {
    auto& s = self(p);
    if (s.head_.target.size() + length > s.limits_.max_line_size)
      return refuse(s, 414, "request target longer than " + std::to_string(s.limits_.max_line_size) + " bytes");
    s.head_.target.append(at, length);
    return 0;
  }
  // Under the same limits as a response's fields; trailers dropped. llhttp
  // hands over the whitespace before a colon as part of the name.
  static int on_header_field(llhttp_t* p, const char* at, std::size_t length) {
    auto& s = self(p);
    if (s.head_complete_) return 0;
    const std::string_view piece(at, length);
    if (piece.find_first_of(" \t") != std::string_view::npos)
      return refuse(s, 400, "whitespace between a header name and its colon");
    const FieldReader::Limit limit = s.fields_.name_piece(s.head_.headers, piece, s.limits_);
    return limit == FieldReader::Limit::none ? 0 : refuse(s, 431, FieldReader::describe(limit, s.limits_));
  }
  static int on_header_value(llhttp_t* p, const char* at, std::size_t length) {
    auto& s = self(p);
    if (s.head_complete_) return 0;
    const FieldReader::Limit limit = s.fields_.value_piece(s.head_.headers, {at, length}, s.limits_);
    return limit == FieldReader::Limit::none ? 0 : refuse(s, 431, FieldReader::describe(limit, s.limits_));
  }
  static int on_header_value_complete(llhttp_t* p) {
    self(p).fields_.value_complete();
    return 0;
  }
  /// Stops llhttp (HPE_USER) with our own words for the cause.
  [[gnu::cold, gnu::noinline]] static int refuse(RequestParser& s, int status, std::string why) {
    s.error_status_ = status;
    s.error_ = std::move(why);
    return -1;
  }
  [[gnu::cold, gnu::noinline]] static int refuse_size(RequestParser& s, std::string what) {
    return refuse(s, 413, what + " larger than the limit of " + std::to_string(s.limits_.max_body_size) + " bytes");
  }
  static int on_headers_complete(llhttp_t* p) {
    auto& s = self(p);
    if (s.fields_.in_field()) return refuse(s, 400, "a header name without a value");
    if (p->http_major == 1 && p->http_minor == 0 && (p->flags & F_TRANSFER_ENCODING) != 0)
      return refuse(s, 400, "Transfer-Encoding in an HTTP/1.0 request");
    // Refused before a byte of the body is read.
    if (s.limits_.max_body_size != 0 && (p->flags & F_CONTENT_LENGTH) != 0 &&
        p->content_length > s.limits_.max_body_size)
      return refuse_size(s, "a declared body of " + std::to_string(p->content_length) + " bytes");
    s.head_complete_ = true;
    s.head_.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
    s.head_.version_minor = p->http_minor;
    return 0;
  }
  static int on_body(llhttp_t* p, const char* at, std::size_t length) {
    auto& s = self(p);
    if (s.limits_.max_body_size != 0 && s.body_.size() + length > s.limits_.max_body_size)
      return refuse_size(s, "a chunked body");
    s.body_.append(at, length);
    return 0;
  }
  // llhttp calls it after the two bytes that end a chunk's data (and after
  // the last chunk's trailers): feed() checks that they are a CRLF.
  static int on_chunk_complete(llhttp_t* p) {
    self(p).chunk_ended_ = true;
    return HPE_PAUSED;
  }
  static int on_message_complete(llhttp_t* p) {
    auto& s = self(p);
    s.message_complete_ = true;
    s.keep_alive_ = llhttp_should_keep_alive(p) != 0;
    return HPE_PAUSED;
  }
};

RequestParser::RequestParser(ParserLimits limits) : MessageParser(limits) { start(); }

void RequestParser::start() {
  start_llhttp<Callbacks>(state_->parser, HTTP_REQUEST, this);
  head_ = RequestHead{};
  body_.clear();
  fields_.reset();
  lines_.reset();
  head_complete_ = message_complete_ = keep_alive_ = chunk_ended_ = false;
  last_byte_ = 0;
  error_.clear();
  error_status_ = 400;
}

std::size_t RequestParser::feed(std::string_view data) {
  if (failed() || message_complete_ || data.empty()) return 0;
  // The bytes before a fault in the head's lines go to llhttp first, so that
  // its refusal of an earlier byte (a 431, say) is the one given.
  std::string_view piece = data.substr(0, lines_.scan(data));
  llhttp_t* p = &state_->parser;
  // After a pause at a chunk's end llhttp runs again even with nothing left:
  // the message's end may be due at the same byte.
  for (bool resumed = false; !piece.empty() || resumed;) {
    resumed = false;
    const llhttp_errno_t rc = llhttp_execute(p, piece.data(), piece.size());
    if (rc == HPE_OK) break;
    const char* stop = llhttp_get_error_pos(p);
    if (rc == HPE_PAUSED && chunk_ended_) {
      chunk_ended_ = false;
      // llhttp consumed a byte of this feed at least before pausing.
      const char first = stop - data.data() >= 2 ? stop[-2] : last_byte_;
      if (first != '\r' || stop[-1] != '\n') {
        Callbacks::refuse(*this, 400, "a chunk's data not followed by CRLF");
        return 0;
      }
      llhttp_resume(p);
      piece.remove_prefix(static_cast<std::size_t>(stop - piece.data()));
      resumed = true;
      continue;
    }
    if (rc == HPE_PAUSED) return static_cast<std::size_t>(stop - data.data());
    if (error_.empty()) error_ = std::string(llhttp_errno_name(rc)) + ": " + llhttp_get_error_reason(p);
    return 0;
  }
  if (lines_.fault() != HeadLines::Fault::none) {
    Callbacks::refuse(*this, 400, HeadLines::describe(lines_.fault()));
    return 0;
  }
  last_byte_ = data.back();
  return data.size();
}

}  // namespace coring::http::detail
