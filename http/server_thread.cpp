#include "coring/http/server_thread.hpp"

#include <exception>
#include <future>
#include <optional>
#include <thread>

#include "coring/errors.hpp"
#include "coring/run.hpp"
#include "coring/task_handle.hpp"

namespace coring::http {

struct ServerThread::State {
  std::string base_url;
  EventLoop* loop = nullptr;
  TaskHandle<void>* serving = nullptr;  // lives in the server thread's frame
  std::thread thread;
};

namespace {

/// Serves until cancelled. `ready` learns that it serves, or why binding failed.
/// `loop`, `serving` and `base_url` are set before `ready` is.
Task<> serve_until_cancelled(SocketAddress address, Server::Handler handler, std::optional<ServerTLS> tls,
                             std::promise<void>& ready, EventLoop*& loop, TaskHandle<void>*& serving,
                             std::string& base_url) {
  std::optional<Server> server;
  try {
    server.emplace(address, std::move(handler), std::move(tls));
  } catch (...) {
    ready.set_exception(std::current_exception());
    co_return;
  }
  auto handle = create_task(server->serve());
  loop = &EventLoop::get();
  serving = &handle;
  base_url = server->base_url();
  ready.set_value();
  try {
    co_await handle;
  } catch (const CancelledError&) {
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
    run(serve_until_cancelled(address, std::move(handler), std::move(tls), ready, s.loop, s.serving, s.base_url));
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
  if (s.loop) s.loop->call_soon_threadsafe([&s] { s.serving->cancel(); });
  s.thread.join();
}

const std::string& ServerThread::base_url() const noexcept { return state_->base_url; }

}  // namespace coring::http
