// Headers: a case-insensitive, multi-valued list of fields, and iequals; no sockets.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <coring/http/errors.hpp>
#include <coring/http/headers.hpp>

using namespace coring::http;

TEST_CASE("Headers are case-insensitive and multi-valued") {
  Headers h;
  h.add("Set-Cookie", "a=1");
  h.add("set-cookie", "b=2");
  h.add("Content-Type", "text/plain");
  CHECK(h.get("SET-COOKIE") == "a=1");
  CHECK(h.get_all("Set-Cookie").size() == 2);
  h.set("content-type", "application/json");
  CHECK(h.get("Content-Type") == "application/json");
  CHECK(h.remove("set-cookie") == 2);
  CHECK_FALSE(h.contains("Set-Cookie"));
  h.add("Set-Cookie", "c=3");
  CHECK(h.get("set-cookie") == "c=3");
  // Names of every size, long ones too, are found once added, and only then.
  for (std::size_t size = 1; size <= 80; ++size) {
    const std::string name(size, 'X');
    CHECK_FALSE(h.contains(std::string(size, 'x')));
    h.add(name, std::to_string(size));
    CHECK(h.get(std::string(size, 'x')) == std::to_string(size));
  }
  h.clear();
  CHECK_FALSE(h.contains("x"));
  CHECK(h.get_all("content-type").empty());
}

TEST_CASE("Headers agree with a plain list through random adds, sets and removes") {
  // Against a plain list searched in full, over names that share sizes,
  // first and last letters, in either case.
  std::vector<std::string> names;
  for (char first : {'a', 'X', 'z'})
    for (char last : {'a', 'q', 'Z', '-'})
      for (std::size_t size : {1, 2, 7, 10, 16}) {
        std::string name(size, 'm');
        name.front() = first;
        name.back() = last;
        names.push_back(name);
      }
  const auto flip_case = [](std::string name) {
    for (char& c : name)
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) c ^= 0x20;
    return name;
  };
  std::vector<std::pair<std::string, std::string>> model;
  Headers h;
  std::uint32_t seed = 12345;
  const auto next = [&seed](std::uint32_t n) {
    seed = seed * 1664525 + 1013904223;
    return (seed >> 8) % n;
  };
  int wrong = 0;
  for (int step = 0; step < 3000; ++step) {
    const std::string& name = names[next(static_cast<std::uint32_t>(names.size()))];
    const std::string value = std::to_string(step);
    switch (next(4)) {
      case 0:
      case 1:
        h.add(name, value);
        model.emplace_back(name, value);
        break;
      case 2:
        h.set(flip_case(name), value);
        std::erase_if(model, [&](const auto& f) { return iequals(f.first, name); });
        model.emplace_back(name, value);
        break;
      default: {
        const std::size_t removed = std::erase_if(model, [&](const auto& f) { return iequals(f.first, name); });
        if (h.remove(name) != removed) ++wrong;
      }
    }
    if (step % 500 == 499) {  // and from empty again
      h.clear();
      model.clear();
    }
    for (const std::string& probe : names) {
      std::vector<std::string_view> expected;
      for (const auto& [n, v] : model)
        if (iequals(n, probe)) expected.push_back(v);
      const auto found = h.get(flip_case(probe));
      if (expected.empty() ? found.has_value() : found != expected.front()) ++wrong;
      if (h.get_all(probe) != expected) ++wrong;
    }
  }
  CHECK(wrong == 0);
}

TEST_CASE("Headers: a field copied from the same list, and one set again and again, stay whole and small") {
  Headers h;
  h.add("X-Orig", std::string(40, 'o'));
  // The value is a view into the list, which grows (and moves) as it is added.
  for (int i = 0; i < 20; ++i) h.add("X-Copy-" + std::to_string(i), *h.get("X-Orig"));
  for (const auto& [name, value] : h) CHECK(value == std::string(40, 'o'));
  h.set("X-Orig", *h.get("X-Copy-3"));
  CHECK(h.get("X-Orig") == std::string(40, 'o'));
  CHECK(h.size() == 21);
  // Set again and again: the removed bytes go, the list does not grow.
  Headers auth;
  auth.add("Accept", "*/*");
  for (int i = 0; i < 10'000; ++i) auth.set("Authorization", "Bearer " + std::to_string(i));
  CHECK(auth.get("Authorization") == "Bearer 9999");
  CHECK(auth.get("Accept") == "*/*");
  CHECK(auth.byte_capacity() < 1024);
}

TEST_CASE("iequals folds ASCII letters only, at every length and for every byte") {
  const auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  const auto reference = [&](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (fold(a[i]) != fold(b[i])) return false;
    return true;
  };
  // Byte pairs at each place of names 1 to 20 bytes long: every pair up to
  // 3 bytes, every 7th beyond (the word-at-a-time compare must neither fold
  // '@', '[', 0xC1... nor miss a byte).
  int wrong = 0;
  for (std::size_t size = 1; size <= 20; ++size)
    for (std::size_t at = 0; at < size; ++at)
      for (int x = 0; x < 256; ++x)
        for (int y = 0; y < 256; y += (size > 3 ? 7 : 1)) {
          std::string a(size, 'k');
          std::string b(size, 'K');
          a[at] = static_cast<char>(x);
          b[at] = static_cast<char>(y);
          if (iequals(a, b) != reference(a, b)) ++wrong;
        }
  CHECK(wrong == 0);
  CHECK(iequals("Content-Length", "content-length"));
  CHECK_FALSE(iequals("content-lengtH", "content-lengthh"));
  CHECK_FALSE(iequals("a^b", "a~b"));  // differ by the case bit, but not letters
  CHECK(iequals("", ""));
}

TEST_CASE("header values with CR or LF are refused") {
  Headers h;
  CHECK_THROWS_AS(h.add("X-Evil", "a\r\nInjected: yes"), InvalidRequestError);
  CHECK_THROWS_AS(h.add("X-Evil", "a\nb"), InvalidRequestError);
  CHECK_THROWS_AS(h.add("Bad Name", "v"), InvalidRequestError);
  CHECK(h.empty());
}
