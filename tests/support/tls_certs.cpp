// Making the throwaway PKI of the TLS tests (tls_certs.hpp says what is in it).
#include "tls_certs.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "command.hpp"

namespace test_support {

namespace {

namespace fs = std::filesystem;

// One config for every openssl run: `req` takes its extensions from the
// section named by -extensions, `ca` (only for `expired`, the one way
// openssl 3.0 sets a notBefore/notAfter in the past) from [test_ca].
// @DIR@ is the temp dir; nothing here reads the system openssl.cnf.
constexpr std::string_view config_template = R"([req]
distinguished_name = req_dn
prompt = no
string_mask = utf8only

[req_dn]
CN = unused

[ca_cert]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[wrong_host]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[partial_wildcard]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:w*.coring.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[self_signed]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash

[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[test_ca]
database = @DIR@/ca-db/index.txt
new_certs_dir = @DIR@/ca-db
certificate = @DIR@/ca.pem
private_key = @DIR@/ca.key
rand_serial = yes
default_md = sha256
policy = test_ca_policy
unique_subject = no
copy_extensions = none

[test_ca_policy]
commonName = supplied
)";

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string fill_in(std::string_view text, std::string_view from, std::string_view to) {
  std::string out(text);
  for (auto pos = out.find(from); pos != std::string::npos; pos = out.find(from, pos + to.size()))
    out.replace(pos, from.size(), to);
  return out;
}

/// Runs openssl; throws std::runtime_error with its stderr if it fails.
void openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  try {
    check_command(args);
  } catch (const std::runtime_error& e) {
    // posix_spawnp's ENOENT says "No such file or directory": say what to do.
    if (std::string_view(e.what()).starts_with("cannot run openssl"))
      throw std::runtime_error(std::string(e.what()) + " (install the Debian package openssl)");
    throw;
  }
}

}  // namespace

TestCertificates::TestCertificates() : dir_("coring-tls-") {
  const fs::path& dir = dir_.path();
  const std::string config = (dir / "openssl.cnf").string();
  write_file(config, fill_in(config_template, "@DIR@", dir.string()));
  fs::create_directory(dir / "ca-db");
  write_file(dir / "ca-db" / "index.txt", "");

  const std::vector<std::string> new_key = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc"};
  const auto request = [&](std::string_view name, std::vector<std::string> args) {
    std::vector<std::string> all = {"req", "-config", config, "-keyout", key(name)};
    all.insert(all.end(), new_key.begin(), new_key.end());
    all.insert(all.end(), args.begin(), args.end());
    openssl(std::move(all));
  };
  // A self-signed certificate, or (with -CA, new in openssl 3.0) one the CA
  // signs, in one run that also makes the key.
  const auto certificate = [&](std::string_view name, std::string_view extensions, std::string subject,
                               bool signed_by_ca) {
    std::vector<std::string> args = {"-x509",       "-new", "-extensions", std::string(extensions), "-days", "365",
                                     "-subj",       std::move(subject), "-out", cert(name)};
    if (signed_by_ca) args.insert(args.end(), {"-CA", ca_file(), "-CAkey", ca_key()});
    request(name, std::move(args));
  };

  openssl({"req", "-config", config, "-x509", "-new", "-extensions", "ca_cert", "-newkey", "ec", "-pkeyopt",
           "ec_paramgen_curve:P-256", "-noenc", "-keyout", ca_key(), "-out", ca_file(), "-days", "3650", "-subj",
           "/CN=coring test CA"});
  certificate("valid", "server", "/CN=localhost", true);
  certificate("wrong_host", "wrong_host", "/CN=wrong.example", true);
  certificate("client", "client", "/CN=coring test client", true);
  certificate("partial_wildcard", "partial_wildcard", "/CN=partial wildcard", true);
  certificate("self_signed", "self_signed", "/CN=localhost", false);

  // `req -x509` and `x509 -req` only count days from now (a negative -days
  // gives notAfter < notBefore = now); `ca` takes both dates.
  const std::string csr = (dir / "ca-db" / "expired.csr").string();
  request("expired", {"-new", "-subj", "/CN=localhost", "-out", csr});
  openssl({"ca", "-batch", "-notext", "-config", config, "-name", "test_ca", "-extensions", "server", "-startdate",
           "20000101000000Z", "-enddate", "20010101000000Z", "-in", csr, "-out", cert("expired")});

  fs::create_directory(ca_dir());
  fs::copy_file(ca_file(), fs::path(ca_dir()) / "ca.pem");
  openssl({"rehash", ca_dir()});
}

std::string TestCertificates::ca_file() const { return (dir_.path() / "ca.pem").string(); }

std::string TestCertificates::ca_key() const { return (dir_.path() / "ca.key").string(); }

std::string TestCertificates::ca_dir() const { return (dir_.path() / "ca-dir").string(); }

std::string TestCertificates::cert(std::string_view name) const { return file(name, ".pem").string(); }

std::string TestCertificates::key(std::string_view name) const { return file(name, ".key").string(); }

fs::path TestCertificates::file(std::string_view name, std::string_view extension) const {
  if (std::find(names.begin(), names.end(), name) == names.end())
    throw std::invalid_argument("no test certificate named \"" + std::string(name) +
                                "\" (valid, expired, wrong_host, self_signed, client, partial_wildcard)");
  return dir_.path() / (std::string(name) + std::string(extension));
}

}  // namespace test_support
