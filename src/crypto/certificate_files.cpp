// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/crypto/certificate_files.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "rtcgate/core/c_handle.h"
#include "rtcgate/crypto/openssl_error.h"

namespace rtcgate::crypto {

namespace {

using BioPtr = CHandle<BIO, BIO_free>;

// A PEM file is a few kB; the bound keeps a mistyped path (a log, a disk image) from being read whole.
constexpr off_t kMaxPemBytes = 1024 * 1024;

// The file's text, or nullopt with `why` set. Only regular files: /dev/zero or a FIFO would never end.
std::optional<std::string> readPem(const std::string& path, const char* what, std::string& why) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    why = std::string(what) + " " + path + ": " + std::strerror(err);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    why = std::string(what) + " " + path + ": not a regular file";
    return std::nullopt;
  }
  if (st.st_size > kMaxPemBytes) {
    why = std::string(what) + " " + path + ": larger than 1 MiB, not a PEM file";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    // The daemon reads it as its own user; say which, as root running --check-config reads everything.
    why = std::string(what) + " " + path + ": " + std::strerror(err) + " (read as uid " + std::to_string(::geteuid()) +
          ")";
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Refuses encrypted keys instead of letting OpenSSL's default callback prompt on a terminal.
int noPassphrase(char*, int, int, void*) { return -1; }

std::string asn1Time(const ASN1_TIME* t) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || ASN1_TIME_print(bio.get(), t) != 1) return "?";
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

bool CertificateFiles::ok() const { return firstError().empty(); }

std::string CertificateFiles::firstError() const {
  for (auto& f : findings)
    if (f.error) return f.message;
  return {};
}

CertificateFiles readCertificateFiles(const std::string& certFile, const std::string& keyFile,
                                      std::chrono::system_clock::time_point now, std::chrono::seconds warnWithin) {
  CertificateFiles out;
  auto add = [&](bool error, bool aboutKey, std::string message) {
    out.findings.push_back({error, aboutKey, std::move(message)});
  };
  drainOpensslErrors();
  std::string why;
  Certificate cert;
  if (auto text = readPem(certFile, "certificate file", why)) {
    BioPtr bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())));
    cert = Certificate(PEM_read_bio_X509(bio.get(), nullptr, noPassphrase, nullptr));
    if (!cert) add(true, false, "certificate file " + certFile + ": no PEM certificate in it (" + drainOpensslErrors() + ")");
  } else {
    add(true, false, why);
  }
  PrivateKey key;
  if (auto text = readPem(keyFile, "key file", why)) {
    BioPtr bio(BIO_new_mem_buf(text->data(), static_cast<int>(text->size())));
    key = PrivateKey(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassphrase, nullptr));
    if (!key)
      add(true, true, "key file " + keyFile + ": no unencrypted PEM private key in it (" + drainOpensslErrors() + ")");
  } else {
    add(true, true, why);
  }
  if (cert) {
    const time_t t = std::chrono::system_clock::to_time_t(now);
    const time_t soon = std::chrono::system_clock::to_time_t(now + warnWithin);
    const ASN1_TIME* notBefore = X509_get0_notBefore(cert.get());
    const ASN1_TIME* notAfter = X509_get0_notAfter(cert.get());
    if (X509_cmp_time(notAfter, const_cast<time_t*>(&t)) <= 0)
      add(true, false, "certificate " + certFile + " expired on " + asn1Time(notAfter));
    else if (X509_cmp_time(notBefore, const_cast<time_t*>(&t)) > 0)
      add(true, false, "certificate " + certFile + " is not valid before " + asn1Time(notBefore));
    else if (X509_cmp_time(notAfter, const_cast<time_t*>(&soon)) <= 0)
      add(false, false, "certificate " + certFile + " expires on " + asn1Time(notAfter) + ", within " +
                            std::to_string(std::chrono::duration_cast<std::chrono::hours>(warnWithin).count() / 24) +
                            " days");
  }
  if (cert && key && X509_check_private_key(cert.get(), key.get()) != 1)
    add(true, true, "key file " + keyFile + " does not match certificate " + certFile + " (" + drainOpensslErrors() + ")");
  drainOpensslErrors();
  if (out.ok()) out.pair = KeyAndCertificate{std::move(cert), std::move(key)};
  return out;
}

}  // namespace rtcgate::crypto
