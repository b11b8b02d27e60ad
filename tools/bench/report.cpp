// coring-bench's report: the text summary, the --json document and the
// --plot SVG of the latency spectrum.
#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace coring::bench {

namespace {

struct Percentile {
  const char* label;
  const char* json_name;
  double value;
};
constexpr Percentile percentiles[] = {
    {"p50", "p50", 50}, {"p90", "p90", 90}, {"p99", "p99", 99}, {"p99.9", "p99_9", 99.9}};

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  std::size_t unit = 0;
  while (bytes >= 1000 && unit + 1 < std::size(units)) {
    bytes /= 1000;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", bytes, units[unit]);
  return text;
}

std::string describe_plan(const Report& r) {
  const LoadPlan& p = r.plan;
  std::string text = p.rate > 0 ? "constant rate of " + group_digits(static_cast<std::uint64_t>(p.rate)) +
                                      " req/s (latency from when each request was due)"
                                : std::string("closed loop");
  text += ", " + group_digits(p.connections) + (p.connections == 1 ? " connection" : " connections");
  text += " on " + std::to_string(p.threads) + (p.threads == 1 ? " thread" : " threads");
  if (p.requests) text += ", " + group_digits(*p.requests) + " requests";
  if (p.duration) {
    char d[32];
    std::snprintf(d, sizeof d, ", %g s", std::chrono::duration<double>(*p.duration).count());
    text += d;
  }
  return text;
}

}  // namespace

std::string group_digits(std::uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string grouped;
  grouped.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  return grouped;
}

std::string format_latency(std::uint64_t nanoseconds) {
  char text[32];
  const auto ns = static_cast<double>(nanoseconds);
  if (ns < 1e3) {
    std::snprintf(text, sizeof text, "%.0f ns", ns);
  } else if (ns < 1e6) {
    std::snprintf(text, sizeof text, ns < 1e4 ? "%.2f µs" : ns < 1e5 ? "%.1f µs" : "%.0f µs", ns / 1e3);
  } else if (ns < 1e9) {
    std::snprintf(text, sizeof text, ns < 1e7 ? "%.2f ms" : ns < 1e8 ? "%.1f ms" : "%.0f ms", ns / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.2f s", ns / 1e9);
  }
  return text;
}

double Report::seconds() const noexcept { return std::chrono::duration<double>(result.elapsed).count(); }

double Report::requests_per_second() const noexcept {
  const double s = seconds();
  return s > 0 ? static_cast<double>(result.responses) / s : 0.0;
}

void print_text(std::FILE* out, const Report& r) {
  const LoadResult& res = r.result;
  const LatencyHistogram& h = res.latency;
  std::fprintf(out, "coring-bench  %s\n  %s\n\n", r.url.c_str(), describe_plan(r).c_str());
  const std::string rate = group_digits(static_cast<std::uint64_t>(std::llround(r.requests_per_second()))) + " req/s";
  const std::string throughput =
      format_bytes(r.seconds() > 0 ? static_cast<double>(res.bytes_read) / r.seconds() : 0) + "/s";
  std::fprintf(out, "  requests   %-16s (%s in %.2f s)\n", rate.c_str(), group_digits(res.responses).c_str(), r.seconds());
  std::fprintf(out, "  received   %-16s (%s)\n", throughput.c_str(), format_bytes(static_cast<double>(res.bytes_read)).c_str());
  if (r.plan.tls) {
    std::fprintf(out, "  connects   %s, TLS sessions resumed %s\n", group_digits(res.connects).c_str(),
                 group_digits(res.tls_resumed).c_str());
  } else {
    std::fprintf(out, "  connects   %s\n", group_digits(res.connects).c_str());
  }
  if (h.count() > 0) {
    std::fprintf(out, "  latency    mean %s, stddev %s, min %s\n            ",
                 format_latency(static_cast<std::uint64_t>(h.mean())).c_str(),
                 format_latency(static_cast<std::uint64_t>(h.stddev())).c_str(), format_latency(h.min()).c_str());
    for (const Percentile& p : percentiles)
      std::fprintf(out, "%s %s   ", p.label, format_latency(h.value_at_percentile(p.value)).c_str());
    std::fprintf(out, "max %s\n", format_latency(h.max()).c_str());
  }
  std::string statuses;
  for (std::size_t code = 0; code < res.statuses.size(); ++code)
    if (res.statuses[code] > 0)
      statuses += (statuses.empty() ? "" : ", ") + std::to_string(code) + " x " + group_digits(res.statuses[code]);
  std::fprintf(out, "  status     %s\n", statuses.empty() ? "none" : statuses.c_str());
  bool any_error = false;
  for (std::size_t k = 0; k < error_kinds; ++k) {
    if (res.errors[k] == 0) continue;
    std::fprintf(out, "  %-10s %s %s (first: %s)\n", any_error ? "" : "errors", group_digits(res.errors[k]).c_str(),
                 error_kind_name(static_cast<ErrorKind>(k)), res.first_error[k].c_str());
    any_error = true;
  }
  if (!any_error) std::fprintf(out, "  errors     none\n");
  if (!r.aborted.empty()) std::fprintf(out, "\n  stopped early: %s\n", r.aborted.c_str());
}

std::string to_json(const Report& r) {
  using nlohmann::json;
  const LoadResult& res = r.result;
  const LatencyHistogram& h = res.latency;
  const auto us = [](double ns) { return std::round(ns / 10.0) / 100.0; };  // microseconds, 2 decimals
  json latency = {{"mean", us(h.mean())},
                  {"stddev", us(h.stddev())},
                  {"min", us(static_cast<double>(h.min()))},
                  {"max", us(static_cast<double>(h.max()))}};
  for (const Percentile& p : percentiles) latency[p.json_name] = us(static_cast<double>(h.value_at_percentile(p.value)));
  json statuses = json::object();
  for (std::size_t code = 0; code < res.statuses.size(); ++code)
    if (res.statuses[code] > 0) statuses[std::to_string(code)] = res.statuses[code];
  json errors = json::object();
  json messages = json::object();
  for (std::size_t k = 0; k < error_kinds; ++k) {
    const std::string name = k == static_cast<std::size_t>(ErrorKind::status) ? "status" : error_kind_name(static_cast<ErrorKind>(k));
    errors[name] = res.errors[k];
    if (!res.first_error[k].empty()) messages[name] = res.first_error[k];
  }
  json out = {
      {"url", r.url},
      {"connections", r.plan.connections},
      {"threads", r.plan.threads},
      {"rate", r.plan.rate > 0 ? json(r.plan.rate) : json(nullptr)},
      {"duration_sec", r.seconds()},
      {"requests", res.responses},
      {"requests_per_sec", r.requests_per_second()},
      {"bytes", res.bytes_read},
      {"bytes_per_sec", r.seconds() > 0 ? static_cast<double>(res.bytes_read) / r.seconds() : 0.0},
      {"connects", res.connects},
      {"connects_per_sec", r.seconds() > 0 ? static_cast<double>(res.connects) / r.seconds() : 0.0},
      {"tls_resumed", res.tls_resumed},
      {"latency_us", latency},
      {"status_codes", statuses},
      {"errors", errors},
      {"error_messages", messages},
      {"aborted", r.aborted.empty() ? json(nullptr) : json(r.aborted)},
  };
  return out.dump(2) + "\n";
}

std::string to_svg(const Report& r) {
  // The percentile spectrum, as HdrHistogram plots it: x is log10(1/(1-p)),
  // so 90%, 99%, 99.9%... are evenly spaced and the tail gets the room.
  const LatencyHistogram& h = r.result.latency;
  constexpr double width = 800, height = 480, left = 80, right = 30, top = 50, bottom = 60;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  const double nines = std::clamp(std::floor(std::log10(std::max<double>(10, static_cast<double>(h.count())))), 1.0, 6.0);
  const double max_ms = std::max(1e-3, static_cast<double>(h.max()) / 1e6) * 1.05;
  const auto x_of = [&](double n) { return left + plot_w * n / nines; };
  const auto y_of = [&](double ms) { return top + plot_h * (1 - ms / max_ms); };
  auto escape = [](const std::string& s) {
    std::string out;
    for (char c : s) out += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
    return out;
  };
  char buf[256];
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"800\" height=\"480\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  std::snprintf(buf, sizeof buf, "<text x=\"%g\" y=\"22\" font-size=\"15\">Latency by percentile: ", left);
  svg += buf + escape(r.url) + "</text>\n";
  std::snprintf(buf, sizeof buf, "<text x=\"%g\" y=\"40\" fill=\"#555\">", left);
  svg += buf + escape(describe_plan(r) + ", " + group_digits(h.count()) + " responses") + "</text>\n";
  for (int i = 0; i <= 5; ++i) {  // y grid, in ms
    const double ms = max_ms * i / 5;
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%g\" x2=\"%g\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                  "<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%.3g ms</text>\n",
                  left, width - right, y_of(ms), y_of(ms), left - 6, y_of(ms) + 4, ms);
    svg += buf;
  }
  for (int n = 0; n <= static_cast<int>(nines); ++n) {  // x grid: 0%, 90%, 99%...
    const double p = 100 * (1 - std::pow(10.0, -n));
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%g\" y2=\"%g\" stroke=\"#ddd\"/>"
                  "<text x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%.*f%%</text>\n",
                  x_of(n), x_of(n), top, height - bottom, x_of(n), height - bottom + 18, n <= 2 ? 0 : n - 2, p);
    svg += buf;
  }
  std::snprintf(buf, sizeof buf, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">percentile</text>\n",
                left + plot_w / 2, height - 15);
  svg += buf;
  std::string points;
  for (double n = 0; n <= nines + 1e-9; n += 0.02) {
    const double ms = static_cast<double>(h.value_at_percentile(100 * (1 - std::pow(10.0, -n)))) / 1e6;
    std::snprintf(buf, sizeof buf, "%.1f,%.1f ", x_of(n), y_of(ms));
    points += buf;
  }
  svg += "<polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2\" points=\"" + points + "\"/>\n</svg>\n";
  return svg;
}

}  // namespace coring::bench
