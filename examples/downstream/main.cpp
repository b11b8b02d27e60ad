// The smallest coring program: two concurrent sleeps, gathered.
#include <chrono>
#include <coring/coring.hpp>
#include <cstdio>

coring::Task<int> answer_after(std::chrono::milliseconds delay, int value) {
  co_await coring::sleep(delay);
  co_return value;
}

int main() {
  using namespace std::chrono_literals;
  auto [a, b] = coring::run(coring::gather(answer_after(20ms, 40), answer_after(10ms, 2)));
  std::printf("hello from coring: %d\n", a + b);
}
