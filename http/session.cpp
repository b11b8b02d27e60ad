#include "coring/async_with.hpp"
#include "coring/http/client.hpp"
#include "native_backend.hpp"

namespace coring::http {

struct ClientSession::Impl {
  SessionOptions options;
  std::optional<URL> base_url;
  std::unique_ptr<Backend> backend;
  bool closed = false;
};

ClientSession::ClientSession(SessionOptions options)
    : ClientSession(options, std::make_unique<detail::NativeBackend>(options.connector)) {}

ClientSession::ClientSession(SessionOptions options, std::unique_ptr<Backend> backend)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  if (impl_->options.base_url) impl_->base_url = URL::parse(*impl_->options.base_url);
  impl_->backend = std::move(backend);
}

ClientSession::ClientSession(ClientSession&&) noexcept = default;

ClientSession::~ClientSession() {
  if (impl_ && !impl_->closed) coring::detail::report_unreleased("ClientSession (use async_with or co_await close())");
}

bool ClientSession::closed() const noexcept { return impl_->closed; }
const SessionOptions& ClientSession::settings() const noexcept { return impl_->options; }

Task<> ClientSession::close() {
  if (impl_->closed) co_return;
  impl_->closed = true;
  co_await impl_->backend->close();
}

Task<ClientResponse> ClientSession::request(std::string method, std::string_view url_text, RequestOptions options) {
  Impl& s = *impl_;
  if (s.closed) throw ClientError("the session is closed; cannot request " + std::string(url_text));
  PreparedRequest r;
  r.started = std::chrono::steady_clock::now();
  r.method = std::move(method);
  r.url = (s.base_url ? s.base_url->join(url_text) : URL::parse(url_text)).with_query(options.params);
  r.timeout = options.timeout.value_or(s.options.timeout);
  r.max_body_size = s.options.max_body_size;
  for (const auto& [name, value] : s.options.headers)
    if (!options.headers.contains(name)) r.headers.add(name, value);
  for (const auto& [name, value] : options.headers) r.headers.add(name, value);
  if (options.form) {
    r.body = encode_form(*options.form);
    if (!r.headers.contains("Content-Type")) r.headers.add("Content-Type", "application/x-www-form-urlencoded");
  } else if (options.json) {
    r.body = std::move(*options.json);
    if (!r.headers.contains("Content-Type")) r.headers.add("Content-Type", "application/json");
  } else if (options.body) {
    r.body = std::move(*options.body);
  }
  co_return co_await s.backend->send(r);
}

Task<ClientResponse> ClientSession::get(std::string_view url, RequestOptions o) { return request("GET", url, std::move(o)); }
Task<ClientResponse> ClientSession::post(std::string_view url, RequestOptions o) { return request("POST", url, std::move(o)); }
Task<ClientResponse> ClientSession::put(std::string_view url, RequestOptions o) { return request("PUT", url, std::move(o)); }
Task<ClientResponse> ClientSession::patch(std::string_view url, RequestOptions o) { return request("PATCH", url, std::move(o)); }
Task<ClientResponse> ClientSession::delete_(std::string_view url, RequestOptions o) { return request("DELETE", url, std::move(o)); }
Task<ClientResponse> ClientSession::head(std::string_view url, RequestOptions o) { return request("HEAD", url, std::move(o)); }
Task<ClientResponse> ClientSession::options(std::string_view url, RequestOptions o) { return request("OPTIONS", url, std::move(o)); }

}  // namespace coring::http
