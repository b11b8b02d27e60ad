#pragma once
// A fresh directory under the system temp dir (/tmp), removed with all its
// contents when the object is destroyed.
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace test_support {

class TempDir {
 public:
  /// Creates TMPDIR/`prefix`XXXXXX, mode 0755 (mkdtemp gives 0700, which
  /// would lock out a server that drops privileges). Throws std::system_error.
  explicit TempDir(std::string_view prefix) {
    std::string name = (std::filesystem::temp_directory_path() / (std::string(prefix) + "XXXXXX")).string();
    if (::mkdtemp(name.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp " + name);
    path_ = name;
    ::chmod(path_.c_str(), 0755);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace test_support
