// SPDX-License-Identifier: Apache-2.0
// rtcgatectl: the operator's command line for rtcgate's admin API (docs/admin-api.md).
#include <curl/curl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ctl_tables.h"
#include "rtcgate/admin/json_writer.h"
#include "rtcgate/config/config_loader.h"
#include "rtcgate/core/address.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/rtcgate/rtcgate.yaml";

constexpr const char* kUsage =
    "usage: rtcgatectl [--url URL] [--config FILE] [--token-file FILE] [--json] COMMAND\n"
    "commands:\n"
    "  status                       version, uptime, calls, registrations, upstream, drain\n"
    "  calls                        calls in progress\n"
    "  call ID                      one call in detail\n"
    "  hangup ID [--reason TEXT]    end a call (BYE/CANCEL on both legs)\n"
    "  agents                       configured agents: WebSocket, registration, calls\n"
    "  dns                          DN registrations at Genesys\n"
    "  upstreams                    Genesys servers' OPTIONS health\n"
    "  reload                       reload the configuration (as SIGHUP)\n"
    "  drain [--deadline S] [--wait]  refuse new calls, end the rest after S seconds, then exit;\n"
    "                               --wait prints progress until the daemon stopped\n"
    "--url: default from listeners.admin in --config (default " "/etc/rtcgate/rtcgate.yaml), else http://127.0.0.1:8089\n"
    "--token-file: default listeners.admin.token_file of that configuration\n"
    "exit codes: 0 ok, 1 the API refused (4xx/5xx), 2 usage, 3 cannot connect, 4 unauthorized (401), 5 not found\n";

enum Exit { kOk = 0, kApiError = 1, kUsageError = 2, kConnectError = 3, kUnauthorized = 4, kNotFound = 5 };

struct Options {
  std::string url;
  std::string configPath;
  std::string tokenFile;
  bool json = false;
  std::string command;
  std::string id;
  std::optional<double> deadline;
  std::string reason;
  bool wait = false;
};

struct HttpResult {
  bool connected = false;
  std::string error;
  long status = 0;
  std::string body;
};

size_t collect(char* data, size_t size, size_t n, void* out) {
  auto* s = static_cast<std::string*>(out);
  // Bounded: the API's answers are small; a huge one is not an rtcgate.
  if (s->size() + size * n > 64 * 1024 * 1024) return 0;
  s->append(data, size * n);
  return size * n;
}

HttpResult request(const Options& o, const std::string& token, const char* method, const std::string& path,
                   const std::string& body) {
  HttpResult r;
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    r.error = "libcurl could not start";
    return r;
  }
  std::string url = o.url + "/api/v1/" + path;
  curl_slist* headers = nullptr;
  std::string auth = "Authorization: Bearer " + token;
  if (!token.empty()) headers = curl_slist_append(headers, auth.c_str());
  headers = curl_slist_append(headers, "Content-Type: application/json");
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  if (std::strcmp(method, "POST") == 0) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    r.connected = true;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  } else {
    r.error = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return r;
}

std::string readToken(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read token file '" + path + "'";
    return {};
  }
  std::string line;
  std::getline(in, line);
  auto first = line.find_first_not_of(" \t\r\n");
  auto last = line.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? std::string() : line.substr(first, last - first + 1);
}

// The admin listener (and token) of the configuration: the URL a local operator reaches it at.
bool fromConfig(Options& o, std::string* token, std::string* error) {
  std::string path = o.configPath.empty() ? kDefaultConfig : o.configPath;
  if (o.configPath.empty() && access(path.c_str(), R_OK) != 0) {
    if (o.url.empty()) o.url = "http://127.0.0.1:8089";
    return true;
  }
  try {
    auto cfg = rtcgate::config::loadFromFile(path);
    if (o.url.empty()) {
      if (!cfg.listeners.admin.enabled) {
        *error = path + ": the admin listener is disabled (listeners.admin.enabled)";
        return false;
      }
      std::string addr = cfg.listeners.admin.bind.address;
      auto ip = rtcgate::IpAddress::parse(addr);
      if (ip && ip->isUnspecified()) addr = ip->isV6() ? "::1" : "127.0.0.1";
      if (ip && ip->isV6()) addr = "[" + addr + "]";
      o.url = "http://" + addr + ":" + std::to_string(cfg.listeners.admin.bind.port);
    }
    if (o.tokenFile.empty()) *token = cfg.adminAuth.token.reveal();
  } catch (const std::exception& e) {
    *error = std::string("cannot read the configuration (give --url and --token-file instead): ") + e.what();
    return false;
  }
  return true;
}

int report(const Options& o, const HttpResult& r, const char* resource) {
  if (!r.connected) {
    std::fprintf(stderr, "rtcgatectl: cannot reach the admin API at %s: %s\n", o.url.c_str(), r.error.c_str());
    return kConnectError;
  }
  std::string apiError;
  if (r.status >= 400) {
    rtcgate::admin::JsonBody b(r.body);
    std::optional<std::string> e;
    if (b.string("error", &e) && e) apiError = *e;
  }
  if (r.status == 401) {
    std::fprintf(stderr, "rtcgatectl: unauthorized (401): %s (see --token-file)\n",
                 apiError.empty() ? "a bearer token is required" : apiError.c_str());
    return kUnauthorized;
  }
  if (r.status == 404) {
    std::fprintf(stderr, "rtcgatectl: not found (404): %s\n", apiError.empty() ? "no such resource" : apiError.c_str());
    return kNotFound;
  }
  if (o.json) {
    std::fputs(r.body.c_str(), stdout);
  } else if (r.status < 400 || std::strcmp(resource, "reload") == 0 || std::strcmp(resource, "drain") == 0) {
    std::string t = rtcgate::ctl::renderTable(resource, r.body);
    std::fputs(t.empty() ? r.body.c_str() : t.c_str(), stdout);
  }
  // 409 to POST /drain: a drain is already under way; the body is its progress.
  if (r.status == 409 && std::strcmp(resource, "drain") == 0) return kOk;
  if (r.status >= 400) {
    if (!apiError.empty()) std::fprintf(stderr, "rtcgatectl: %ld: %s\n", r.status, apiError.c_str());
    else if (!o.json) std::fprintf(stderr, "rtcgatectl: the API answered %ld\n", r.status);
    return kApiError;
  }
  return kOk;
}

int usage(const std::string& what) {
  std::fprintf(stderr, "rtcgatectl: %s\n%s", what.c_str(), kUsage);
  return kUsageError;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return kOk;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--wait") {
      o.wait = true;
    } else if (a == "--url") {
      if (!next(&o.url)) return usage("--url needs a value");
    } else if (a == "--config") {
      if (!next(&o.configPath)) return usage("--config needs a file");
    } else if (a == "--token-file") {
      if (!next(&o.tokenFile)) return usage("--token-file needs a file");
    } else if (a == "--reason") {
      if (!next(&o.reason)) return usage("--reason needs a text");
    } else if (a == "--deadline") {
      if (!next(&v)) return usage("--deadline needs seconds");
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0' || d < 0) return usage("--deadline must be a number of seconds >= 0");
      o.deadline = d;
    } else if (!a.empty() && a[0] == '-') {
      return usage("unknown option '" + a + "'");
    } else {
      positional.push_back(a);
    }
  }
  if (positional.empty()) return usage("no command given");
  o.command = positional[0];
  const bool needsId = o.command == "call" || o.command == "hangup";
  if (positional.size() != (needsId ? 2u : 1u))
    return usage(needsId ? "'" + o.command + "' needs a call ID" : "'" + o.command + "' takes no argument");
  if (needsId) o.id = positional[1];
  while (!o.url.empty() && o.url.back() == '/') o.url.pop_back();

  std::string token, error;
  if (!fromConfig(o, &token, &error)) {
    std::fprintf(stderr, "rtcgatectl: %s\n", error.c_str());
    return kUsageError;
  }
  if (!o.tokenFile.empty()) {
    token = readToken(o.tokenFile, &error);
    if (!error.empty()) {
      std::fprintf(stderr, "rtcgatectl: %s\n", error.c_str());
      return kUsageError;
    }
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = kUsageError;
  // IDs go into the path: only what call ids are made of passes unescaped.
  char* escapedId = curl_easy_escape(nullptr, o.id.c_str(), static_cast<int>(o.id.size()));
  std::string id = escapedId != nullptr ? escapedId : "";
  curl_free(escapedId);
  const std::string& c = o.command;
  if (c == "status" || c == "calls" || c == "agents" || c == "dns" || c == "upstreams") {
    rc = report(o, request(o, token, "GET", c, ""), c.c_str());
  } else if (c == "call") {
    rc = report(o, request(o, token, "GET", "calls/" + id, ""), "call");
  } else if (c == "hangup") {
    rtcgate::admin::JsonWriter w;
    w.beginObject();
    if (!o.reason.empty()) w.field("reason", o.reason);
    w.endObject();
    rc = report(o, request(o, token, "POST", "calls/" + id + "/hangup", w.str()), "hangup");
  } else if (c == "reload") {
    rc = report(o, request(o, token, "POST", "reload", "{}"), "reload");
  } else if (c == "drain") {
    rtcgate::admin::JsonWriter w;
    w.beginObject();
    if (o.deadline) w.field("deadline_s", *o.deadline);
    w.endObject();
    auto r = request(o, token, "POST", "drain", w.str());
    // 409: a drain is already under way; its progress is shown all the same.
    rc = report(o, r, "drain");
    std::fflush(stdout);
    // Progress once a second until the daemon stopped listening (it exits 0 at the end of a drain). Bounded by
    // the largest deadline plus the shutdown grace.
    for (int i = 0; o.wait && rc == kOk && i < 86400 + 60; ++i) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      auto p = request(o, token, "GET", "drain", "");
      // 503: the daemon withdrew the API while it stops; then it stops listening.
      if (!p.connected || p.status == 503) {
        std::printf("drain finished: the daemon stopped\n");
        break;
      }
      rc = report(o, p, "drain");
      std::fflush(stdout);
    }
  } else {
    rc = usage("unknown command '" + c + "'");
  }
  curl_global_cleanup();
  return rc;
}
