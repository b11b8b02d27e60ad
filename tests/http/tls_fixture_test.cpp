// The TLS test fixtures checked on their own, with the openssl and curl
// command-line tools rather than coring's TLS client: each certificate of
// TestCertificates (tests/support/tls_certs.hpp) passes or fails
// verification exactly as its name says, and Nginx(NginxTLS)
// (tests/support/nginx.hpp) serves its routes over HTTPS with them: TLS 1.2
// and 1.3 only, sessions resumed, client certificates required on its third
// port.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "../support/command.hpp"
#include "../support/nginx.hpp"
#include "../support/tls_certs.hpp"

using test_support::CommandResult;
using test_support::Nginx;
using test_support::NginxTLS;
using test_support::run_command;
using test_support::TestCertificates;

namespace {

namespace fs = std::filesystem;

/// One set for the whole file: the tests only read it.
const TestCertificates& certs() {
  static const TestCertificates certificates;
  return certificates;
}

CommandResult openssl(std::vector<std::string> args, std::string input = {}) {
  args.insert(args.begin(), "openssl");
  test_support::CommandOptions options{.input = std::move(input)};
  return run_command(args, options);
}

/// `openssl verify` of `name` against the test CA, plus `extra` options.
/// Its verdict goes to stdout, the reason for a failure to stderr: both
/// come back in `out`.
CommandResult verify(const std::string& name, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"verify", "-CAfile", certs().ca_file()};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(certs().cert(name));
  CommandResult r = openssl(std::move(args));
  r.out += r.err;
  return r;
}

/// curl with a 10 s limit; the body (or whatever -o/-w make of it) in `out`.
CommandResult curl(std::vector<std::string> args) {
  args.insert(args.begin(), {"curl", "--silent", "--show-error", "--max-time", "10"});
  return run_command(args);
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

/// Checks that `openssl verify` of `name`, with `extra` options, fails and
/// says `reason`.
void check_refused(const std::string& name, std::vector<std::string> extra, std::string_view reason) {
  const CommandResult r = verify(name, std::move(extra));
  INFO(name, ": ", r.out);
  CHECK(r.exit_code != 0);
  CHECK(contains(r.out, reason));
}

NginxTLS nginx_tls(bool client_certs) {
  NginxTLS tls{.cert_file = certs().cert("valid"), .key_file = certs().key("valid")};
  if (client_certs) tls.client_ca_file = certs().ca_file();
  return tls;
}

}  // namespace

TEST_CASE("TestCertificates writes every file into a temp dir, quickly, and removes it when destroyed") {
  fs::path dir;
  {
    const auto start = std::chrono::steady_clock::now();
    const TestCertificates fresh;
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    MESSAGE("generating the CA and 5 certificates took " << took.count() << " ms");
    CHECK(took < std::chrono::seconds(5));
    dir = fresh.dir();
    CHECK(dir.parent_path() == fs::temp_directory_path());
    std::vector<std::string> files = {fresh.ca_file(), fresh.ca_key()};
    for (const auto name : TestCertificates::names) {
      files.push_back(fresh.cert(name));
      files.push_back(fresh.key(name));
    }
    for (const auto& f : files) {
      INFO(f);
      CHECK(fs::path(f).parent_path() == dir);
      CHECK(fs::file_size(f) > 0);
    }
    CHECK_THROWS_AS((void)fresh.cert("localhost"), std::invalid_argument);
    CHECK(fs::exists(dir));
  }
  CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("every key is EC P-256 and belongs to its certificate") {
  std::vector<std::pair<std::string, std::string>> pairs = {{certs().ca_file(), certs().ca_key()}};
  for (const auto name : TestCertificates::names) pairs.emplace_back(certs().cert(name), certs().key(name));
  for (const auto& [cert, key] : pairs) {
    INFO(cert);
    const CommandResult from_cert = openssl({"x509", "-in", cert, "-noout", "-pubkey"});
    const CommandResult from_key = openssl({"pkey", "-in", key, "-pubout"});
    REQUIRE(from_cert.exit_code == 0);
    REQUIRE(from_key.exit_code == 0);
    CHECK(contains(from_cert.out, "BEGIN PUBLIC KEY"));
    CHECK(from_cert.out == from_key.out);
    const CommandResult text = openssl({"pkey", "-in", key, "-noout", "-text"});
    CHECK(contains(text.out, "prime256v1"));
  }
}

TEST_CASE("the CA is a CA, and a CApath directory finds it by subject hash") {
  const CommandResult constraints = openssl({"x509", "-in", certs().ca_file(), "-noout", "-ext", "basicConstraints"});
  CHECK(constraints.exit_code == 0);
  CHECK(contains(constraints.out, "CA:TRUE"));
  const CommandResult hash = openssl({"x509", "-in", certs().ca_file(), "-noout", "-subject_hash"});
  REQUIRE(hash.exit_code == 0);
  const std::string link = hash.out.substr(0, hash.out.find('\n')) + ".0";
  CHECK(fs::exists(fs::path(certs().ca_dir()) / link));

  // Only the directory: no CAfile, not the system store.
  const std::vector<std::string> args = {"verify", "-no-CAfile", "-no-CAstore", "-CApath", certs().ca_dir()};
  auto with = [&](std::string name) {
    auto all = args;
    all.push_back(certs().cert(name));
    return openssl(all);
  };
  CHECK(with("valid").exit_code == 0);
  CHECK(with("self_signed").exit_code != 0);
}

TEST_CASE("the valid certificate verifies for localhost, 127.0.0.1 and ::1, and for no other name") {
  for (const std::vector<std::string>& name : std::vector<std::vector<std::string>>{
           {"-verify_hostname", "localhost"}, {"-verify_ip", "127.0.0.1"}, {"-verify_ip", "::1"}}) {
    auto args = name;
    args.insert(args.begin(), {"-purpose", "sslserver"});
    const CommandResult r = verify("valid", args);
    INFO(name[1], ": ", r.out);
    CHECK(r.exit_code == 0);
    CHECK(contains(r.out, "valid.pem: OK"));
  }
  check_refused("valid", {"-verify_hostname", "example.com"}, "hostname mismatch");
}

TEST_CASE("the partial_wildcard certificate verifies for www.coring.test with OpenSSL's default flags") {
  // So a client that refuses it does so by its own stricter rule (no partial
  // wildcards, as curl and browsers), not for another fault of the certificate.
  const CommandResult r = verify("partial_wildcard", {"-verify_hostname", "www.coring.test"});
  INFO(r.out);
  CHECK(r.exit_code == 0);
  CHECK(verify("partial_wildcard", {"-verify_hostname", "x.coring.test"}).exit_code != 0);
}

TEST_CASE("the expired certificate fails with 'certificate has expired' and nothing else") {
  check_refused("expired", {"-verify_hostname", "localhost"}, "certificate has expired");
  // Entirely in the past: not merely expiring now.
  const CommandResult dates = openssl({"x509", "-in", certs().cert("expired"), "-noout", "-dates"});
  CHECK(dates.out == "notBefore=Jan  1 00:00:00 2000 GMT\nnotAfter=Jan  1 00:00:00 2001 GMT\n");
  // With the clock out of it, the same certificate verifies.
  const CommandResult timeless = verify("expired", {"-no_check_time", "-verify_hostname", "localhost"});
  INFO(timeless.out);
  CHECK(timeless.exit_code == 0);
}

TEST_CASE("the wrong_host certificate is the CA's but names only wrong.example") {
  CHECK(verify("wrong_host").exit_code == 0);
  CHECK(verify("wrong_host", {"-verify_hostname", "wrong.example"}).exit_code == 0);
  check_refused("wrong_host", {"-verify_hostname", "localhost"}, "hostname mismatch");
  check_refused("wrong_host", {"-verify_ip", "127.0.0.1"}, "IP address mismatch");
}

TEST_CASE("the self-signed certificate fails against the CA and passes against itself") {
  check_refused("self_signed", {"-verify_hostname", "localhost"}, "self-signed certificate");
  const CommandResult own = openssl({"verify", "-CAfile", certs().cert("self_signed"), "-verify_hostname",
                                     "localhost", "-verify_ip", "127.0.0.1", certs().cert("self_signed")});
  INFO(own.out, own.err);
  CHECK(own.exit_code == 0);
}

TEST_CASE("the client certificate is the CA's, for client authentication only") {
  const CommandResult client = verify("client", {"-purpose", "sslclient"});
  INFO(client.out);
  CHECK(client.exit_code == 0);
  check_refused("client", {"-purpose", "sslserver"}, "unsuitable certificate purpose");
}

TEST_CASE("an Nginx without NginxTLS has no TLS listener, and NginxTLS needs files that exist") {
  Nginx plain;
  CHECK(plain.tls_port() == 0);
  CHECK(plain.client_cert_port() == 0);
  CHECK_THROWS_AS((void)plain.tls_url("/small"), std::logic_error);
  CHECK_THROWS_AS((void)plain.client_cert_url("/small"), std::logic_error);
  NginxTLS missing{.cert_file = certs().cert("valid"), .key_file = "/nonexistent/valid.key"};
  CHECK_THROWS_WITH_AS(Nginx{missing}, doctest::Contains("/nonexistent/valid.key"), std::runtime_error);
}

TEST_CASE("nginx with NginxTLS serves the same routes over HTTPS, verified as localhost and 127.0.0.1") {
  Nginx nginx(nginx_tls(false));
  REQUIRE(nginx.tls_port() != 0);
  CHECK(nginx.tls_port() != nginx.port());
  CHECK(nginx.client_cert_port() == 0);
  CHECK(nginx.tls_url("/small") == "https://127.0.0.1:" + std::to_string(nginx.tls_port()) + "/small");
  CHECK(nginx.tls_localhost_url("/small") == "https://localhost:" + std::to_string(nginx.tls_port()) + "/small");
  const std::string ca = certs().ca_file();

  for (const std::string& url : {nginx.tls_localhost_url("/small"), nginx.tls_url("/small")}) {
    const CommandResult r = curl({"--cacert", ca, url});
    INFO(url, ": ", r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out == nginx.file("small.txt"));
  }
  const CommandResult big = curl({"--cacert", ca, nginx.tls_url("/big")});
  CHECK(big.exit_code == 0);
  CHECK(big.out == nginx.file("big.bin"));
  const CommandResult redirect = curl({"--cacert", ca, "--location", nginx.tls_url("/redirect")});
  CHECK(redirect.out == nginx.file("small.txt"));
  // The plain listener is unchanged.
  CHECK(curl({nginx.url("/small")}).out == nginx.file("small.txt"));

  // 60: the peer's certificate could not be verified (not the system's CA).
  CHECK(curl({nginx.tls_url("/small")}).exit_code == 60);
}

TEST_CASE("nginx speaks TLS 1.2 and 1.3 and refuses TLS 1.1") {
  Nginx nginx(nginx_tls(false));
  const std::string ca = certs().ca_file();
  const std::string url = nginx.tls_url("/small");
  CHECK(curl({"--cacert", ca, "--tlsv1.3", url}).exit_code == 0);
  CHECK(curl({"--cacert", ca, "--tlsv1.2", "--tls-max", "1.2", url}).exit_code == 0);
  // OpenSSL 3's default security level forbids TLS 1.1 in curl itself:
  // level 0 lets it ask, so the refusal is nginx's. 35: handshake failed.
  const CommandResult old =
      curl({"--cacert", ca, "--tlsv1.1", "--tls-max", "1.1", "--ciphers", "DEFAULT@SECLEVEL=0", url});
  INFO(old.err);
  CHECK(old.exit_code == 35);
}

TEST_CASE("nginx resumes TLS 1.2 sessions from its cache, issues tickets, and resumes TLS 1.3 sessions") {
  Nginx nginx(nginx_tls(false));
  const std::string address = "127.0.0.1:" + std::to_string(nginx.tls_port());

  // TLS 1.2 without tickets: only the server's session cache can resume.
  const CommandResult tls12 =
      openssl({"s_client", "-connect", address, "-CAfile", certs().ca_file(), "-tls1_2", "-no_ticket", "-reconnect"});
  INFO(tls12.err);
  CHECK(contains(tls12.out, "New, TLSv1.2"));
  CHECK(contains(tls12.out, "Reused, TLSv1.2"));
  // In TLS 1.2 nginx sends a ticket only with ssl_session_tickets on (in
  // TLS 1.3 OpenSSL sends one either way, backed by the cache if not).
  const CommandResult ticket = openssl({"s_client", "-connect", address, "-CAfile", certs().ca_file(), "-tls1_2"});
  CHECK(contains(ticket.out, "TLS session ticket:"));

  // TLS 1.3: the ticket comes after the handshake, so save the session only
  // after a whole request and response.
  const std::string request = "GET /small HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  const std::string session = (certs().dir() / "tls13-session.pem").string();
  const std::vector<std::string> connect = {"s_client", "-connect", address, "-CAfile", certs().ca_file(),
                                            "-tls1_3", "-ign_eof"};
  auto first_args = connect;
  first_args.insert(first_args.end(), {"-sess_out", session});
  const CommandResult first = openssl(first_args, request);
  CHECK(contains(first.out, "New, TLSv1.3"));
  CHECK(contains(first.out, nginx.file("small.txt")));
  auto second_args = connect;
  second_args.insert(second_args.end(), {"-sess_in", session});
  const CommandResult second = openssl(second_args, request);
  INFO(second.err);
  CHECK(contains(second.out, "Reused, TLSv1.3"));
  CHECK(contains(second.out, nginx.file("small.txt")));
  std::filesystem::remove(session);
}

TEST_CASE("the client-certificate port answers 400 without the CA's client certificate and serves with it") {
  Nginx nginx(nginx_tls(true));
  REQUIRE(nginx.client_cert_port() != 0);
  CHECK(nginx.client_cert_port() != nginx.tls_port());
  const std::string ca = certs().ca_file();
  const std::vector<std::string> code = {"--output", "/dev/null", "--write-out", "%{http_code}"};

  auto without = code;
  without.insert(without.end(), {"--cacert", ca, nginx.client_cert_url("/small")});
  CHECK(curl(without).out == "400");

  auto foreign = code;
  foreign.insert(foreign.end(), {"--cacert", ca, "--cert", certs().cert("self_signed"), "--key",
                                 certs().key("self_signed"), nginx.client_cert_url("/small")});
  CHECK(curl(foreign).out == "400");

  const std::vector<std::string> with = {"--cacert", ca, "--cert", certs().cert("client"), "--key",
                                         certs().key("client")};
  auto subject = with;
  subject.push_back(nginx.client_cert_url("/client_cert"));
  const CommandResult who = curl(subject);
  INFO(who.err);
  CHECK(who.out == "CN=coring test client\n");
  auto small = with;
  small.push_back(nginx.client_cert_url("/small"));
  CHECK(curl(small).out == nginx.file("small.txt"));

  // The other HTTPS port asks for no certificate.
  CHECK(curl({"--cacert", ca, nginx.tls_url("/small")}).out == nginx.file("small.txt"));
}
