#pragma once
// The public suffix list (publicsuffix.org) through libpsl, the one file that
// includes <libpsl.h>: which names are registries ("com", "co.uk",
// "github.io") under which unrelated sites live.
#include <string_view>

namespace coring::http::detail {

/// Whether `domain` (lower-case, no leading dot) is a public suffix. A name
/// under no listed suffix is one too (the list's implicit "*" rule: "test",
/// "localhost"), as libpsl, curl and Go's cookiejar have it. True also when
/// no list could be loaded: then nothing shows that a domain is one site's.
[[nodiscard]] bool is_public_suffix(std::string_view domain);

/// The registrable part of `domain` (one label more than its public suffix:
/// "example.co.uk" for "a.b.example.co.uk"), a suffix of `domain`; empty when
/// `domain` is a public suffix itself, or no list could be loaded.
/// Meaningless for an IP literal: the caller keeps those apart.
[[nodiscard]] std::string_view registrable_domain(std::string_view domain);

}  // namespace coring::http::detail
