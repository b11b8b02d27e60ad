// The thread's cache of response memory: states, header lists and body
// buffers kept from responses that are gone.
#include "header_cache.hpp"

#include <algorithm>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace coring::http::detail {

namespace {
// Enough for the responses a loop has alive at once in a steady load;
// more would keep the memory of a burst that is over.
constexpr std::size_t lists_kept = 64;
constexpr std::size_t bodies_kept = 64;  // so at most 64 x TCPConnector::recycled_body_size
constexpr std::size_t states_kept = 64;
constexpr std::size_t typical_fields = 16;
constexpr std::size_t list_bytes_kept = 16 * 1024;  // a list that grew past this (a huge head) is freed
const std::size_t inline_capacity = std::string().capacity();  // (not constexpr for clang 14)

// Set when the thread's cache is destroyed: a response destroyed later (one
// with static storage, say) must not put anything into it. A plain bool,
// readable until the thread's very end.
thread_local constinit bool cache_gone = false;

struct Cache {
  Cache() {
    lists.reserve(lists_kept);
    bodies.reserve(bodies_kept);
    states.reserve(states_kept);
  }
  ~Cache() {
    for (ResponseState* state : states) delete state;
  }
  std::vector<Headers> lists;
  std::vector<std::string> bodies;
  std::vector<ResponseState*> states;
};

// A pointer, not the Cache itself: a thread_local with a constructor or a
// destructor costs a call to the thread's TLS initialisation at every use,
// several per request; a trivial one does not. `owner` deletes it at the
// thread's end.
thread_local constinit Cache* cache_of_thread = nullptr;

struct CacheOwner {
  ~CacheOwner() {
    cache_gone = true;
    delete std::exchange(cache_of_thread, nullptr);
  }
  bool armed = false;
};
thread_local CacheOwner owner;  // made, and its end registered, when the cache is

[[gnu::noinline, gnu::cold]] Cache* make_cache() noexcept {
  if (cache_gone) return nullptr;
  try {
    owner.armed = true;
    cache_of_thread = new Cache;
  } catch (const std::bad_alloc&) {  // no cache: everything is allocated and freed as it comes
    return nullptr;
  }
  return cache_of_thread;
}

/// The thread's cache, made on first use; nullptr once it is gone. The
/// making apart, so that the rest inlines: every request uses it several times.
Cache* live_cache() noexcept {
  Cache* cache = cache_of_thread;
  return cache != nullptr ? cache : make_cache();
}

}  // namespace

std::string take_body_buffer() {
  Cache* c = live_cache();
  if (!c || c->bodies.empty()) return {};
  std::string buffer = std::move(c->bodies.back());
  c->bodies.pop_back();
  return buffer;
}

void recycle_body_buffer(std::string&& buffer, std::size_t limit) noexcept {
  Cache* c = live_cache();
  if (!c || buffer.capacity() <= inline_capacity || buffer.capacity() > limit || c->bodies.size() >= bodies_kept)
    return;
  buffer.clear();
  c->bodies.push_back(std::move(buffer));  // within the reserved room: no allocation
}

Headers take_headers() {
  Cache* c = live_cache();
  if (!c || c->lists.empty()) {
    Headers fresh;
    fresh.reserve(typical_fields);
    return fresh;
  }
  Headers headers = std::move(c->lists.back());
  c->lists.pop_back();
  return headers;
}

void recycle_headers(Headers&& headers) noexcept {
  Cache* c = live_cache();
  if (!c || headers.capacity() == 0 || headers.byte_capacity() > list_bytes_kept || c->lists.size() >= lists_kept)
    return;
  headers.clear();
  c->lists.push_back(std::move(headers));  // within the reserved room: no allocation
}

ResponseState* take_response_state() {
  Cache* c = live_cache();
  if (!c || c->states.empty()) return new ResponseState;
  ResponseState* state = c->states.back();
  c->states.pop_back();
  return state;
}

void recycle_response_state(ResponseState* state) noexcept {
  // The source first: dropping it unread closes its connection, read to its
  // end it is back in the pool already.
  state->body.reset();
  state->history.clear();  // the redirects' states come back here too
  recycle_headers(std::move(state->headers));
  state->headers.clear();  // (recycle_headers leaves a list it does not keep as it was)
  state->trailers = Headers();  // rare: their room is not kept
  if (state->recycled_body_size > 0) {
    recycle_body_buffer(std::move(state->whole), state->recycled_body_size);
    recycle_body_buffer(std::move(state->pending), state->recycled_body_size);
  }
  Cache* c = live_cache();
  if (!c || c->states.size() >= states_kept) {
    delete state;
    return;
  }
  state->status = 0;
  state->reason.clear();
  state->method.clear();
  std::string().swap(state->pending);  // what the body cache did not keep is freed
  std::string().swap(state->whole);    // (assigning an empty string would keep the room)
  state->recycled_body_size = 0;
  state->max_read_size = 0;
  state->ended = false;
  state->read_whole = false;
  c->states.push_back(state);  // within the reserved room: no allocation
}

}  // namespace coring::http::detail
