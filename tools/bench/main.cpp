// coring-bench: an HTTP/1.1 load generator (our wrk, with wrk2's honest
// latency under --rate). With no URL it benchmarks coring's own server,
// started on a thread of its own.
//
//   coring-bench                                   the embedded server, 10 s
//   coring-bench -c 100 -d 30s http://127.0.0.1:8080/
//   coring-bench -c 50 --rate 20000 -n 1000000 --json out.json --plot out.svg URL
#include <CLI/CLI.hpp>
#include <csignal>
#include <fstream>
#include <map>
#include <netdb.h>
#include <optional>
#include <thread>
#include <unistd.h>

#include "coring/coring.hpp"
#include "coring/http/errors.hpp"
#include "coring/http/server_thread.hpp"
#include "coring/http/url.hpp"
#include "ascii.hpp"  // http/
#include "load.hpp"
#include "tls.hpp"  // http/: for the up-front TLS check
#include "report.hpp"

using namespace coring;
using namespace coring::bench;
using namespace std::chrono;

namespace {

struct Flags {
  std::optional<std::string> url;
  std::size_t connections = 10;
  std::size_t threads = 1;
  std::optional<std::uint64_t> requests;
  std::optional<Clock::duration> duration;
  std::string method;
  std::vector<std::string> headers;
  std::optional<std::string> body;
  std::optional<std::string> body_file;
  double timeout = 10;
  double read_timeout = 0;
  double rate = 0;
  bool no_progress = false;
  std::string json_file;
  std::string plot_file;
  http::SSLOptions ssl;
  bool insecure = false;
  std::size_t server_threads = 1;
  std::optional<unsigned> batch_wait_us;
  RingSetup ring_setup = RingSetup::defer;
};

/// A bad flag value, found after parsing: exit status 2, as CLI11's own.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// "10s", "1.5m", "250ms", "1h", or plain seconds.
Clock::duration parse_duration(const std::string& text) {
  std::size_t end = 0;
  double value = -1;
  try {
    value = std::stod(text, &end);
  } catch (const std::exception&) {
  }
  const std::string unit = text.substr(std::min(end, text.size()));
  double scale = unit.empty() || unit == "s" ? 1 : unit == "ms" ? 1e-3 : unit == "m" ? 60 : unit == "h" ? 3600 : -1;
  if (value <= 0 || scale < 0 || !std::isfinite(value))
    throw CLI::ValidationError("-d", "\"" + text + "\" is not a duration (examples: 10s, 500ms, 2m)");
  if (value * scale > 1e7) throw CLI::ValidationError("-d", "\"" + text + "\" is longer than 10,000,000 s");
  return duration_cast<Clock::duration>(duration<double>(value * scale));
}

/// The bytes of the one request every connection sends.
std::string build_request(const http::URL& url, const Flags& flags, const std::string& body) {
  std::string method = flags.method.empty() ? (flags.body || flags.body_file ? "POST" : "GET") : flags.method;
  for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Host", url.host_header()}, {"User-Agent", "coring-bench/0.1"}, {"Accept", "*/*"}};
  for (const std::string& h : flags.headers) {
    const auto colon = h.find(':');
    if (colon == std::string::npos || colon == 0 || h.find_first_of("\r\n") != std::string::npos)
      throw UsageError("bad header \"" + h + "\": expected 'Name: value' on one line");
    std::string name = h.substr(0, colon);
    std::string value(http::detail::trim(std::string_view(h).substr(colon + 1)));
    auto same = std::find_if(headers.begin(), headers.end(), [&](const auto& kv) { return http::iequals(kv.first, name); });
    if (same != headers.end()) {
      same->second = value;  // -H replaces a default header of the same name
    } else {
      headers.emplace_back(std::move(name), std::move(value));
    }
  }
  std::string out = method + " " + url.target() + " HTTP/1.1\r\n";
  for (const auto& [name, value] : headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "\r\n" + body;
  return out;
}

/// The first address of `url`'s host that accepts a connection (and, for
/// https, completes a verified handshake). Resolved once, up front: a
/// benchmark should not measure DNS, and a bad certificate should be said
/// once, not counted as a million errors.
SocketAddress reachable_address(const http::URL& url, const std::optional<http::SSLOptions>& tls) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(url.port());
  if (const int rc = getaddrinfo(url.host().c_str(), port.c_str(), &hints, &found); rc != 0)
    throw http::ClientConnectorError("cannot resolve " + url.host() + ": " + gai_strerror(rc), 0);
  std::vector<SocketAddress> addresses;
  for (addrinfo* a = found; a; a = a->ai_next) addresses.push_back(SocketAddress::from_native(a->ai_addr, a->ai_addrlen));
  freeaddrinfo(found);
  std::string why;
  for (const SocketAddress& address : addresses) {
    try {
      run([](SocketAddress a) -> Task<> {
        Socket s = co_await wait_for(Socket::connect(a), seconds(10));
        co_await s.close();
      }(address));
    } catch (const std::exception& e) {
      why = e.what();
      continue;
    }
    if (tls) {  // errors here name the host and the reason already
      run([](SocketAddress a, http::SSLOptions options, std::string host, std::uint16_t port) -> Task<> {
        Socket s = co_await wait_for(Socket::connect(a), seconds(10));
        try {
          http::detail::TLSStream stream(http::detail::TLSContext::client(options), s);
          co_await wait_for(stream.connect(host, port), seconds(10));
        } catch (...) {
          s.abort();
          throw;
        }
        co_await s.close();
      }(address, *tls, url.host(), url.port()));
    }
    return address;
  }
  throw http::ClientConnectorError("cannot connect to " + url.host_header() + ": " + why, 0);
}

std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) {
  interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the program at once
}

/// Watches the load from this thread until it ends: redraws the progress
/// line, and stops the load on Ctrl-C or when the server stops answering.
/// Returns why it stopped early, or nothing.
std::string watch(Load& load, bool show_progress) {
  const LoadPlan& plan = load.plan();
  const auto started = load.started_at();
  auto last_response_at = started;
  Load::Progress last{};
  std::uint64_t failed_at_last_response = 0;
  auto next_draw = started + seconds(1);
  std::uint64_t responses_at_last_draw = 0;
  auto last_draw = started;
  std::string aborted;
  for (;;) {
    std::this_thread::sleep_for(milliseconds(20));
    const Load::Progress p = load.progress();
    const auto now = Clock::now();
    if (p.done) break;
    if (interrupted.load()) {
      aborted = "interrupted";
      load.stop();
      break;
    }
    if (p.responses != last.responses) {
      last_response_at = now;
      failed_at_last_response = p.failed;
    }
    last = p;
    // Every running connection's last request failed, and nothing has been
    // answered for 2 s or more: refused connections, or a server that
    // stopped answering (its requests fail as their timeout passes).
    if (p.active > 0 && p.failing >= p.active && p.failed > failed_at_last_response &&
        now - last_response_at >= seconds(2)) {
      aborted = "no response for " + std::to_string(duration_cast<seconds>(now - last_response_at).count()) +
                " s and every connection failing: the server stopped answering";
      load.stop();
      break;
    }
    if (show_progress && now >= next_draw) {
      const double elapsed = duration<double>(now - started).count();
      const double rate = static_cast<double>(p.responses - responses_at_last_draw) / duration<double>(now - last_draw).count();
      std::string left;
      if (plan.duration) {
        left = std::to_string(std::max<long>(0, std::lround(duration<double>(*plan.duration).count() - elapsed))) + " s left";
      } else if (plan.requests) {
        left = group_digits(p.responses + p.failed) + " of " + group_digits(*plan.requests);
      }
      std::fprintf(stderr, "\r\033[K  %.0f s   %s responses   %s req/s   %s errors   %s", elapsed,
                   group_digits(p.responses).c_str(), group_digits(static_cast<std::uint64_t>(rate)).c_str(),
                   group_digits(p.failed).c_str(), left.c_str());
      std::fflush(stderr);
      responses_at_last_draw = p.responses;
      last_draw = now;
      next_draw += seconds(1);
    }
  }
  if (show_progress) std::fprintf(stderr, "\r\033[K");
  return aborted;
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary);
  file << text;
  if (!file.flush()) throw std::runtime_error("cannot write " + path);
}

int run_bench(const Flags& flags) {
  std::string body;
  if (flags.body) body = *flags.body;
  if (flags.body_file) {
    std::ifstream file(*flags.body_file, std::ios::binary);
    if (!file) throw UsageError("cannot read the body file " + *flags.body_file);
    body.assign(std::istreambuf_iterator<char>(file), {});
  }
  // No URL: coring's own server, on its own thread and loop.
  std::optional<http::ServerThread> embedded;
  std::string url_text;
  if (flags.url) {
    url_text = *flags.url;
  } else {
    embedded.emplace(SocketAddress::parse("127.0.0.1:0"), http::builtin_routes(), std::nullopt, flags.server_threads);
    url_text = embedded->base_url() + "/small";
  }
  std::optional<http::URL> url;
  try {
    url = http::URL::parse(url_text);
  } catch (const http::InvalidURL& e) {
    throw UsageError(e.what());
  }
  std::optional<http::SSLOptions> tls;
  if (url->is_https()) {
    tls = flags.ssl;
    tls->verify = !flags.insecure;
  }

  LoadPlan plan;
  plan.request = build_request(*url, flags, body);
  plan.head_request = plan.request.starts_with("HEAD ");
  plan.connections = flags.connections;
  plan.threads = flags.threads;
  plan.requests = flags.requests;
  plan.duration = flags.duration;
  if (!plan.requests && !plan.duration) plan.duration = seconds(10);
  plan.rate = flags.rate;
  plan.timeout = duration_cast<Clock::duration>(duration<double>(flags.timeout));
  plan.read_timeout = duration_cast<Clock::duration>(duration<double>(flags.read_timeout));
  // Closed loop: batches cost less CPU and the latency stays within the
  // noise (bench/RESULTS.md, "Batched waiting"). With --rate, latency is what is measured: none.
  plan.batch_wait = microseconds(flags.batch_wait_us.value_or(flags.rate > 0 ? 0 : 100));
  plan.ring_setup = flags.ring_setup;
  plan.tls = tls;
  plan.host = url->host();
  plan.port = url->port();
  plan.address = reachable_address(*url, tls);

  Load load(plan);
  std::signal(SIGINT, on_interrupt);
  load.start();
  const bool show_progress = !flags.no_progress && isatty(STDERR_FILENO);
  std::string aborted = watch(load, show_progress);
  const LoadResult result = load.finish();
  std::signal(SIGINT, SIG_DFL);
  if (!result.fatal.empty() && aborted.empty()) aborted = result.fatal;

  const Report report{url_text, load.plan(), result, aborted};
  print_text(stdout, report);
  std::fflush(stdout);
  if (!flags.json_file.empty()) write_file(flags.json_file, to_json(report));
  if (!flags.plot_file.empty()) write_file(flags.plot_file, to_svg(report));
  if (interrupted.load()) return 130;
  if (!aborted.empty()) return 1;
  if (result.responses == 0) {
    std::fprintf(stderr, "coring-bench: no request got a response\n");
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"coring-bench: HTTP/1.1 load generator. With no URL it benchmarks coring's embedded server."};
  Flags flags;
  std::string duration_text;
  app.set_version_flag("-V,--version", std::string("coring-bench ") + coring::version);
  app.add_option("url", flags.url, "http:// URL to load (default: the embedded server's /small)");
  app.add_option("-c,--connections", flags.connections, "connections kept open (default 10)")->check(CLI::Range(1, 1000000));
  app.add_option("-t,--threads", flags.threads, "threads, one event loop each (default 1)")->check(CLI::Range(1, 1024));
  auto* requests = app.add_option("-n,--requests", flags.requests, "stop after this many requests")->check(CLI::PositiveNumber);
  app.add_option("-d,--duration", duration_text, "stop after this long: 10s, 500ms, 2m (default 10s)")->excludes(requests);
  app.add_option("-m,--method", flags.method, "request method (default GET, or POST with a body)");
  app.add_option("-H,--header", flags.headers, "extra header 'Name: value' (repeatable)")->allow_extra_args(false);
  auto* body = app.add_option("--body", flags.body, "request body");
  app.add_option("--body-file", flags.body_file, "request body from a file")->excludes(body);
  app.add_option("--timeout", flags.timeout, "seconds a request may take, connect included (default 10)")
      ->check(CLI::Range(0.001, 1e6));
  app.add_option("--read-timeout", flags.read_timeout,
                 "seconds a response may go without a byte before it counts as a timeout (default: only --timeout)")
      ->check(CLI::Range(0.001, 1e6));
  app.add_option("--rate", flags.rate, "constant total rate in requests per second (latency counted from when each was due)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--no-progress", flags.no_progress, "no live progress line");
  app.add_option("--batch-wait", flags.batch_wait_us,
                 "microseconds a loop may wait to take completions in batches (less CPU per request, up to that much "
                 "more latency; Linux 6.12+; default 100, or 0 with --rate)")
      ->check(CLI::Range(0, 100000));
  const std::map<std::string, RingSetup> ring_setups{
      {"defer", RingSetup::defer}, {"coop", RingSetup::coop}, {"none", RingSetup::none}};
  app.add_option("--ring-setup", flags.ring_setup,
                 "io_uring task running of each load thread's loop: defer (default), coop or none (EventLoopOptions::"
                 "ring_setup; for measuring what each gives)")
      ->transform(CLI::CheckedTransformer(ring_setups));
  app.add_option("--server-threads", flags.server_threads,
                 "with no URL: threads (loops) of the embedded server, sharing its port (default 1)")
      ->check(CLI::Range(1, 256));
  app.add_option("--cacert", flags.ssl.ca_file, "https: trust the CA certificates in this PEM file");
  app.add_option("--capath", flags.ssl.ca_path, "https: trust the CA certificates in this hashed directory");
  app.add_flag("-k,--insecure", flags.insecure, "https: do not verify the server's certificate");
  app.add_flag("--no-sessionid{false}", flags.ssl.resume_sessions,
               "https: a full handshake on every new connection (no TLS session resumption)");
  app.add_option("--json", flags.json_file, "write the results as JSON to FILE");
  app.add_option("--plot", flags.plot_file, "write the latency distribution as SVG to FILE");
  try {
    app.parse(argc, argv);
    if (!duration_text.empty()) flags.duration = parse_duration(duration_text);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return run_bench(flags);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "coring-bench: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "coring-bench: %s\n", e.what());
    return 1;
  }
}
