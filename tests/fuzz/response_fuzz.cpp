// libFuzzer target: arbitrary bytes, cut at arbitrary points, as a server's
// answers to a real coring::http::ClientSession (native backend): the
// response parser, chunked decoding and trailers (bounded), gzip/deflate,
// redirects, the cookie jar, the pool's reuse of kept-alive connections,
// and TLS set-up on garbage.
// Every connection, to whatever host a redirect names, goes to a Unix socket
// served on the same loop: no DNS, no network.
//
// Input format (the seeds in corpus/ follow it):
//   byte 0   mode
//              bits 0-2  7: each answer in one write; else writes of
//                        1..2^(bits+1) bytes, sizes drawn from the mode byte
//              bit 3     keep the connection open after an answer (then
//                        closed if no request follows within 3 ms)
//              bit 4     read bodies with content.read_chunk(), not text()
//              bit 5     the first request is HEAD, not GET
//   then     answers separated by "~~~\n": the k-th request, over any
//            connection, gets the k-th answer; the last one again once
//            they run out.
//
// A ClientError or TimeoutError is an expected outcome; any other exception,
// a crash, a sanitizer report or a hang is a finding. A TimeoutError is
// reported on stderr all the same: the server always closes or answers, so
// a client still waiting after 1 s missed something.
//
// Build and run: see scripts/test.sh (the fuzz step).
#include <unistd.h>

#include <coring/coring.hpp>
#include <coring/http/client.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

using namespace coring;
using namespace coring::http;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view separator = "~~~\n";
constexpr std::size_t max_requests = 3;  // besides the redirects each one follows

struct Script {
  std::uint8_t mode = 0;
  std::vector<std::string_view> answers;
  std::size_t served = 0;
  std::uint32_t rng = 0;

  [[nodiscard]] bool keep_open() const { return (mode & 0x08) != 0; }
  [[nodiscard]] bool read_chunks() const { return (mode & 0x10) != 0; }
  [[nodiscard]] bool head_first() const { return (mode & 0x20) != 0; }
  [[nodiscard]] bool all_served() const { return served >= answers.size(); }

  std::size_t next_piece(std::size_t left) {
    const unsigned bits = mode & 0x07;
    if (bits == 7) return left;
    rng = rng * 1103515245u + 12345u;  // a reproducible cut for a given input is all that matters
    const std::size_t piece = 1 + (rng >> 16) % (std::size_t{2} << bits);
    return piece < left ? piece : left;
  }
};

Script parse(const std::uint8_t* data, std::size_t size) {
  Script s;
  if (size == 0) return s;
  s.mode = data[0];
  s.rng = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  for (;;) {
    const auto cut = rest.find(separator);
    s.answers.push_back(rest.substr(0, cut));
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + separator.size());
  }
  return s;
}

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

Task<> answer(Socket& socket, Script& s) {
  std::string_view left = s.answers[s.served < s.answers.size() ? s.served : s.answers.size() - 1];
  ++s.served;
  while (!left.empty()) {
    const std::size_t n = s.next_piece(left.size());
    co_await socket.send_all(bytes_of(left.substr(0, n)));
    left.remove_prefix(n);
    // One turn to the client between writes, so that it reads this piece alone.
    if (!left.empty()) co_await sleep(0ns);
  }
}

/// Any bytes received count as one request: the client sends each request
/// (or TLS ClientHello) in one write, and this server never parses them.
Task<> serve_connection(Socket socket, Script& s) {
  std::exception_ptr cancelled;
  // Requests are small (the cookie jar's header at most the input's size);
  // left uninitialised: zeroing it per connection would add up over a run.
  std::unique_ptr<std::byte[]> storage(new std::byte[16384]);
  const std::span<std::byte> buffer(storage.get(), 16384);
  try {
    for (bool first = true;; first = false) {
      std::size_t n = 0;
      if (first) {
        n = co_await socket.recv(buffer);
      } else {
        n = co_await wait_for(socket.recv(buffer), 3ms);
      }
      if (n == 0) break;
      co_await answer(socket, s);
      if (!s.keep_open()) break;
    }
  } catch (const CancelledError&) {
    cancelled = std::current_exception();
  } catch (const coring::TimeoutError&) {
    // No further request on a kept connection: close it.
  } catch (const OSError&) {
    // The client went away first (EPIPE, ECONNRESET): its business.
  }
  co_await socket.close();
  if (cancelled) std::rethrow_exception(cancelled);
}

Task<> serve(Listener& listener, Script& s) {
  co_await async_with(TaskGroup{}, [&](TaskGroup& group) -> Task<> {
    for (;;) {
      Socket socket = co_await listener.accept();
      group.create_task(serve_connection(std::move(socket), s));
    }
  });
}

Task<> fetch(ClientSession& session, std::string method, std::string url, bool read_chunks) {
  RequestOptions options{.max_redirects = 3};
  try {
    ClientResponse r = co_await session.request(std::move(method), std::move(url), std::move(options));
    if (read_chunks) {
      for (;;) {
        const std::string piece = co_await r.content.read_chunk();
        if (piece.empty()) break;
      }
    } else {
      co_await r.text();
    }
    // Read to its end: the trailers are in, within the head's limits (128
    // fields, 8190 bytes of names and values).
    std::size_t trailer_bytes = 0;
    for (const auto& [name, value] : r.trailers()) trailer_bytes += name.size() + value.size();
    if (r.trailers().size() > 128 || trailer_bytes > 8190) {
      std::fprintf(stderr, "response_fuzz: %zu trailer fields of %zu bytes, past the limits\n", r.trailers().size(),
                   trailer_bytes);
      std::abort();
    }
    (void)r.url().to_string();
    r.raise_for_status();
  } catch (const ClientError&) {
  } catch (const coring::TimeoutError& e) {
    std::fprintf(stderr, "response_fuzz: the client timed out: %s\n", e.what());
  }
}

Task<> client(Script& s, const std::string& socket_path) {
  SessionOptions options{
      .timeout = {.total = 1s},
      .connector = {.unix_socket_path = socket_path, .ssl = {.verify = false}},  // no CA store to load per input
      .max_body_size = 1 << 20,
  };
  co_await async_with(ClientSession(std::move(options)), [&](ClientSession& session) -> Task<> {
    for (std::size_t i = 0; i < max_requests; ++i) {
      if (i > 0 && s.all_served()) break;
      const bool head = i == 0 && s.head_first();
      co_await fetch(session, head ? "HEAD" : "GET", i == 0 ? "http://fuzz.test/a" : "http://fuzz.test/b?n=1",
                     s.read_chunks());
    }
  });
}

Task<> run_one(Script& s, const std::string& socket_path) {
  ::unlink(socket_path.c_str());  // left behind by a run that crashed
  Listener listener = Listener::bind(SocketAddress::unix_path(socket_path));
  auto server = create_task(serve(listener, s));
  std::exception_ptr failure;
  try {
    co_await client(s, socket_path);
  } catch (...) {
    failure = std::current_exception();
  }
  server.cancel();
  try {
    co_await server;
  } catch (const CancelledError&) {
  }
  co_await listener.close();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

// UB is a finding, not a line in a log that libFuzzer would not read.
extern "C" const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string socket_path = "/tmp/coring-fuzz-" + std::to_string(::getpid()) + ".sock";
  if (size == 0) return -1;  // no mode byte: not in the format, keep it out of the corpus
  // One loop for every input: making and unmapping a ring per input would
  // weigh on every run. What one input leaves on it (a task, a timer) fails
  // the check below instead of leaking into the next input.
  static EventLoop loop;
  Script s = parse(data, size);
  // Anything else escaping (std::terminate) is reported by libFuzzer as a crash.
  loop.run_until_complete(run_one(s, socket_path));
  if (loop.live_tasks() != 0 || loop.pending_timers() != 0) {
    std::fprintf(stderr, "response_fuzz: the input left %zu tasks and %zu timers on the loop\n", loop.live_tasks(),
                 loop.pending_timers());
    std::abort();
  }
  return 0;
}
