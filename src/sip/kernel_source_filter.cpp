// SPDX-License-Identifier: Apache-2.0
// The allowed upstream sources enforced in the kernel. sofia-sip has no hook between reading a datagram and
// answering it: a spoofed INVITE got 100 Trying and a 403 that nta retransmitted until timer H (12 datagrams for
// one), and an in-dialog BYE from a foreign address was answered by nua itself, ending the call. Dropping such
// traffic on the socket means nothing reaches nta at all.
#include <dirent.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "rtcgate/sip/source_filter.h"

namespace rtcgate::sip {
namespace {

// Offsets from the IP header (SKF_NET_OFF): the socket's own data starts at the UDP/TCP header.
constexpr int kVersion = SKF_NET_OFF;
constexpr int kV4Source = SKF_NET_OFF + 12;
constexpr int kV6Source = SKF_NET_OFF + 8;

uint32_t word(const std::array<uint8_t, 16>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | uint32_t{b[at + 3]};
}

uint32_t maskOf(unsigned prefix, unsigned wordIndex) {
  const unsigned start = wordIndex * 32;
  if (prefix <= start) return 0;
  if (prefix >= start + 32) return 0xffffffffu;
  return 0xffffffffu << (32 - (prefix - start));
}

// A program with symbolic jump targets, resolved once its length is known.
class Program {
public:
  static constexpr int kAccept = -1;
  static constexpr int kDrop = -2;
  static constexpr int kNext = -3;  // the next instruction

  int size() const { return static_cast<int>(code_.size()); }
  void load(int offset, uint16_t width) {
    code_.push_back(BPF_STMT(BPF_LD | width | BPF_ABS, static_cast<uint32_t>(offset)));
  }
  void andMask(uint32_t m) { code_.push_back(BPF_STMT(BPF_ALU | BPF_AND | BPF_K, m)); }
  // if A == k goto yes else goto no
  void jeq(uint32_t k, int yes, int no) {
    code_.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 0));
    jumps_.push_back({size() - 1, yes, no});
  }
  void jump(int to) {
    code_.push_back(BPF_JUMP(BPF_JMP | BPF_JA, 0, 0, 0));
    jumps_.push_back({size() - 1, to, kNext});
  }
  // Resolves the jumps with the accept/drop returns appended; false when a conditional jump is too long.
  bool finish(std::vector<sock_filter>& out) {
    const int accept = size();
    const int drop = size() + 1;
    code_.push_back(BPF_STMT(BPF_RET | BPF_K, 0xffffffffu));
    code_.push_back(BPF_STMT(BPF_RET | BPF_K, 0));
    for (const auto& j : jumps_) {
      auto target = [&](int t) { return t == kAccept ? accept : t == kDrop ? drop : t == kNext ? j.at + 1 : t; };
      const int yes = target(j.yes) - j.at - 1;
      const int no = target(j.no) - j.at - 1;
      sock_filter& f = code_[static_cast<size_t>(j.at)];
      if (BPF_OP(f.code) == BPF_JA) {
        f.k = static_cast<uint32_t>(yes);
        continue;
      }
      if (yes < 0 || yes > 255 || no < 0 || no > 255) return false;
      f.jt = static_cast<uint8_t>(yes);
      f.jf = static_cast<uint8_t>(no);
    }
    out = code_;
    return true;
  }
  // Marks the current position as a target for jumps given `label` (an index into the code).
  int here() const { return size(); }
  void retarget(int label, int to) {
    for (auto& j : jumps_) {
      if (j.yes == label) j.yes = to;
      if (j.no == label) j.no = to;
    }
  }

private:
  struct Jump {
    int at, yes, no;
  };
  std::vector<sock_filter> code_;
  std::vector<Jump> jumps_;
};

// Labels used before their position is known: large positive numbers no real instruction index reaches.
constexpr int kV4Label = 1 << 20;
constexpr int kV6Label = (1 << 20) + 1;
constexpr int kNextNetBase = 1 << 21;

bool buildProgram(const SourceFilter& filter, std::vector<sock_filter>& out) {
  Program p;
  p.load(kVersion, BPF_B);
  p.andMask(0xf0);
  p.jeq(0x40, kV4Label, Program::kNext);
  p.jeq(0x60, kV6Label, Program::kDrop);
  p.retarget(kV4Label, p.here());
  for (const auto& n : filter.networks()) {
    if (n.address().isV6()) continue;
    const uint32_t m = maskOf(n.prefixLength(), 0);
    p.load(kV4Source, BPF_W);
    p.andMask(m);
    p.jeq(word(n.address().bytes(), 0) & m, Program::kAccept, Program::kNext);
  }
  p.jump(Program::kDrop);
  p.retarget(kV6Label, p.here());
  int netIndex = 0;
  for (const auto& n : filter.networks()) {
    if (!n.address().isV6()) continue;
    const int nextNet = kNextNetBase + netIndex++;
    for (unsigned w = 0; w < 4; ++w) {
      const uint32_t m = maskOf(n.prefixLength(), w);
      if (m == 0) break;
      p.load(kV6Source + static_cast<int>(4 * w), BPF_W);
      p.andMask(m);
      p.jeq(word(n.address().bytes(), 4 * w) & m, Program::kNext, nextNet);
    }
    p.jump(Program::kAccept);
    p.retarget(nextNet, p.here());
  }
  p.jump(Program::kDrop);
  return p.finish(out);
}

bool isSipListener(int fd, uint16_t port) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return false;
  uint16_t bound = 0;
  if (ss.ss_family == AF_INET)
    bound = ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  else if (ss.ss_family == AF_INET6)
    bound = ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
  if (bound != port) return false;
  int type = 0;
  len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return false;
  if (type == SOCK_DGRAM) return true;
  // Connections accepted from an allowed source stay unfiltered; the listener is where foreign SYNs arrive.
  int listening = 0;
  len = sizeof listening;
  return type == SOCK_STREAM && ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening != 0;
}

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

}  // namespace

int attachKernelSourceFilter(const SourceFilter& filter, uint16_t port) {
  std::vector<sock_filter> code;
  if (!buildProgram(filter, code)) return -1;
  sock_fprog prog{static_cast<unsigned short>(code.size()), code.data()};
  // sofia-sip does not hand out its sockets: find them among ours by the port they are bound to.
  std::unique_ptr<DIR, DirCloser> dir(::opendir("/proc/self/fd"));
  if (!dir) return 0;
  int attached = 0;
  while (const dirent* entry = ::readdir(dir.get())) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == ::dirfd(dir.get())) continue;
    if (!isSipListener(static_cast<int>(fd), port)) continue;
    if (::setsockopt(static_cast<int>(fd), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) == 0) ++attached;
  }
  return attached;
}

}  // namespace rtcgate::sip
