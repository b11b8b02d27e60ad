// The public suffix list through libpsl (the one file that includes it):
// loaded once, asked which domains are suffixes and which registrable.
#include "public_suffix.hpp"

#include <libpsl.h>

#include <memory>
#include <string>

namespace coring::http::detail {

namespace {

struct FreeList {
  void operator()(psl_ctx_t* list) const noexcept { psl_free(list); }
};

/// Loaded once per process, when first needed. psl_latest(NULL) takes the
/// newer of the distribution's list (Debian's publicsuffix package, which
/// apt keeps current without rebuilding libpsl or us) and the copy built into
/// libpsl, falling back on the latter when the file is missing: curl's choice.
/// psl_builtin() alone would freeze the list at libpsl's build, and suffixes
/// are added every month. Null when neither exists. Unlike curl, the file is
/// not read again every 24 hours: a new list takes a new process.
const psl_ctx_t* list() {
  static const std::unique_ptr<psl_ctx_t, FreeList> latest(psl_latest(nullptr));
  return latest.get();
}

}  // namespace

bool is_public_suffix(std::string_view domain) {
  const psl_ctx_t* psl = list();
  // A NUL would cut the name libpsl sees short of the one compared.
  if (psl == nullptr || domain.empty() || domain.find('\0') != std::string_view::npos) return true;
  return psl_is_public_suffix(psl, std::string(domain).c_str()) != 0;
}

std::string_view registrable_domain(std::string_view domain) {
  const psl_ctx_t* psl = list();
  if (psl == nullptr || domain.find('\0') != std::string_view::npos) return {};
  const std::string name(domain);
  const char* registrable = psl_registrable_domain(psl, name.c_str());
  if (registrable == nullptr) return {};
  return domain.substr(static_cast<std::size_t>(registrable - name.c_str()));
}

}  // namespace coring::http::detail
