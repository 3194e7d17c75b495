// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/sip/dn_health.h"

#include <gtest/gtest.h>

namespace rtcgate::sip {
namespace {

DnStatus dn(RegistrationState state, bool wanted, uint32_t failures = 0, int lastStatus = 0) {
  DnStatus s;
  s.state = state;
  s.alwaysRegistered = wanted;
  s.failures = failures;
  s.lastStatus = lastStatus;
  return s;
}

TEST(DnHealth, OnlyDnsThatShouldBeRegisteredCount) {
  auto h = dnHealth({dn(RegistrationState::Registered, true), dn(RegistrationState::RetryWait, true, 3, 403),
                     dn(RegistrationState::Registering, true), dn(RegistrationState::Unregistered, false, 2, 408)});
  EXPECT_EQ(h.wanted, 3u);
  EXPECT_EQ(h.registered, 1u);
  EXPECT_EQ(h.failed, 1u);  // registering without a failure yet is not failed; the unwanted DN is not counted
  EXPECT_EQ(h.lastFailureStatus, 403);
}

TEST(DnHealth, NotReadyWhileNoneIsRegisteredOrTooManyFailed) {
  EXPECT_EQ(dnHealthProblem({}, 50), "");  // nothing to register
  EXPECT_EQ(dnHealthProblem({2, 0, 0, 0}, 50), "DN registrations: 0 of 2 registered (0 failed)");
  EXPECT_EQ(dnHealthProblem({2, 0, 2, 403}, 100),
            "DN registrations: 0 of 2 registered (2 failed, last failure status 403)");
  EXPECT_EQ(dnHealthProblem({4, 2, 2, 403}, 50), "");  // exactly 50 %: not more than
  EXPECT_EQ(dnHealthProblem({4, 1, 3, 403}, 50),
            "DN registrations: 3 of 4 failed, more than upstream.ready_max_failed_dn_percent 50%, last failure "
            "status 403");
  EXPECT_EQ(dnHealthProblem({100, 99, 1, 500}, 0),
            "DN registrations: 1 of 100 failed, more than upstream.ready_max_failed_dn_percent 0%, last failure "
            "status 500");
}

}  // namespace
}  // namespace rtcgate::sip
