// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rtcgate/core/metrics.h"

namespace rtcgate::signaling {

// Static files under a WSS listener's web_root (listeners.wss[].web_root): the softphone page, so that browsers
// need no second web server in front of rtcgate. GET and HEAD only; no directory listing; nothing outside the root
// (no "..", no symlink leading out, no NUL, backslash, percent-encoding left after lws decoded the path, no
// hidden files); files up to kMaxFileBytes. No lws here: requests and replies are values. Thread: control.
class StaticFiles {
public:
  // The bundled client (JsSIP + rtcgate-client.js, minified) is ~300 KB; a page has no business being larger.
  static constexpr uint64_t kMaxFileBytes = 4 * 1024 * 1024;

  struct Reply {
    unsigned status = 404;
    std::string contentType = "text/plain; charset=utf-8";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    uint64_t contentLength = 0;  // of the body, also for HEAD (which sends none)
  };

  explicit StaticFiles(Metrics& metrics);

  // method: the request method; path: the request's path as lws hands it over (decoded, without query); host: the
  // request's Host header, already checked as a syntactically valid host[:port] (it goes into the CSP).
  Reply serve(const std::string& root, std::string_view method, std::string_view path, std::string_view host) const;

  static std::string_view contentTypeFor(std::string_view fileName);
  // The headers every static reply carries (CSP allowing only this origin and its wss: twin, nosniff, no referrer).
  static std::vector<std::pair<std::string, std::string>> securityHeaders(std::string_view host);

private:
  Reply error(unsigned status, std::string_view host) const;

  std::atomic<uint64_t>& served_;
  std::atomic<uint64_t>& refused_;
};

}  // namespace rtcgate::signaling
