// ServerThread: a loop and listener per thread, started and stopped from
// the owner's thread.
#include "coring/http/server_thread.hpp"

#include <cstdio>
#include <exception>
#include <future>
#include <optional>
#include <thread>
#include <vector>

#include "coring/errors.hpp"
#include "coring/run.hpp"
#include "coring/sync.hpp"
#include "coring/task_handle.hpp"

namespace coring::http {

namespace {

/// One serving thread: its loop, and the event that ends it.
struct Lane {
  EventLoop* loop = nullptr;
  Event* stop = nullptr;  // lives in the thread's frame until set
  std::thread thread;
};

/// Serves on `listener` until `stop` is set (from the owner's thread,
/// through the loop). `loop` and `stop` are set before `ready` is. If
/// serving fails the thread still waits for `stop`: the owner's destructor
/// relies on it.
Task<> serve_until_stopped(Listener listener, Server::Handler handler, std::optional<ServerSSLOptions> tls,
                           std::promise<void>& ready, Lane& lane) {
  std::optional<Server> server;
  try {
    server.emplace(std::move(listener), std::move(handler), std::move(tls));
  } catch (...) {
    ready.set_exception(std::current_exception());
    co_return;
  }
  auto serving = create_task(server->serve());
  Event stopped;
  lane.loop = &EventLoop::get();
  lane.stop = &stopped;
  ready.set_value();
  co_await stopped.wait();
  serving.cancel();
  try {
    co_await serving;
  } catch (const CancelledError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "coring: a server thread had stopped: %s\n", e.what());
  }
  co_await server->close();
}

}  // namespace

struct ServerThread::State {
  std::string base_url;
  std::vector<Lane> lanes;  // sized once: lanes are referenced by their threads

  void stop_all() noexcept {
    for (Lane& lane : lanes)
      if (lane.loop) lane.loop->call_soon_threadsafe([&lane] { lane.stop->set(); });
    for (Lane& lane : lanes)
      if (lane.thread.joinable()) lane.thread.join();
  }
};

ServerThread::ServerThread(SocketAddress address, Server::Handler handler, std::optional<ServerSSLOptions> tls,
                           std::size_t threads)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  threads = std::max<std::size_t>(1, threads);
  s.lanes.resize(threads);
  const bool shared_port = threads > 1;
  try {
    for (std::size_t i = 0; i < threads; ++i) {
      // The first listener picks the port (if 0); the others join it.
      Listener listener = Listener::bind(address, 1024, shared_port);
      if (i == 0) {
        address = listener.local_address();
        s.base_url = (tls ? "https://" : "http://") + address.to_string();
      }
      std::promise<void> ready;
      auto started = ready.get_future();
      Lane& lane = s.lanes[i];
      lane.thread = std::thread([&ready, &lane, listener = std::move(listener), handler, tls]() mutable {
        run(serve_until_stopped(std::move(listener), std::move(handler), std::move(tls), ready, lane));
      });
      started.get();
    }
  } catch (...) {
    s.stop_all();
    throw;
  }
}

ServerThread::~ServerThread() { state_->stop_all(); }

const std::string& ServerThread::base_url() const noexcept { return state_->base_url; }

}  // namespace coring::http
