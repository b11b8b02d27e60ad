// coring-fetch: a small curl over ClientSession. Fetches every URL given,
// concurrently, through one session.
//
//   coring-fetch http://127.0.0.1:8080/            body to stdout
//   coring-fetch -v -o page.html URL               status and headers on stderr
//   coring-fetch -c 10 URL1 URL2 ...               one line per URL: status, bytes, time
//
// Exit status: 0 when every request got a complete response (any status,
// as curl without -f); otherwise curl's codes: 2 a bad flag, 3 bad URL,
// 7 cannot connect (to the server or the proxy), 18 body cut short, 22 HTTP
// status >= 400 with -f, 23 cannot write -o, 26 cannot read a -F file,
// 28 timeout, 35 TLS handshake failed, 43 a request refused before sending
// (a bad header), 52 server sent nothing / malformed, 56 connection broke or
// CONNECT refused, 60 certificate not trusted, 77 CA/cert/key file unusable,
// 1 anything else.
#include <CLI/CLI.hpp>
#include <chrono>
#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

using namespace coring;
using namespace coring::http;

namespace {

struct Flags {
  std::vector<std::string> urls;
  std::string method;
  std::vector<std::string> headers;
  std::optional<std::string> data;
  double timeout = 300;
  std::optional<double> connect_timeout;  // curl's --connect-timeout
  std::optional<double> read_timeout;     // no byte for this long: a slow drip, ended
  std::size_t connections = 100;
  bool verbose = false;
  bool fail = false;
  std::string output;
  SSLOptions ssl;
  bool insecure = false;
  std::optional<std::string> proxy;
  std::optional<std::string> proxy_user;  // user:password
  std::vector<std::string> form_fields;     // -F, as given
  std::optional<FormData> multipart;        // made from them
};

/// The whole of a file, or nullopt if it cannot be read (a directory, an I/O error).
std::optional<std::string> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::string contents;
  char buffer[65536];
  while (file) {
    file.read(buffer, sizeof buffer);
    contents.append(buffer, static_cast<std::size_t>(file.gcount()));
  }
  if (file.bad() || !file.eof()) return std::nullopt;
  return contents;
}

/// curl's -F: "name=value" or "name=@file", either with ";type=TYPE".
/// Empty, with an error on stderr and curl's exit code in `failure`, if one
/// is malformed (2) or its file unreadable (26).
std::optional<FormData> form_of(const std::vector<std::string>& fields, int& failure) {
  FormData form;
  for (const std::string& field : fields) {
    const std::size_t equals = field.find('=');
    if (equals == std::string::npos || equals == 0) {
      std::fprintf(stderr, "coring-fetch: bad -F \"%s\" (expected name=value or name=@file)\n", field.c_str());
      failure = 2;
      return std::nullopt;
    }
    std::string value = field.substr(equals + 1);
    std::optional<std::string> type;
    if (const std::size_t at = value.rfind(";type="); at != std::string::npos) {
      if (at + 6 < value.size()) type = value.substr(at + 6);
      value.resize(at);
    }
    std::optional<std::string> filename;
    if (value.starts_with('@')) {
      const std::string path = value.substr(1);
      std::optional<std::string> contents = read_file(path);
      if (!contents) {
        std::fprintf(stderr, "coring-fetch: cannot read %s for -F\n", path.c_str());
        failure = 26;
        return std::nullopt;
      }
      value = std::move(*contents);
      filename = path.substr(path.rfind('/') + 1);
    }
    try {
      form.add_field(field.substr(0, equals), std::move(value), std::move(filename), std::move(type));
    } catch (const InvalidRequestError& e) {  // CR or LF in ;type=
      std::fprintf(stderr, "coring-fetch: bad -F: %s\n", e.what());
      failure = 2;
      return std::nullopt;
    }
  }
  return form;
}

struct Outcome {
  int exit_code = 0;
  int status = 0;
  std::size_t bytes = 0;
  double seconds = 0;
  std::string error;
};

int exit_code_for(const std::exception& e) {
  if (dynamic_cast<const ClientHttpProxyError*>(&e)) return 56;  // curl: "CONNECT ... refused" is a receive error
  if (dynamic_cast<const InvalidURL*>(&e)) return 3;
  if (dynamic_cast<const ClientConnectorCertificateError*>(&e)) return 60;
  if (dynamic_cast<const ClientConnectorSSLError*>(&e)) return 35;
  if (dynamic_cast<const ClientSSLError*>(&e)) return 77;
  if (dynamic_cast<const ClientConnectorError*>(&e)) return 7;
  if (dynamic_cast<const ClientPayloadError*>(&e)) return 18;
  if (dynamic_cast<const coring::TimeoutError*>(&e)) return 28;
  if (dynamic_cast<const InvalidResponseError*>(&e)) return 52;
  if (dynamic_cast<const ServerDisconnectedError*>(&e)) return 52;
  if (dynamic_cast<const ClientConnectionError*>(&e)) return 56;
  if (dynamic_cast<const InvalidRequestError*>(&e)) return 43;
  return 1;
}

/// Fetches one URL. With `sink`, the body is streamed there as it arrives.
Task<Outcome> fetch(ClientSession& session, const Flags& flags, std::string url, std::ostream* sink) {
  Outcome out;
  const auto start = std::chrono::steady_clock::now();
  try {
    RequestOptions options;
    for (const std::string& h : flags.headers) {
      const auto colon = h.find(':');
      if (colon == std::string::npos || colon == 0)
        throw InvalidRequestError("bad header \"" + h + "\" (expected 'Name: value')");
      std::string value = h.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      options.headers.add(h.substr(0, colon), value);
    }
    std::string method = flags.method;
    if (flags.multipart) {
      options.multipart = *flags.multipart;
      if (method.empty()) method = "POST";
    }
    if (flags.data) {
      options.body = *flags.data;
      if (!options.headers.contains("Content-Type"))
        options.headers.add("Content-Type", "application/x-www-form-urlencoded");
      if (method.empty()) method = "POST";
    }
    if (method.empty()) method = "GET";
    ClientResponse response = co_await session.request(method, url, std::move(options));
    out.status = response.status();
    if (flags.verbose) {
      std::fprintf(stderr, "< HTTP/1.1 %d %s\n", response.status(), response.reason().c_str());
      for (const auto& [name, value] : response.headers())
        std::fprintf(stderr, "< %.*s: %.*s\n", static_cast<int>(name.size()), name.data(), static_cast<int>(value.size()),
                     value.data());
      std::fprintf(stderr, "<\n");
    }
    for (;;) {
      std::string chunk = co_await response.content.read_chunk();
      if (chunk.empty()) break;
      out.bytes += chunk.size();
      if (sink) sink->write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    }
    if (flags.fail && response.status() >= 400) {
      out.exit_code = 22;
      out.error = "HTTP status " + std::to_string(response.status()) + " " + response.reason() + " for " +
                  response.url().to_string();
    }
  } catch (const std::exception& e) {
    out.exit_code = exit_code_for(e);
    out.error = e.what();
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  co_return out;
}

/// One line on stderr for a failed fetch, as curl's "curl: (7) ...": the
/// exit code, the URL (its credentials masked) and the cause.
void report_failure(const std::string& url, const Outcome& o) {
  if (o.error.empty()) return;
  std::fprintf(stderr, "coring-fetch: (%d) %s: %s\n", o.exit_code, mask_credentials(url).c_str(), o.error.c_str());
}

Task<int> fetch_all(Flags flags) {
  SessionOptions options;
  options.timeout.total = Seconds(flags.timeout);
  if (flags.connect_timeout) options.timeout.connect = Seconds(*flags.connect_timeout);
  if (flags.read_timeout) options.timeout.sock_read = Seconds(*flags.read_timeout);
  options.connector.limit = flags.connections;
  options.connector.ssl = flags.ssl;
  options.connector.ssl.verify = !flags.insecure;
  options.proxy = flags.proxy;
  if (flags.proxy_user) {
    const std::size_t colon = flags.proxy_user->find(':');
    options.proxy_auth = BasicAuth{flags.proxy_user->substr(0, colon),
                                   colon == std::string::npos ? "" : flags.proxy_user->substr(colon + 1)};
  }
  co_return co_await async_with(ClientSession(options), [&flags](ClientSession& session) -> Task<int> {
    if (flags.urls.size() == 1) {
      std::ofstream file;
      std::ostream* sink = &std::cout;
      if (!flags.output.empty()) {
        file.open(flags.output, std::ios::binary);
        if (!file) {
          std::fprintf(stderr, "coring-fetch: cannot write %s\n", flags.output.c_str());
          co_return 23;
        }
        sink = &file;
      }
      Outcome out = co_await fetch(session, flags, flags.urls[0], sink);
      sink->flush();
      report_failure(flags.urls[0], out);
      co_return out.exit_code;
    }
    std::vector<Task<Outcome>> tasks;
    for (const std::string& url : flags.urls) tasks.push_back(fetch(session, flags, url, nullptr));
    auto outcomes = co_await gather(std::move(tasks));
    int code = 0;
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      const Outcome& o = outcomes[i];
      const std::string shown = mask_credentials(flags.urls[i]);
      if (o.error.empty() || o.exit_code == 22) {
        std::printf("%d %zu bytes %.3f s %s\n", o.status, o.bytes, o.seconds, shown.c_str());
      } else {
        std::printf("error %.3f s %s: %s\n", o.seconds, shown.c_str(), o.error.c_str());
      }
      std::fflush(stdout);
      report_failure(flags.urls[i], o);
      if (o.exit_code != 0 && code == 0) code = o.exit_code;
    }
    co_return code;
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"coring-fetch: fetch URLs concurrently through one coring ClientSession"};
  Flags flags;
  app.set_version_flag("-V,--version", std::string("coring-fetch ") + coring::version);
  app.add_option("urls", flags.urls, "the URLs to fetch")->required();
  app.add_option("-X,--request", flags.method, "request method (default GET, or POST with -d or -F)");
  app.add_option("-H,--header", flags.headers, "extra header 'Name: value' (repeatable)")->allow_extra_args(false);
  app.add_option("-d,--data", flags.data, "request body (sent as application/x-www-form-urlencoded)");
  app.add_option("-F,--form", flags.form_fields, "multipart field name=value, or file name=@path (;type=TYPE) (repeatable)")
      ->allow_extra_args(false)
      ->excludes("--data");
  app.add_option("--timeout", flags.timeout, "total timeout of each request, in seconds")->check(CLI::PositiveNumber);
  app.add_option("--connect-timeout", flags.connect_timeout,
                 "seconds to get a connection (pool wait, DNS, connect, TLS) for each request")
      ->check(CLI::PositiveNumber);
  app.add_option("--read-timeout", flags.read_timeout,
                 "seconds a response may go without a byte (default: none; --timeout still bounds each request)")
      ->check(CLI::PositiveNumber);
  app.add_option("-c,--connections", flags.connections, "connection limit (0: none)")->check(CLI::NonNegativeNumber);
  app.add_option("-o,--output", flags.output, "write the body to FILE (one URL only)");
  app.add_flag("-v,--verbose", flags.verbose, "print the status line and headers on stderr");
  app.add_flag("-f,--fail", flags.fail, "an HTTP status >= 400 is a failure (exit 22)");
  app.add_option("--cacert", flags.ssl.ca_file, "trust the CA certificates in this PEM file (not the system's)");
  app.add_option("--capath", flags.ssl.ca_path, "trust the CA certificates in this hashed directory");
  app.add_option("-E,--cert", flags.ssl.cert_file, "client certificate (PEM)");
  app.add_option("--key", flags.ssl.key_file, "client certificate's private key (PEM; default: in --cert)");
  app.add_flag("-k,--insecure", flags.insecure, "do not verify the server's certificate (encrypted, not authenticated)");
  app.add_option("-x,--proxy", flags.proxy, "go through this HTTP proxy, http://[user:password@]host:port");
  app.add_option("-U,--proxy-user", flags.proxy_user, "the proxy's credentials, user:password")->needs("--proxy");
  CLI11_PARSE(app, argc, argv);
  if (!flags.output.empty() && flags.urls.size() != 1) {
    std::fprintf(stderr, "coring-fetch: -o needs exactly one URL\n");
    return 2;
  }
  if (!flags.form_fields.empty()) {
    int failure = 0;
    flags.multipart = form_of(flags.form_fields, failure);
    if (!flags.multipart) return failure;
  }
  try {
    return coring::run(fetch_all(std::move(flags)));
  } catch (const std::exception& e) {  // before any request: a bad --proxy, say
    std::fprintf(stderr, "coring-fetch: %s\n", e.what());
    return exit_code_for(e);
  }
}
