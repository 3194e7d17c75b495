// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "rtcgate/admin/admin_http.h"
#include "support/test_support.h"

namespace rtcgate::admin {
namespace {

// Serve on the test thread's loop while a second thread plays the HTTP client.
int getWhileServing(EventLoop& loop, uint16_t port, const std::string& path, std::string* body) {
  auto result = std::async(std::launch::async, [&] { return test::httpGet(port, path, body); });
  test::pumpUntil(loop, [&] { return result.wait_for(std::chrono::seconds(0)) == std::future_status::ready; });
  return result.get();
}

TEST(AdminHttp, ServesHealthReadinessAndMetricsOnAnEphemeralPort) {
  EventLoop loop("control");
  loop.adoptCurrentThread();
  Metrics metrics;
  metrics.counter("rtcgate_test_total", "test").fetch_add(3);
  std::vector<std::string> notReady;
  AdminHttp http(loop, config::Endpoint{"127.0.0.1", 0}, metrics, [&] { return notReady; });
  ASSERT_NE(http.port(), 0);

  std::string body;
  EXPECT_EQ(getWhileServing(loop, http.port(), "/healthz", &body), 200);
  EXPECT_EQ(body, "ok\n");
  EXPECT_EQ(getWhileServing(loop, http.port(), "/metrics", &body), 200);
  EXPECT_NE(body.find("rtcgate_test_total 3\n"), std::string::npos) << body;
  EXPECT_EQ(getWhileServing(loop, http.port(), "/readyz", &body), 200);
  EXPECT_EQ(body, "ready\n");
  notReady = {"shutting down", "DN registrations: 0 of 2 registered (2 failed, last failure status 403)"};
  EXPECT_EQ(getWhileServing(loop, http.port(), "/readyz", &body), 503);
  EXPECT_EQ(body, "not ready\nshutting down\nDN registrations: 0 of 2 registered (2 failed, last failure status 403)\n");
  EXPECT_EQ(getWhileServing(loop, http.port(), "/nope", &body), 404);
}

TEST(AdminHttp, BusyPortIsAClearError) {
  EventLoop loop("control");
  loop.adoptCurrentThread();
  Metrics metrics;
  AdminHttp first(loop, config::Endpoint{"127.0.0.1", 0}, metrics, nullptr);
  try {
    AdminHttp second(loop, config::Endpoint{"127.0.0.1", first.port()}, metrics, nullptr);
    FAIL() << "second listener on the same port was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(first.port())), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace rtcgate::admin
