// ClientSession: a request built from its options (URL, headers, body, auth,
// proxy), cookies, and redirects followed; the backend sends each hop.
#include <charconv>
#include <cstdlib>

#include "coring/async_with.hpp"
#include "coring/extend/unreleased.hpp"
#include "coring/http/client.hpp"
#include "header_cache.hpp"
#include "headers_access.hpp"
#include "decoding_body.hpp"
#include "time_limit.hpp"
#include "native_backend.hpp"
#include "proxy.hpp"
#include "response_state.hpp"

namespace coring::http {

struct ClientSession::Impl {
  SessionOptions options;
  std::optional<URL> base_url;
  std::optional<detail::Proxy> proxy;  // options.proxy, parsed once
  std::optional<detail::EnvironmentProxies> environment;  // with trust_env and no options.proxy
  /// The last URL text requested, parsed: a loop of requests to one URL
  /// parses it once (yarl caches its parsing too).
  std::string last_url_text;
  URL last_url;
  std::shared_ptr<Backend> backend;
  CookieJar jar;
  bool closed = false;

  Task<ClientResponse> send_with_cookies(const PreparedRequest& r);
  void choose_proxy(PreparedRequest& r, const RequestOptions& options) const;
  Task<ClientResponse> follow(PreparedRequest& r, const RequestOptions& options);
};

ClientSession::ClientSession(SessionOptions options)
    : ClientSession(options, std::make_shared<detail::NativeBackend>(options.connector)) {}

ClientSession::ClientSession(SessionOptions options, std::shared_ptr<Backend> backend)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  if (impl_->options.base_url) impl_->base_url = URL::parse(*impl_->options.base_url);
  if (impl_->options.proxy) {
    impl_->proxy = detail::parse_proxy(*impl_->options.proxy, impl_->options.proxy_auth);
  } else if (impl_->options.trust_env) {
    impl_->environment = detail::EnvironmentProxies::read([](const char* name) -> std::optional<std::string> {
      const char* value = std::getenv(name);
      if (value == nullptr) return std::nullopt;
      return std::string(value);
    });
  }
  impl_->backend = std::move(backend);
}

ClientSession::ClientSession(ClientSession&&) noexcept = default;

ClientSession::~ClientSession() {
  if (impl_ && !impl_->closed) coring::extend::report_unreleased("ClientSession (use async_with or co_await close())");
}

bool ClientSession::closed() const noexcept { return impl_->closed; }
const SessionOptions& ClientSession::session_options() const noexcept { return impl_->options; }
CookieJar& ClientSession::cookie_jar() noexcept { return impl_->jar; }

/// One hop: the jar's cookies for this URL join the request, and the
/// response's Set-Cookie fields go into the jar.
Task<ClientResponse> ClientSession::Impl::send_with_cookies(const PreparedRequest& r) {
  Impl& s = *this;
  if (!s.options.use_cookies) co_return co_await s.backend->send(r);
  // An empty jar, or no Set-Cookie: the jar's clock is not read.
  const std::string cookies = s.jar.size() == 0 ? std::string() : s.jar.header_for(r.url);
  PreparedRequest hop;
  const PreparedRequest* request = &r;
  if (!cookies.empty()) {
    hop = r;
    if (auto given = hop.headers.get("Cookie")) {
      hop.headers.set("Cookie", std::string(*given) + "; " + cookies);
    } else {
      hop.headers.add("Cookie", cookies);
    }
    request = &hop;
  }
  ClientResponse response = co_await s.backend->send(*request);
  if (response.headers().get("Set-Cookie")) s.jar.update(response.headers(), r.url);
  co_return response;
}

namespace {
/// Turns a request's auth, or its URL's user:password, or the session's
/// auth, into its Authorization header, and takes the credentials out of
/// the URL (from there they could reach a message or a log).
void add_authorization(PreparedRequest& r, const std::optional<BasicAuth>& request_auth,
                       const std::optional<BasicAuth>& session_auth) {
  const bool in_url = r.url.has_credentials();
  const int given = int(request_auth.has_value()) + int(in_url) + int(r.headers.contains("Authorization"));
  if (given > 1)
    throw InvalidRequestError("request to " + r.url.to_string() +
                              " has more than one of an auth, credentials in the URL and an Authorization header");
  if (request_auth) {
    r.headers.add("Authorization", request_auth->encode());
  } else if (in_url) {
    r.headers.add("Authorization", BasicAuth{r.url.user(), r.url.password()}.encode());
    r.url = r.url.without_credentials();
  } else if (session_auth && given == 0) {
    r.headers.add("Authorization", session_auth->encode());
  }
}

/// The length of r's streamed body: options.body_length, or the request's
/// Content-Length header (curl's reading of `-H "Content-Length: N"` with an
/// upload), which must then agree.
std::optional<std::uint64_t> stream_length(const PreparedRequest& r, const RequestOptions& options) {
  const auto header = r.headers.get("Content-Length");
  if (!r.body_stream) {
    if (options.body_length)
      throw InvalidRequestError("request to " + r.url.to_string() + " has a body_length but no body_stream");
    return std::nullopt;  // any other body's length is its size (the header is ignored)
  }
  if (!header) return options.body_length;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(header->data(), header->data() + header->size(), value);
  if (header->empty() || error != std::errc() || end != header->data() + header->size())
    throw InvalidRequestError("request to " + r.url.to_string() + " has a Content-Length header \"" +
                              std::string(*header) + "\" that is not a length in bytes");
  if (options.body_length && *options.body_length != value)
    throw InvalidRequestError("request to " + r.url.to_string() + " has a body_length of " +
                              std::to_string(*options.body_length) + " and a Content-Length header of " +
                              std::to_string(value));
  return value;
}
}  // namespace

/// The proxy for `r`, if any: the request's own, the session's, or the
/// environment's for r.url (chosen again at each redirect: another scheme
/// or host, another answer).
void ClientSession::Impl::choose_proxy(PreparedRequest& r, const RequestOptions& options) const {
  const Impl& s = *this;
  if (options.proxy) {
    detail::Proxy proxy = detail::parse_proxy(*options.proxy, options.proxy_auth);
    r.proxy = std::move(proxy.url);
    r.proxy_authorization = std::move(proxy.authorization);
    return;
  }
  const detail::Proxy* proxy = s.proxy ? &*s.proxy : s.environment ? s.environment->for_url(r.url) : nullptr;
  if (proxy == nullptr) {
    r.proxy.reset();
    r.proxy_authorization.clear();
    return;
  }
  r.proxy = proxy->url;
  r.proxy_authorization = options.proxy_auth ? options.proxy_auth->encode() : proxy->authorization;  // the request's wins
}

/// Sends `r`, following redirects as `options` allow. Both by reference:
/// they live in request()'s frame, which awaits this at once (no move of a
/// request per hop).
Task<ClientResponse> ClientSession::Impl::follow(PreparedRequest& r, const RequestOptions& options) {
  Impl& s = *this;
  const bool decode = s.options.auto_decompress;
  std::vector<ClientResponse> history;
  constexpr std::size_t max_redirect_body = 4096;
  for (std::size_t redirects = 0;; ++redirects) {
    ClientResponse response = co_await s.send_with_cookies(r);
    const int status = response.status();
    const auto location = response.headers().get("Location");
    const bool redirect = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    if (!options.allow_redirects || !redirect || !location) {
      detail::ResponseAccess::set_history(response, std::move(history));
      detail::ResponseAccess::limit_read(response, s.options.max_read_size);
      if (options.raise_for_status.value_or(s.options.raise_for_status)) response.raise_for_status();
      if (decode) {
        if (auto encoding = response.headers().get("Content-Encoding"))
          detail::ResponseAccess::decode_body(response, [&](std::unique_ptr<BodySource> raw) {
            return detail::decoding_body(std::move(raw), *encoding, response.url(), s.options.max_body_size);
          });
      }
      detail::recycle_headers(std::move(r.headers));  // for the next request's
      co_return response;
    }
    if (redirects == options.max_redirects)
      throw TooManyRedirects("more than " + std::to_string(options.max_redirects) + " redirects, the last from " +
                                 r.url.to_string() + " to " + std::string(*location),
                             status);
    // Credentials in a Location are not the user's to send: dropped.
    const URL next = r.url.join(*location).without_credentials();
    const bool to_get = (status == 303 && r.method != "HEAD") || ((status == 301 || status == 302) && r.method == "POST");
    // A streamed body has been consumed: the next hop could not carry it.
    if (r.body_stream && !to_get)
      throw ClientResponseError("cannot follow the " + std::to_string(status) + " redirect from " + r.url.to_string() +
                                    " to " + next.to_string() +
                                    ": the request body was streamed and cannot be sent again"
                                    " (with allow_redirects = false the response is returned)",
                                status);
    // A redirect's body is read so that its connection can be reused, but
    // only so far: a server may send one without end. Past that the
    // connection is dropped (as Go's client does, at 2 KiB).
    std::size_t drained = 0;
    while (!response.content.at_eof() && drained < max_redirect_body)
      drained += (co_await response.content.read_chunk()).size();
    response.release();
    if (to_get) {
      r.method = "GET";
      r.body.clear();
      r.body_stream = nullptr;
      r.body_length.reset();
      r.headers.remove("Content-Type");
    }
    // Credentials are for the origin they were given to; a proxy's too, as
    // urllib3, undici and curl drop them (the next hop may take another proxy).
    if (next.origin() != r.url.origin()) {
      r.headers.remove("Authorization");
      r.headers.remove("Cookie");
      r.headers.remove("Proxy-Authorization");
    }
    emit(r.traces, &TraceConfig::on_request_redirect, r.url, response);
    r.url = next;
    if (s.environment && !options.proxy) s.choose_proxy(r, options);
    history.push_back(std::move(response));
  }
}

Task<> ClientSession::close() {
  if (impl_->closed) co_return;
  impl_->closed = true;
  co_await impl_->backend->close();
}

Task<ClientResponse> ClientSession::request(std::string method, RequestURL target, RequestOptions options) {
  Impl& s = *impl_;
  if (s.closed)
    throw ClientError("the session is closed; cannot request " +
                      (target.url_ ? target.url_->to_string() : mask_credentials(target.text_)));
  // A method with a space, CR or LF would let it inject into the request line.
  if (!is_token(method)) throw InvalidRequestError("request method \"" + method + "\" is not a valid token");
  PreparedRequest r;
  r.started = detail::Clock::now();  // not the loop's time: see loop_now
  r.method = std::move(method);
  const std::string& url_text = target.text_;
  if (target.url_) {
    r.url = std::move(*target.url_);
  } else if (s.base_url) {
    r.url = s.base_url->join(url_text);
  } else if (!s.last_url_text.empty() && url_text == s.last_url_text) {
    r.url = s.last_url;
  } else {
    r.url = URL::parse(url_text);
    s.last_url_text.clear();  // first: a failure below must not pair the old text with the new URL
    s.last_url = r.url;
    s.last_url_text = url_text;
  }
  if (!options.params.empty()) r.url = r.url.with_query(options.params);
  r.timeout = options.timeout.value_or(s.options.timeout);
  r.max_body_size = s.options.max_body_size;
  s.choose_proxy(r, options);
  r.traces = s.options.trace_configs.empty() ? nullptr : &s.options.trace_configs;
  r.headers = detail::take_headers();
  // Both lists were checked as they were filled (Headers::add, or the parser's checks).
  for (const auto& [name, value] : s.options.headers)
    if (!options.headers.contains(name)) detail::HeadersAccess::add_unchecked(r.headers, name, value);
  for (const auto& [name, value] : options.headers) detail::HeadersAccess::add_unchecked(r.headers, name, value);
  add_authorization(r, options.auth, s.options.auth);
  const bool decode = s.options.auto_decompress;
  // Literal fields below: nothing to check.
  if (decode && !r.headers.contains("Accept-Encoding"))
    detail::HeadersAccess::add_unchecked(r.headers, "Accept-Encoding", detail::accepted_encodings);
  // aiohttp refuses data= with json= too: silently sending one of two
  // bodies would hide a mistake.
  const int bodies = int(options.body.has_value()) + int(options.form.has_value()) + int(options.json.has_value()) +
                     int(options.multipart.has_value()) +
                     int(bool(options.body_stream));
  if (bodies > 1)
    throw InvalidRequestError("request to " + r.url.to_string() +
                              " has more than one of body, form, json, multipart and body_stream");
  if (options.multipart) {
    if (options.headers.contains("Content-Type"))
      throw InvalidRequestError("request to " + r.url.to_string() +
                                " has a multipart body and a Content-Type: the multipart one carries its boundary");
    r.headers.remove("Content-Type");  // the session's default, if any: this body's type is its own
    const std::string boundary = FormData::random_boundary();
    r.body = options.multipart->encode(boundary);
    r.headers.add("Content-Type", "multipart/form-data; boundary=" + boundary);
  } else if (options.form) {
    r.body = encode_form(*options.form);
    if (!r.headers.contains("Content-Type"))
      detail::HeadersAccess::add_unchecked(r.headers, "Content-Type", "application/x-www-form-urlencoded");
  } else if (options.json) {
    r.body = std::move(*options.json);
    if (!r.headers.contains("Content-Type"))
      detail::HeadersAccess::add_unchecked(r.headers, "Content-Type", "application/json");
  } else if (options.body) {
    r.body = std::move(*options.body);
  } else if (options.body_stream) {
    r.body_stream = std::move(options.body_stream);
  }
  r.body_length = stream_length(r, options);
  // The backend writes the Expect field itself: it leaves it out of a
  // request without a body, and of the retry after a 417.
  r.expect100 = options.expect100;
  if (const auto expect = r.headers.get("Expect"); expect && iequals(*expect, "100-continue")) {
    r.expect100 = true;
    r.headers.remove("Expect");
  }
  r.expect100_timeout = options.expect100_timeout;
  emit(r.traces, &TraceConfig::on_request_start, r.method, r.url);
  // follow() changes the request at each redirect; the trace hooks, if any,
  // keep a copy of what they report (no copy, no allocation, without hooks).
  const std::vector<TraceConfig>* traces = r.traces;
  std::string traced_method;
  URL traced_url;
  if (traces != nullptr) {
    traced_method = r.method;
    traced_url = r.url;
  }
  std::exception_ptr failure;
  try {
    ClientResponse response = co_await s.follow(r, options);
    emit(traces, &TraceConfig::on_request_end, traced_method, traced_url, response);
    co_return response;
  } catch (...) {
    failure = std::current_exception();
  }
  emit(traces, &TraceConfig::on_request_exception, traced_method, traced_url, failure);
  std::rethrow_exception(failure);
}


Task<ClientResponse> ClientSession::get(RequestURL url, RequestOptions o) { return request("GET", std::move(url), std::move(o)); }
Task<ClientResponse> ClientSession::post(RequestURL url, RequestOptions o) { return request("POST", std::move(url), std::move(o)); }
Task<ClientResponse> ClientSession::put(RequestURL url, RequestOptions o) { return request("PUT", std::move(url), std::move(o)); }
Task<ClientResponse> ClientSession::patch(RequestURL url, RequestOptions o) { return request("PATCH", std::move(url), std::move(o)); }
Task<ClientResponse> ClientSession::delete_(RequestURL url, RequestOptions o) { return request("DELETE", std::move(url), std::move(o)); }
Task<ClientResponse> ClientSession::head(RequestURL url, RequestOptions o) { return request("HEAD", std::move(url), std::move(o)); }
Task<ClientResponse> ClientSession::options(RequestURL url, RequestOptions o) { return request("OPTIONS", std::move(url), std::move(o)); }

}  // namespace coring::http
