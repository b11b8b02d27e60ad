#pragma once
// The way in to Headers::add_unchecked, for code whose fields are checked
// already: the parsers (llhttp checks names and values) and the session
// (copying lists that Headers::add checked as they were filled, and adding
// literal fields).
#include "coring/http/headers.hpp"

namespace coring::http::detail {

struct HeadersAccess {
  static void add_unchecked(Headers& headers, std::string_view name, std::string_view value) {
    headers.add_unchecked(name, value);
  }
  /// A field built from the pieces a parser gets (llhttp hands a field over
  /// in as many pieces as reads split it), copied once, straight into the list.
  static void start_field(Headers& headers) { headers.start_field(); }
  static void append_to_name(Headers& headers, std::string_view piece) { headers.append_to_last_field(piece, true); }
  static void append_to_value(Headers& headers, std::string_view piece) { headers.append_to_last_field(piece, false); }
};

}  // namespace coring::http::detail
