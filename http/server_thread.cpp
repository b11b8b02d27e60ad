#include "coring/http/server_thread.hpp"

#include <exception>
#include <future>
#include <optional>
#include <thread>

#include <cstdio>

#include "coring/errors.hpp"
#include "coring/sync.hpp"
#include "coring/run.hpp"
#include "coring/task_handle.hpp"

namespace coring::http {

struct ServerThread::State {
  std::string base_url;
  EventLoop* loop = nullptr;
  Event* stop = nullptr;  // lives in the server thread's frame until set
  std::thread thread;
};

namespace {

/// Serves until cancelled. `ready` learns that it serves, or why binding failed.
/// Serves until `stop` is set (from the owner's thread, through the loop).
/// `loop`, `stop` and `base_url` are set before `ready` is. If serving fails
/// the thread still waits for `stop`: the owner's destructor relies on it.
Task<> serve_until_stopped(SocketAddress address, Server::Handler handler, std::optional<ServerTLS> tls,
                           std::promise<void>& ready, EventLoop*& loop, Event*& stop, std::string& base_url) {
  std::optional<Server> server;
  try {
    server.emplace(address, std::move(handler), std::move(tls));
  } catch (...) {
    ready.set_exception(std::current_exception());
    co_return;
  }
  auto serving = create_task(server->serve());
  Event stopped;
  loop = &EventLoop::get();
  stop = &stopped;
  base_url = server->base_url();
  ready.set_value();
  co_await stopped.wait();
  serving.cancel();
  try {
    co_await serving;
  } catch (const CancelledError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "coring: the server on %s had stopped: %s\n", base_url.c_str(), e.what());
  }
  co_await server->close();
}

}  // namespace

ServerThread::ServerThread(SocketAddress address, Server::Handler handler, std::optional<ServerTLS> tls)
    : state_(std::make_unique<State>()) {
  std::promise<void> ready;
  auto started = ready.get_future();
  State& s = *state_;
  s.thread = std::thread([&s, &ready, address, handler = std::move(handler), tls = std::move(tls)]() mutable {
    run(serve_until_stopped(address, std::move(handler), std::move(tls), ready, s.loop, s.stop, s.base_url));
  });
  try {
    started.get();
  } catch (...) {
    s.thread.join();
    throw;
  }
}

ServerThread::~ServerThread() {
  State& s = *state_;
  if (s.loop) s.loop->call_soon_threadsafe([&s] { s.stop->set(); });
  s.thread.join();
}

const std::string& ServerThread::base_url() const noexcept { return state_->base_url; }

}  // namespace coring::http
