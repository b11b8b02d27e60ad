#pragma once
// coring::http::TraceConfig: hooks into a request's life, as aiohttp's
// TraceConfig. The callbacks are plain functions, called synchronously on the
// loop's thread at each event (aiohttp's are coroutines); keep them short.
#include <exception>
#include <functional>
#include <string>

#include "coring/http/url.hpp"

namespace coring::http {

class ClientResponse;

struct TraceConfig {
  std::function<void(const std::string& method, const URL& url)> on_request_start;
  std::function<void(const std::string& method, const URL& url, const ClientResponse& response)> on_request_end;
  std::function<void(const std::string& method, const URL& url, std::exception_ptr error)> on_request_exception;
  /// A redirect was followed from `from`; `response` is the 3xx.
  std::function<void(const URL& from, const ClientResponse& response)> on_request_redirect;
  /// The pool was full: the request waits (start) and got a slot (end).
  std::function<void(const URL& url)> on_connection_queued_start;
  std::function<void(const URL& url)> on_connection_queued_end;
  std::function<void(const URL& url)> on_connection_create_start;
  std::function<void(const URL& url)> on_connection_create_end;
  std::function<void(const URL& url)> on_connection_reuseconn;
  std::function<void(const std::string& host)> on_dns_resolvehost_start;
  std::function<void(const std::string& host)> on_dns_resolvehost_end;
  std::function<void(const std::string& host)> on_dns_cache_hit;
  std::function<void(const std::string& host)> on_dns_cache_miss;
};

/// Calls `hook` of every config that has it.
template <class Hook, class... Args>
void emit(const std::vector<TraceConfig>* configs, Hook TraceConfig::*hook, const Args&... args) {
  if (configs == nullptr) return;
  for (const TraceConfig& c : *configs)
    if (c.*hook) (c.*hook)(args...);
}

}  // namespace coring::http
