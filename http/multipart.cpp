// FormData: the multipart/form-data encoding and its random boundary.
#include "coring/http/multipart.hpp"

#include <cstdint>
#include <random>

#include "coring/http/errors.hpp"

namespace coring::http {

namespace {

/// A name or filename as a quoted string: '"', CR and LF percent-encoded
/// (the WHATWG form encoding; a backslash escape is not read by every server).
void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    if (c == '"') {
      out += "%22";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else if (c == '\0') {
      out += "%00";
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

FormData& FormData::add_field(std::string name, std::string value, std::optional<std::string> filename,
                              std::optional<std::string> content_type) {
  if (content_type && content_type->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
    throw InvalidRequestError("the content type of form field \"" + name + "\" holds CR, LF or NUL");
  if (filename && !content_type) content_type = "application/octet-stream";
  parts_.push_back({std::move(name), std::move(value), std::move(filename), std::move(content_type)});
  return *this;
}

std::string FormData::encode(std::string_view boundary) const {
  std::string out;
  for (const Part& part : parts_) {
    out += "--";
    out += boundary;
    out += "\r\nContent-Disposition: form-data; name=";
    append_quoted(out, part.name);
    if (part.filename) {
      out += "; filename=";
      append_quoted(out, *part.filename);
    }
    out += "\r\n";
    if (part.content_type) out += "Content-Type: " + *part.content_type + "\r\n";
    out += "\r\n";
    out += part.value;
    out += "\r\n";
  }
  out += "--";
  out += boundary;
  out += "--\r\n";
  return out;
}

std::string FormData::random_boundary() {
  static constexpr char digits[] = "0123456789abcdef";
  std::random_device source;  // the kernel's randomness: once per request, cheap enough
  std::string boundary;
  for (int word = 0; word < 4; ++word) {
    std::uint32_t bits = source();
    for (int i = 0; i < 8; ++i, bits >>= 4) boundary += digits[bits & 0xf];
  }
  return boundary;
}

}  // namespace coring::http
