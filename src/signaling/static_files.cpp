// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/signaling/static_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>

namespace rtcgate::signaling {
namespace {

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

std::string realPath(const std::string& p) {
  std::unique_ptr<char, decltype(&std::free)> r(::realpath(p.c_str(), nullptr), &std::free);
  return r ? std::string(r.get()) : std::string();
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// 400 for a path no browser sends for a page (it is an attack or a broken client), 0 when it is well formed.
// lws 4.1 has already decoded %XX and collapsed "/./" and "/../" (lws_parse_urldecode); what is checked here is what
// must never reach the file system even so, whatever lws did: a '%' left means double encoding.
unsigned malformed(std::string_view path) {
  if (path.empty() || path.front() != '/') return 400;
  for (char ch : path) {
    auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7f || ch == '\\' || ch == '%') return 400;
  }
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view seg = path.substr(pos, slash - pos);
    if (seg == ".." || seg == ".") return 400;
    if (seg.empty() && slash != path.size()) return 400;  // "//": no such file, and no reason to send it
    pos = slash + 1;
  }
  return 0;
}

}  // namespace

StaticFiles::StaticFiles(Metrics& metrics)
    : served_(metrics.counter("rtcgate_web_files_served_total",
                              "Static files (listeners.wss[].web_root) answered 200 on the WSS listeners")),
      refused_(metrics.counter("rtcgate_web_requests_refused_total",
                               "Plain HTTPS requests on the WSS listeners answered 400, 404 or 405 (static files, "
                               "unknown paths, path traversal attempts)")) {}

std::string_view StaticFiles::contentTypeFor(std::string_view name) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".wav", "audio/wav"},
      {".txt", "text/plain; charset=utf-8"},
      {".webmanifest", "application/manifest+json"},
  }};
  for (const auto& [ext, type] : kTypes)
    if (endsWith(name, ext)) return type;
  return "application/octet-stream";
}

std::vector<std::pair<std::string, std::string>> StaticFiles::securityHeaders(std::string_view host) {
  // CSP: scripts, styles and fetches from this origin only; the WebSocket to this listener (CSP3 'self' covers wss:
  // of the same host, stated anyway for older browsers); media from the peer connection (blob:/mediastream:).
  std::string csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                    "media-src 'self' blob: mediastream:; connect-src 'self' wss://" +
                    std::string(host) +
                    "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  return {{"Content-Security-Policy", std::move(csp)},
          {"X-Content-Type-Options", "nosniff"},
          {"Referrer-Policy", "no-referrer"},
          {"X-Frame-Options", "DENY"},
          {"Cross-Origin-Opener-Policy", "same-origin"}};
}

StaticFiles::Reply StaticFiles::error(unsigned status, std::string_view host) const {
  refused_.fetch_add(1, std::memory_order_relaxed);
  Reply r;
  r.status = status;
  r.body = status == 400 ? "Bad request\n" : status == 405 ? "Method not allowed\n" : "Not found\n";
  r.contentLength = r.body.size();
  r.headers = securityHeaders(host);
  r.headers.emplace_back("Cache-Control", "no-store");
  if (status == 405) r.headers.emplace_back("Allow", "GET, HEAD");
  return r;
}

StaticFiles::Reply StaticFiles::serve(const std::string& root, std::string_view method, std::string_view path,
                                      std::string_view host) const {
  if (root.empty()) return error(404, host);
  if (unsigned bad = malformed(path); bad != 0) return error(bad, host);
  if (method != "GET" && method != "HEAD") return error(405, host);
  // Hidden files (.git, .htpasswd left in a copied tree) are never served.
  if (path.find("/.") != std::string_view::npos) return error(404, host);

  const std::string rootReal = realPath(root);
  if (rootReal.empty()) return error(404, host);
  std::string rel(path.substr(1));
  if (rel.empty() || rel.back() == '/') rel += "index.html";
  // Symlinks are resolved, then the result must still be under the root: a link inside the tree to a file inside
  // is fine, one leading out is 404 (as if the file did not exist: nothing about the tree is revealed).
  const std::string fileReal = realPath(rootReal + "/" + rel);
  if (fileReal.empty() || fileReal.compare(0, rootReal.size() + 1, rootReal + "/") != 0) return error(404, host);

  int fd = ::open(fileReal.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  FdCloser closer{fd};
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return error(404, host);  // directories too
  if (static_cast<uint64_t>(st.st_size) > kMaxFileBytes) return error(404, host);

  Reply r;
  r.status = 200;
  r.contentType = std::string(contentTypeFor(fileReal));
  r.headers = securityHeaders(host);
  // Revalidate every time: an upgrade of rtcgate must reach agents' pages at their next load, and the files are small.
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.contentLength = static_cast<uint64_t>(st.st_size);
  if (method == "GET") {
    r.body.resize(r.contentLength);
    size_t got = 0;
    while (got < r.body.size()) {
      ssize_t n = ::read(fd, r.body.data() + got, r.body.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    if (got != r.body.size()) return error(404, host);  // shrank while read: no half a file
  }
  served_.fetch_add(1, std::memory_order_relaxed);
  return r;
}

}  // namespace rtcgate::signaling
