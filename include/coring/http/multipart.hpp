#pragma once
// coring::http::FormData: a multipart/form-data body (aiohttp's FormData with
// files), for RequestOptions::multipart. Fields without files go as
// RequestOptions::form (application/x-www-form-urlencoded) instead.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coring::http {

class FormData {
 public:
  /// Adds a part. With a filename it is a file, sent with `content_type`
  /// (application/octet-stream if none); without, a plain field, with a
  /// Content-Type only if one is given. Names and filenames may hold any
  /// byte: '"', CR, LF (and NUL) go percent-encoded, as browsers send them.
  /// InvalidRequestError for a content type holding CR, LF or NUL.
  FormData& add_field(std::string name, std::string value, std::optional<std::string> filename = std::nullopt,
                      std::optional<std::string> content_type = std::nullopt);

  [[nodiscard]] bool empty() const noexcept { return parts_.empty(); }
  /// The body with parts between `boundary` lines (the session draws a
  /// random one per request: see random_boundary()). With no part it is the
  /// closing line alone, as aiohttp sends it; RFC 2046 asks for a part.
  [[nodiscard]] std::string encode(std::string_view boundary) const;
  /// 32 random hexadecimal digits: no value will hold them by chance.
  static std::string random_boundary();

 private:
  struct Part {
    std::string name, value;
    std::optional<std::string> filename, content_type;
  };
  std::vector<Part> parts_;
};

}  // namespace coring::http
