// SPDX-License-Identifier: Apache-2.0
// Issue 13: what would fail at start is found by --check-config and by the start itself, with the file or address
// at fault named: the real binary, real certificate files, a real socket holding the port.
#include <netinet/in.h>

#include "component/daemon_harness.h"
#include "rtcgate/crypto/self_signed_certificate.h"

namespace rtcgate::test {
namespace {

// A certificate and key pair in `dir`, valid from `backdate` ago for `validFor`.
std::pair<std::string, std::string> writePair(const TempDir& dir, const std::string& name,
                                              std::chrono::seconds validFor = std::chrono::days(90),
                                              std::chrono::seconds backdate = std::chrono::days(1)) {
  crypto::SelfSignedRequest r;
  r.commonName = name;
  r.validFor = validFor;
  r.backdate = backdate;
  auto pem = crypto::toPem(crypto::generateSelfSigned(r));
  return {dir.write(name + ".crt", pem.certificate), dir.write(name + ".key", pem.privateKey)};
}

std::string wssConfig(const std::string& cert, const std::string& key, uint16_t port = 0) {
  return "listeners:\n  admin: {address: 127.0.0.1, port: 0}\n  wss:\n    - address: 127.0.0.1\n      port: " +
         std::to_string(port) + "\n      tls_cert_file: " + cert + "\n      tls_key_file: " + key + "\n" +
         "upstream:\n  sip_bind: {address: 127.0.0.1, port: 0}\n";
}

// Runs `args` to its end; its exit code, or -1.
int run(const std::vector<std::string>& args, const TempDir& dir, std::string* err) {
  Child c(args, dir.path());
  int code = c.wait(10s);
  *err = c.err();
  return code;
}

TEST(StartupErrors, AMissingCertificateFileIsNamedByCheckConfigAndAtStart) {
  TempDir dir;
  auto [cert, key] = writePair(dir, "wss");
  const auto missing = dir.path() + "/missing.crt";
  const auto path = dir.write("rtcgate.yaml", wssConfig(missing, key));
  const std::string expected = "rtcgate: invalid configuration: " + path + ":6:22: listeners.wss[0].tls_cert_file: " +
                               "certificate file " + missing + ": No such file or directory\n";
  std::string err;
  EXPECT_EQ(run({RTCGATE_BINARY, "--check-config", path}, dir, &err), 2);
  EXPECT_EQ(err, expected);
  EXPECT_EQ(run({RTCGATE_BINARY, "--config", path}, dir, &err), 2);
  EXPECT_EQ(err, expected);
}

TEST(StartupErrors, AKeyNotMatchingItsCertificateIsNamedWithOpenSslsReason) {
  TempDir dir;
  auto [cert, key] = writePair(dir, "wss");
  auto [otherCert, otherKey] = writePair(dir, "other");
  const auto path = dir.write("rtcgate.yaml", wssConfig(cert, otherKey));
  std::string err;
  EXPECT_EQ(run({RTCGATE_BINARY, "--config", path}, dir, &err), 2);
  EXPECT_EQ(err.rfind("rtcgate: invalid configuration: " + path + ":7:21: listeners.wss[0].tls_key_file: key file " +
                          otherKey + " does not match certificate " + cert + " (error:",
                      0),
            0u)
      << err;
  EXPECT_NE(err.find(":key values mismatch)\n"), std::string::npos) << err;
}

TEST(StartupErrors, AWssPortInUseNamesTheAddressTheErrnoAndTheHolder) {
  TempDir dir;
  auto [cert, key] = writePair(dir, "wss");
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sa);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  const uint16_t port = ntohs(sa.sin_port);
  const auto path = dir.write("rtcgate.yaml", wssConfig(cert, key, port));
  std::string err;
  // The file itself is fine: --check-config does not bind.
  EXPECT_EQ(run({RTCGATE_BINARY, "--check-config", path}, dir, &err), 0) << err;
  EXPECT_EQ(run({RTCGATE_BINARY, "--config", path}, dir, &err), 1);
  ::close(fd);
  EXPECT_NE(err.find("[core] cannot start: WSS: cannot listen on 127.0.0.1:" + std::to_string(port) +
                     ": Address already in use (held by pid " + std::to_string(::getpid()) + " ("),
            std::string::npos)
      << err;
  EXPECT_EQ(err.find("bad TLS certificate"), std::string::npos) << err;
}

// A socket of this process bound on 127.0.0.1 (TCP: listening); its port.
class HeldPort {
public:
  explicit HeldPort(int type) : fd_(::socket(AF_INET, type | SOCK_CLOEXEC, 0)) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
    if (type == SOCK_STREAM) {
      EXPECT_EQ(::listen(fd_, 1), 0);
    }
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len), 0);
    port_ = ntohs(sa.sin_port);
  }
  ~HeldPort() { ::close(fd_); }
  HeldPort(const HeldPort&) = delete;
  HeldPort& operator=(const HeldPort&) = delete;
  uint16_t port() const { return port_; }

private:
  int fd_;
  uint16_t port_ = 0;
};

TEST(StartupErrors, AnAdminOrSipPortInUseIsNamedWithItsHolder) {
  TempDir dir;
  const std::string holder = "Address already in use (held by pid " + std::to_string(::getpid()) + " (";
  std::string err;
  {
    HeldPort admin(SOCK_STREAM);
    const auto path = dir.write("admin.yaml", "listeners:\n  admin: {address: 127.0.0.1, port: " +
                                                  std::to_string(admin.port()) + "}\n");
    EXPECT_EQ(run({RTCGATE_BINARY, "--config", path}, dir, &err), 1);
    EXPECT_NE(err.find("[core] cannot start: admin HTTP: cannot listen on 127.0.0.1:" + std::to_string(admin.port()) +
                       " (tcp): " + holder),
              std::string::npos)
        << err;
  }
  HeldPort sip(SOCK_DGRAM);
  const auto path = dir.write("sip.yaml", "listeners:\n  admin: {address: 127.0.0.1, port: 0}\nupstream:\n  sip_bind: "
                                          "{address: 127.0.0.1, port: " + std::to_string(sip.port()) + "}\n");
  EXPECT_EQ(run({RTCGATE_BINARY, "--config", path}, dir, &err), 1);
  EXPECT_NE(err.find("[core] cannot start: SIP toward Genesys (upstream.sip_bind): cannot listen on 127.0.0.1:" +
                     std::to_string(sip.port()) + " (udp): " + holder),
            std::string::npos)
      << err;
}

TEST(StartupErrors, CheckConfigListsEveryErrorAndWarnsOfACertificateNearItsEnd) {
  TempDir dir;
  auto [cert, key] = writePair(dir, "soon", std::chrono::days(3));
  const auto good = dir.write("good.yaml", wssConfig(cert, key));
  std::string err;
  EXPECT_EQ(run({RTCGATE_BINARY, "--check-config", good}, dir, &err), 0) << err;
  EXPECT_EQ(err.rfind("rtcgate: warning: " + good + ":6:22: listeners.wss[0].tls_cert_file: certificate " + cert +
                          " expires on ",
                      0),
            0u)
      << err;
  EXPECT_NE(err.find(", within 14 days\n"), std::string::npos) << err;

  const auto bad = dir.write("bad.yaml", "media:\n  workers: 300\n  rtp_port_min: 20000\n  rtp_port_max: 20009\n"
                                         "security: {max_calls: 0}\n");
  EXPECT_EQ(run({RTCGATE_BINARY, "--check-config", bad}, dir, &err), 2);
  EXPECT_EQ(err, "rtcgate: invalid configuration, 2 errors:\n  " + bad +
                     ":2:12: media.workers: 300 is out of range 0..256\n  " + bad +
                     ":5:23: security.max_calls: 0 is out of range 1..100000\n");
  // With those fixed, the range is too small for the default max_calls (200): the next run names it.
  const auto small = dir.write("small.yaml", "media:\n  rtp_port_min: 20000\n  rtp_port_max: 20009\n");
  EXPECT_EQ(run({RTCGATE_BINARY, "--check-config", small}, dir, &err), 2);
  EXPECT_EQ(err, "rtcgate: invalid configuration: " + small +
                     ":3:17: media.rtp_port_max: the RTP range 20000..20009 has room for 5 calls, 2 ports per call x "
                     "security.max_calls 200 = 400 ports; set media.rtp_port_max: 20399 (or security.max_calls: 5)\n");
}

}  // namespace
}  // namespace rtcgate::test
