// http::json: a response's body parsed as JSON, once its Content-Type is checked.
#include "coring/http/json.hpp"

#include "ascii.hpp"
#include "coring/http/errors.hpp"

namespace coring::http {

namespace {

using detail::to_lower;
using detail::trim;

/// aiohttp's rule: "application/json" admits application/json and any
/// application/...+json; another expected type must match as given.
bool is_expected(std::string_view media_type, std::string_view expected) {
  const std::string want = to_lower(expected);
  if (want == "application/json") {
    return media_type == "application/json" ||
           (media_type.starts_with("application/") && media_type.ends_with("+json"));
  }
  return media_type == want;
}

bool is_blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

}  // namespace

Task<nlohmann::json> json(ClientResponse& response, JsonOptions options) {
  // Read first, as aiohttp does: the connection goes back to the pool even
  // when the type is wrong, and read() still has the body for a message.
  const std::string body = co_await response.read();
  if (!options.content_type.empty()) {
    const auto given = response.headers().get("Content-Type");
    const std::string_view type = given.value_or(std::string_view());
    const std::string media_type = to_lower(trim(type.substr(0, type.find(';'))));
    if (!is_expected(media_type, options.content_type))
      throw ContentTypeError("cannot decode JSON from " + response.url().to_string() + ": Content-Type is " +
                                 (given ? "\"" + std::string(*given) + "\"" : std::string("missing")) + ", not " +
                                 options.content_type,
                             response.status());
  }
  if (is_blank(body)) co_return nullptr;
  try {
    co_return nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    throw ClientPayloadError("response body of " + response.url().to_string() + " is not valid JSON: " + e.what());
  }
}

Task<nlohmann::json> json(ClientResponse& response) { return json(response, JsonOptions()); }

}  // namespace coring::http
