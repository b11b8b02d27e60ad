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
};

}  // namespace coring::http::detail
