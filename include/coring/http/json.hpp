#pragma once
// JSON for the HTTP client, with nlohmann::json: aiohttp's `await resp.json()`
// and `json=`. Opt-in: the one coring header that includes <nlohmann/json.hpp>.
//
//     RequestOptions o{.json = nlohmann::json{{"name", "coring"}}.dump()};
//     auto r = co_await session.post(url, std::move(o));
//     nlohmann::json reply = co_await http::json(r);
//
// A request's JSON body is the value's text, in RequestOptions::json: dump()
// is the one way to get it (it throws nlohmann::json::type_error on a string
// that is not UTF-8).
#include <string>

#include <nlohmann/json.hpp>

#include "coring/http/response.hpp"
#include "coring/task.hpp"

namespace coring::http {

struct JsonOptions {
  /// The media type the response's Content-Type must have, parameters aside
  /// (aiohttp's content_type=). "application/json" also admits the +json
  /// types (application/problem+json). Empty: no check.
  std::string content_type = "application/json";
};

/// Reads the whole body (kept: read() returns it again) and parses it.
/// A body of nothing but whitespace is null (aiohttp's None). Throws
/// ContentTypeError naming the URL and the type found, ClientPayloadError
/// naming the URL and the parse error if the body is not JSON, and what
/// read() throws. Call it qualified, `http::json(r)`: the common
/// `using json = nlohmann::json;` hides the unqualified name.
Task<nlohmann::json> json(ClientResponse& response, JsonOptions options);
/// With the default JsonOptions. (An overload, not a default argument: GCC 12
/// destroys an aggregate default argument twice inside a co_await.)
Task<nlohmann::json> json(ClientResponse& response);

}  // namespace coring::http
