// Starting, configuring and stopping a test nginx (nginx.hpp says how).
#include "nginx.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include <coring/http/server.hpp>

#ifndef CORING_NGINX_DATA
#error "CORING_NGINX_DATA must name tests/data/nginx (set in tests/meson.build)"
#endif

namespace test_support {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* nginx_binary = "/usr/sbin/nginx";
constexpr int start_attempts = 5;
constexpr auto start_limit = 5s;
constexpr auto stop_limit = 5s;
constexpr auto poll_step = 10ms;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/// `n` distinct ports the kernel just handed out on 127.0.0.1 (each socket
/// stays bound until all are chosen, so no two are the same). Someone may
/// take one before nginx binds it; then nginx exits and the caller tries again.
std::vector<std::uint16_t> free_ports(std::size_t n) {
  std::vector<int> fds;
  std::vector<std::uint16_t> ports;
  const auto close_all = [&] {
    for (const int fd : fds) ::close(fd);
  };
  while (ports.size() < n) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      const int e = errno;
      close_all();
      throw std::system_error(e, std::generic_category(), "socket");
    }
    fds.push_back(fd);
    sockaddr_in a = loopback(0);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      const int e = errno;
      close_all();
      throw std::system_error(e, std::generic_category(), "binding 127.0.0.1:0");
    }
    ports.push_back(ntohs(a.sin_port));
  }
  close_all();
  return ports;
}

bool accepts_connections(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const sockaddr_in a = loopback(port);
  // On loopback a blocking connect is answered at once: accepted or refused.
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

/// True once `pid` has exited (and reaped it).
bool exited(pid_t pid, int& status) {
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r == 0) return false;
    if (errno != EINTR) return true;  // ECHILD: not ours to wait for any more
  }
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by ") + ::strsignal(WTERMSIG(status));
  return "ended";
}

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
}

std::string read_template(std::string_view name) {
  const fs::path path = fs::path(CORING_NGINX_DATA) / name;
  std::string text = read_file(path);
  if (text.empty()) throw std::runtime_error("cannot read " + path.string());
  return text;
}

/// nginx itself would only fail at startup, its error buried in the log:
/// name the missing file up front.
void require_file(const std::string& path, std::string_view what) {
  if (path.empty() || !fs::is_regular_file(path))
    throw std::runtime_error("NginxTLS: " + std::string(what) + " \"" + path + "\" is not a file");
}

}  // namespace

// ---- Process ----

void Nginx::Process::stop() noexcept {
  if (pid <= 0) return;
  int status = 0;
  if (!exited(pid, status)) {
    ::kill(pid, SIGTERM);  // single process: its fast shutdown
    const auto give_up = Clock::now() + stop_limit;
    bool gone = false;
    while (!(gone = exited(pid, status)) && Clock::now() < give_up) std::this_thread::sleep_for(poll_step);
    if (!gone) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  pid = -1;
}

// ---- Nginx ----

Nginx::Nginx() { start(); }

Nginx::Nginx(NginxTLS tls) : tls_(std::move(tls)) {
  require_file(tls_->cert_file, "cert_file");
  require_file(tls_->key_file, "key_file");
  if (!tls_->client_ca_file.empty()) require_file(tls_->client_ca_file, "client_ca_file");
  start();
}

void Nginx::start() {
  if (::access(nginx_binary, X_OK) != 0)
    throw std::runtime_error(std::string(nginx_binary) + " is missing (" + std::strerror(errno) +
                             "): these tests need nginx; install the Debian package nginx-light "
                             "(scripts/setup.sh does)");
  prepare_root();
  std::string why;
  for (int attempt = 1; attempt <= start_attempts; ++attempt) {
    if (try_start(why)) return;
    // Another process took a port between free_ports() and nginx's bind:
    // try another. Anything else (a bad config) will not get better.
    if (why.find("Address already in use") == std::string::npos)
      throw std::runtime_error("nginx did not start: " + why);
  }
  throw std::runtime_error("nginx did not start in " + std::to_string(start_attempts) + " tries; last: " + why);
}

Nginx::~Nginx() = default;

std::string Nginx::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

std::string Nginx::tls_url(std::string_view path) const {
  if (tls_port_ == 0) throw std::logic_error("Nginx::tls_url: this nginx was started without NginxTLS");
  return "https://127.0.0.1:" + std::to_string(tls_port_) + std::string(path);
}

std::string Nginx::tls_localhost_url(std::string_view path) const {
  if (tls_port_ == 0) throw std::logic_error("Nginx::tls_localhost_url: this nginx was started without NginxTLS");
  return "https://localhost:" + std::to_string(tls_port_) + std::string(path);
}

std::string Nginx::client_cert_url(std::string_view path) const {
  if (client_cert_port_ == 0)
    throw std::logic_error("Nginx::client_cert_url: this nginx was started without NginxTLS::client_ca_file");
  return "https://127.0.0.1:" + std::to_string(client_cert_port_) + std::string(path);
}

std::string Nginx::file(std::string_view name) const {
  const fs::path path = dir_.path() / "www" / name;
  if (!fs::exists(path)) throw std::runtime_error("no file " + path.string() + " in nginx's document root");
  return read_file(path);
}

void Nginx::prepare_root() const {
  const fs::path data = CORING_NGINX_DATA;
  const fs::path www = dir_.path() / "www";
  fs::create_directories(www);
  fs::create_directories(dir_.path() / "tmp");
  for (const auto& entry : fs::directory_iterator(data)) {
    if (!entry.is_regular_file() || entry.path().extension() == ".in") continue;
    fs::copy_file(entry.path(), www / entry.path().filename());
  }
  if (!fs::exists(www / "small.txt"))
    throw std::runtime_error("no small.txt in " + data.string() + ": is CORING_NGINX_DATA right?");
  write_file(www / "big.bin", coring::http::pattern_bytes(std::size_t{1} << 20));
  write_file(www / "part.txt", coring::http::pattern_bytes(100000));
  fs::permissions(www, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
}

void Nginx::write_config() const {
  const fs::path& dir = dir_.path();
  std::string main = read_template("nginx.conf.in");
  replace_all(main, "@PORT@", std::to_string(port_));
  write_file(dir / "nginx.conf", main);
  write_file(dir / "routes.conf", read_template("routes.conf.in"));
  // nginx.conf includes servers/*.conf; an empty directory adds nothing.
  const fs::path servers = dir / "servers";
  std::error_code ignored;
  fs::remove_all(servers, ignored);
  fs::create_directories(servers);
  if (!tls_) return;
  const auto render = [&](std::string_view name, std::uint16_t port) {
    std::string text = read_template(std::string(name) + ".in");
    replace_all(text, "@PORT@", std::to_string(port));
    replace_all(text, "@CERT@", fs::absolute(tls_->cert_file).string());
    replace_all(text, "@KEY@", fs::absolute(tls_->key_file).string());
    if (!tls_->client_ca_file.empty()) replace_all(text, "@CLIENT_CA@", fs::absolute(tls_->client_ca_file).string());
    write_file(servers / name, text);
  };
  render("https.conf", tls_port_);
  if (client_cert_port_ != 0) render("https_client_cert.conf", client_cert_port_);
}

bool Nginx::try_start(std::string& why) {
  const bool client_certs = tls_ && !tls_->client_ca_file.empty();
  const auto ports = free_ports(client_certs ? 3 : tls_ ? 2 : 1);
  port_ = ports[0];
  tls_port_ = ports.size() > 1 ? ports[1] : 0;
  client_cert_port_ = ports.size() > 2 ? ports[2] : 0;
  const std::uint16_t port = port_;
  write_config();
  const fs::path conf = dir_.path() / "nginx.conf";
  std::error_code ignored;
  for (const char* stale : {"nginx.pid", "error.log", "stderr.log"}) fs::remove(dir_.path() / stale, ignored);

  const std::string prefix = dir_.path().string() + "/";
  const std::string conf_path = conf.string();
  const std::string error_log = (dir_.path() / "error.log").string();
  const std::string stderr_log = (dir_.path() / "stderr.log").string();
  std::vector<std::string> args = {nginx_binary, "-p", prefix, "-c", conf_path, "-e", error_log};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    // Only async-signal-safe calls until exec. If the test dies, so does nginx.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open(stderr_log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in >= 0) ::dup2(in, 0);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    ::execv(nginx_binary, argv.data());
    ::_exit(127);
  }
  process_.pid = pid;

  // Ready when the port accepts and nginx has written its pid file, which it
  // does after binding all its listeners (an unbindable one makes it exit):
  // a connect that some other process answered on a port nginx failed to
  // bind does not count.
  const auto give_up = Clock::now() + start_limit;
  const std::string pid_text = std::to_string(pid) + "\n";
  while (Clock::now() < give_up) {
    int status = 0;
    if (exited(pid, status)) {
      process_.pid = -1;
      why = "nginx on 127.0.0.1:" + std::to_string(port) + " " + describe(status) + "; " + logs();
      return false;
    }
    if (accepts_connections(port) && read_file(dir_.path() / "nginx.pid") == pid_text) return true;
    std::this_thread::sleep_for(poll_step);
  }
  process_.stop();
  why = "nginx did not accept connections on 127.0.0.1:" + std::to_string(port) + " within 5 s; " + logs();
  return false;
}

std::string Nginx::logs() const {
  return "stderr: [" + read_file(dir_.path() / "stderr.log") + "] error.log: [" + read_file(dir_.path() / "error.log") +
         "]";
}

}  // namespace test_support
