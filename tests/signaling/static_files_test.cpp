// SPDX-License-Identifier: Apache-2.0
// StaticFiles (listeners.wss[].web_root) as values: what each path gets, without lws. The same paths over real TLS
// against the daemon, where lws decodes and folds the path first, are in tests/e2e/softphone_e2e.js.
#include "rtcgate/signaling/static_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace rtcgate::signaling {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rtcgate-static-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    root_ = dir_ / "www";
    fs::create_directories(root_ / "sub");
    write(root_ / "index.html", "<!doctype html>page");
    write(root_ / "app.js", "export {};");
    write(root_ / "sub" / "index.html", "sub page");
    write(root_ / ".env", "SECRET");
    write(dir_ / "secret.txt", "SECRET");
    fs::create_symlink(dir_ / "secret.txt", root_ / "out.txt");
    fs::create_symlink("app.js", root_ / "in.js");
    std::ofstream(root_ / "big.bin").seekp(StaticFiles::kMaxFileBytes) << 'x';  // one byte over the bound
  }
  void TearDown() override { fs::remove_all(dir_); }
  static void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }
  StaticFiles::Reply get(std::string_view path, std::string_view method = "GET") {
    return files_.serve(root_.string(), method, path, "gw.example:8443");
  }
  static std::string header(const StaticFiles::Reply& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
      if (k == name) return v;
    return {};
  }

  fs::path dir_, root_;
  Metrics metrics_;
  StaticFiles files_{metrics_};
};

TEST_F(StaticFilesTest, ServesFilesWithTypeCacheAndSecurityHeaders) {
  auto r = get("/");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, "<!doctype html>page");
  EXPECT_EQ(r.contentType, "text/html; charset=utf-8");
  EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
  EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(r, "Referrer-Policy"), "no-referrer");
  EXPECT_NE(header(r, "Content-Security-Policy").find("connect-src 'self' wss://gw.example:8443;"), std::string::npos);
  EXPECT_EQ(get("/app.js").contentType, "text/javascript; charset=utf-8");
  EXPECT_EQ(get("/sub/").body, "sub page");
  EXPECT_EQ(get("/in.js").status, 200u);  // a link inside the root to a file inside it
  auto head = get("/index.html", "HEAD");
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.contentLength, 19u);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(metrics_.counter("rtcgate_web_files_served_total", "").load(), 5u);
}

TEST_F(StaticFilesTest, RefusesEverythingElseWithItsCode) {
  const std::pair<std::string_view, unsigned> cases[] = {
      {"/../secret.txt", 400}, {"/sub/../../secret.txt", 400}, {"/./index.html", 400}, {"//index.html", 400},
      {"/%2e%2e/secret.txt", 400}, {"/..\\secret.txt", 400}, {"relative", 400}, {"", 400},
      {std::string_view("/index.html\0.js", 15), 400}, {"/a\x01", 400},
      {"/out.txt", 404}, {"/.env", 404}, {"/sub", 404}, {"/nope", 404}, {"/big.bin", 404},
  };
  for (const auto& [path, status] : cases) {
    auto r = get(path);
    EXPECT_EQ(r.status, status) << path;
    EXPECT_EQ(r.body.find("SECRET"), std::string::npos) << path;
    EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff") << path;
  }
  auto post = get("/", "POST");
  EXPECT_EQ(post.status, 405u);
  EXPECT_EQ(header(post, "Allow"), "GET, HEAD");
  EXPECT_EQ(files_.serve("", "GET", "/", "h").status, 404u);  // no web_root
  EXPECT_EQ(files_.serve((dir_ / "missing").string(), "GET", "/", "h").status, 404u);
  EXPECT_EQ(metrics_.counter("rtcgate_web_requests_refused_total", "").load(), std::size(cases) + 3);
}

}  // namespace
}  // namespace rtcgate::signaling
