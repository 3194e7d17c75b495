// SPDX-License-Identifier: Apache-2.0
// Writes the seed corpus of fuzz/dtls_records.cpp: a real DTLS 1.2 handshake between two rtcgate DtlsTransports
// (client and server, in memory, as tests/media/dtls_srtp_test.cpp runs it), each flight recorded with its record
// boundaries, in the target's input format ([role byte] then [2-byte length][datagram]...).
//   build-fuzz/fuzz/dtls_seeds fuzz/corpus/dtls_records      (then commit what changed; certificates are fresh
//   each run, so the bytes differ every time)
#include <cstdio>
#include <deque>
#include <fstream>
#include <string>
#include <vector>

#include "rtcgate/core/event_loop.h"
#include "rtcgate/media/dtls_transport.h"

using namespace rtcgate;
using namespace rtcgate::media;
using Datagrams = std::vector<std::vector<uint8_t>>;

namespace {

void write(const std::string& dir, const std::string& name, uint8_t role, const std::vector<const Datagrams*>& parts) {
  std::vector<uint8_t> out{role};
  for (auto* flight : parts)
    for (auto& d : *flight) {
      out.push_back(static_cast<uint8_t>(d.size() >> 8));
      out.push_back(static_cast<uint8_t>(d.size()));
      out.insert(out.end(), d.begin(), d.end());
    }
  std::ofstream(dir + "/" + name, std::ios::binary).write(reinterpret_cast<const char*>(out.data()),
                                                          static_cast<std::streamsize>(out.size()));
}

// One handshake with the given profiles; returns false if it did not complete.
bool record(const std::string& dir, const std::string& prefix, std::vector<SrtpProfile> profiles) {
  EventLoop loop("dtls-seeds");
  loop.adoptCurrentThread();
  auto certC = DtlsCertificate::generate();
  auto certS = DtlsCertificate::generate();
  Datagrams toServer, toClient;
  int connected = 0;
  auto callbacks = [&](Datagrams& out) {
    DtlsTransport::Callbacks cb;
    cb.send = [&out](const uint8_t* d, size_t n) { out.emplace_back(d, d + n); };
    cb.connected = [&connected](const DtlsSrtpKeys&) { ++connected; };
    cb.failed = [](const std::string& r) { std::fprintf(stderr, "dtls_seeds: failed: %s\n", r.c_str()); };
    cb.closedByPeer = [] {};
    return cb;
  };
  DtlsTransport client(loop, certC, profiles, std::chrono::seconds(5), callbacks(toServer));
  DtlsTransport server(loop, certS, profiles, std::chrono::seconds(5), callbacks(toClient));
  client.setRemoteFingerprints({certS->fingerprint()});
  server.setRemoteFingerprints({certC->fingerprint()});
  server.start(DtlsRole::Server);
  client.start(DtlsRole::Client);

  // Flights, delivered only after the sender returned (never re-entrantly).
  std::vector<Datagrams> flights;
  for (int round = 0; round < 8 && connected < 2; ++round) {
    Datagrams& from = (round % 2 == 0) ? toServer : toClient;
    DtlsTransport& to = (round % 2 == 0) ? server : client;
    Datagrams flight;
    flight.swap(from);
    flights.push_back(flight);
    for (auto& d : flight) to.handlePacket(d.data(), d.size());
  }
  if (connected < 2 || flights.size() < 4) return false;
  // flights[0] ClientHello, [1] ServerHello..ServerHelloDone, [2] client Certificate..Finished, [3] CCS+Finished.
  write(dir, prefix + "server-clienthello", 0, {&flights[0]});
  write(dir, prefix + "server-full-handshake", 0, {&flights[0], &flights[2]});
  write(dir, prefix + "client-serverhello", 1, {&flights[1]});
  write(dir, prefix + "client-full-handshake", 1, {&flights[1], &flights[3]});
  // close_notify after the handshake, each way.
  Datagrams closeC, closeS;
  client.close();
  closeC.swap(toServer);
  write(dir, prefix + "server-handshake-close", 0, {&flights[0], &flights[2], &closeC});
  server.close();
  closeS.swap(toClient);
  write(dir, prefix + "client-handshake-close", 1, {&flights[1], &flights[3], &closeS});
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: dtls_seeds <corpus dir>\n");
    return 2;
  }
  bool ok = record(argv[1], "gcm-", {SrtpProfile::AeadAes256Gcm, SrtpProfile::AeadAes128Gcm,
                                     SrtpProfile::AesCm128HmacSha1_80});
  ok = record(argv[1], "aescm80-", {SrtpProfile::AesCm128HmacSha1_80, SrtpProfile::AesCm128HmacSha1_32}) && ok;
  return ok ? 0 : 1;
}
