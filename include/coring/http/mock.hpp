#pragma once
// coring::http::MockBackend: canned responses for testing code that uses a
// ClientSession, in the manner of Python's aioresponses.
//
//     auto mock = std::make_shared<MockBackend>();
//     mock->add("GET", "http://api.test/user", {.status = 200, .body = R"({"id":1})"});
//     ClientSession session({}, mock);
//     ... code under test uses session ...
//     CHECK(mock->calls().size() == 1);
#include <chrono>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "coring/http/backend.hpp"

namespace coring::http {

class MockBackend final : public Backend {
 public:
  struct Reply {
    int status = 200;
    std::string body;
    Headers headers;
    /// Given by ClientResponse::trailers() once the body has been read to its end.
    Headers trailers;
    /// Raised instead of answering (e.g. a ClientConnectorError).
    std::exception_ptr error;
    /// Waits this long before answering; the request's timeouts apply.
    std::chrono::nanoseconds delay{0};
    std::string reason = "OK";
  };
  /// A request the session made, as the backend saw it.
  struct Call {
    std::string method;
    URL url;
    Headers headers;
    /// The body; a streamed one drained to its end.
    std::string body;
  };

  /// Registers a reply for `method` and the absolute `url` (query included).
  /// Several replies for one request are used in turn; the last one repeats.
  void add(std::string method, std::string_view url, Reply reply);
  /// Shorthand: raise `error` for that request.
  void add_error(std::string method, std::string_view url, std::exception_ptr error);

  [[nodiscard]] const std::vector<Call>& calls() const noexcept { return calls_; }
  [[nodiscard]] std::size_t call_count(std::string_view method, std::string_view url) const;

  /// An unregistered request raises ClientConnectionError naming it.
  Task<ClientResponse> send(const PreparedRequest& request) override;
  Task<> close() override;

 private:
  std::map<std::string, std::vector<Reply>> replies_;  // "METHOD url"
  std::map<std::string, std::size_t> used_;
  std::vector<Call> calls_;
};

}  // namespace coring::http
