#pragma once
// A throwaway PKI for TLS tests, made with the openssl command-line tool in a
// fresh temp dir under /tmp (removed by the destructor). All keys are EC
// P-256. Signed by the test CA ("coring test CA", CA:TRUE, 10 years):
//   valid        CN localhost; SAN DNS:localhost, IP:127.0.0.1, IP:::1;
//                serverAuth; valid from now for a year
//   expired      as `valid`, but valid only from 2000-01-01 to 2001-01-01
//   wrong_host   CN wrong.example; SAN DNS:wrong.example only (no IPs)
//   client       CN "coring test client"; clientAuth
// Not signed by the CA:
//   self_signed  CN localhost; SAN DNS:localhost, IP:127.0.0.1; its own issuer
#include <array>
#include <filesystem>
#include <string>
#include <string_view>

#include "temp_dir.hpp"

namespace test_support {

class TestCertificates {
 public:
  /// Every name cert() and key() accept.
  /// partial_wildcard names only "w*.coring.test" (valid for www.coring.test
  /// where partial wildcards are allowed, as OpenSSL does by default).
  static constexpr std::array<std::string_view, 6> names = {"valid",       "expired", "wrong_host",
                                                            "self_signed", "client",  "partial_wildcard"};

  /// Generates the CA and every certificate (nine openssl runs).
  /// Throws std::runtime_error naming the openssl command
  /// and its stderr if one fails, or if openssl is not installed.
  TestCertificates();
  ~TestCertificates() = default;
  TestCertificates(const TestCertificates&) = delete;
  TestCertificates& operator=(const TestCertificates&) = delete;

  /// The CA certificate (PEM), for CAfile / --cacert / ssl_client_certificate.
  [[nodiscard]] std::string ca_file() const;
  /// The CA's private key (PEM), to sign more certificates in a test.
  [[nodiscard]] std::string ca_key() const;
  /// A directory holding only the CA certificate under its subject-hash name
  /// (`openssl rehash`), for OpenSSL's CApath / SSL_CTX_load_verify_dir.
  [[nodiscard]] std::string ca_dir() const;
  /// The certificate (PEM) named `name`, one of `names`; std::invalid_argument otherwise.
  [[nodiscard]] std::string cert(std::string_view name) const;
  /// Its private key (PEM, unencrypted PKCS#8).
  [[nodiscard]] std::string key(std::string_view name) const;
  /// The directory everything lives in.
  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_.path(); }

 private:
  [[nodiscard]] std::filesystem::path file(std::string_view name, std::string_view extension) const;

  TempDir dir_;
};

}  // namespace test_support
