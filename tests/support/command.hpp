#pragma once
// Runs a program to its end and collects what it printed: the tests' way to
// call the openssl and curl command-line tools.
#include <chrono>
#include <string>
#include <vector>

namespace test_support {

struct CommandResult {
  /// The exit status; 128 + N if signal N killed it (as a shell reports it).
  int exit_code = -1;
  std::string out;  ///< everything it wrote to stdout
  std::string err;  ///< everything it wrote to stderr
};

struct CommandOptions {
  /// What the command reads on stdin, then EOF.
  std::string input = {};
  /// Killed after this long, and run_command throws.
  std::chrono::milliseconds limit = std::chrono::seconds(30);
};

/// Runs argv[0] (looked up in PATH) with `argv` and waits for it. Throws
/// std::runtime_error if it cannot be started, or if it has not finished
/// within options.limit (it is killed first). A non-zero exit is not an
/// error here: the caller decides.
CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& options = {});

/// Like run_command, but a non-zero exit throws std::runtime_error with the
/// command line and its stderr. Returns its stdout.
std::string check_command(const std::vector<std::string>& argv, const CommandOptions& options = {});

/// `argv` joined by spaces, for messages.
std::string command_line(const std::vector<std::string>& argv);

}  // namespace test_support
