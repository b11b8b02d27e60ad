// When io_uring cannot be had, the loop says why and what to do. A forked
// child installs a seccomp filter that refuses io_uring_setup, as container
// runtimes do, and tries to make a loop. Skipped (exit 77) where a process
// cannot install a seccomp filter.
#include <doctest/doctest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <coring/coring.hpp>
#include <cstring>
#include <string>

#include "../support/requirement.hpp"

namespace {

bool refuse_io_uring_setup(int error) {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<unsigned>(error) & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

/// The message the loop's constructor gives in a child where io_uring_setup
/// fails with `error`.
std::string loop_error_under(int error) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    std::string message = "no error";
    if (!refuse_io_uring_setup(error)) {
      message = "seccomp unavailable";
    } else {
      try {
        coring::EventLoop loop;
      } catch (const coring::RuntimeError& e) {
        message = e.what();
      }
    }
    [[maybe_unused]] auto n = write(fds[1], message.data(), message.size());
    _exit(0);
  }
  close(fds[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;) message.append(buffer, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return message;
}

}  // namespace

std::optional<std::string> test_support::missing_requirement() {
  const pid_t pid = fork();
  if (pid < 0) return "fork failed: " + std::string(std::strerror(errno));
  if (pid == 0) _exit(refuse_io_uring_setup(ENOSYS) ? 0 : 1);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  return "this process cannot install a seccomp filter (PR_SET_NO_NEW_PRIVS or PR_SET_SECCOMP refused)";
}

TEST_CASE("a seccomp filter that blocks io_uring gives an error naming seccomp") {
  const std::string message = loop_error_under(ENOSYS);
  CHECK(message.find("io_uring is unavailable") != std::string::npos);
  CHECK(message.find("seccomp") != std::string::npos);
}

TEST_CASE("a refused permission gives an error that says what to change") {
  const std::string message = loop_error_under(EPERM);
  CHECK(message.find("io_uring is unavailable") != std::string::npos);
  const bool names_a_fix = message.find("io_uring_disabled") != std::string::npos ||
                           message.find("seccomp") != std::string::npos;
  CHECK(names_a_fix);
}

TEST_CASE("too little locked memory gives an error naming RLIMIT_MEMLOCK") {
  const std::string message = loop_error_under(ENOMEM);
  CHECK(message.find("RLIMIT_MEMLOCK") != std::string::npos);
}

