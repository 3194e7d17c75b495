// SPDX-License-Identifier: Apache-2.0
// The destination policy (security.destinations) for agents' INVITE and REFER targets: order of the checks, hosts,
// prefixes through escapes and separators, full-match patterns.
#include <gtest/gtest.h>

#include "rtcgate/session/destination_policy.h"

namespace rtcgate::session {
namespace {

using V = DestinationVerdict;

FullMatchRegex regex(const char* pattern) {
  std::string error;
  auto r = FullMatchRegex::compile(pattern, &error);
  EXPECT_TRUE(r) << error;
  return *r;
}

config::Config withUpstream() {
  config::Config c;
  c.upstream.servers = {{"10.9.8.7", 5060, config::SipTransport::Udp}};
  c.upstream.domain = "genesys.example";
  c.listeners.wss = {{{"203.0.113.5", 8443}, "", ""}, {{"0.0.0.0", 8444}, "", ""}};
  return c;
}

TEST(DestinationPolicy, TheDefaultTakesDialStringsOnRtcgatesOwnHostsOnly) {
  const auto c = withUpstream();
  EXPECT_EQ(checkDestination(c, "7000", "rtcgate.invalid"), V::Allowed);  // JsSIP as the demo and tests set it up
  EXPECT_EQ(checkDestination(c, "+4930123456", "RTCGATE.Invalid"), V::Allowed);
  EXPECT_EQ(checkDestination(c, "%2372", "rtcgate.invalid"), V::Allowed);
  EXPECT_EQ(checkDestination(c, "7000", "genesys.example"), V::Allowed);  // upstream.domain
  EXPECT_EQ(checkDestination(c, "7000", "10.9.8.7"), V::Allowed);         // an upstream server
  EXPECT_EQ(checkDestination(c, "7000", "203.0.113.5"), V::Allowed);      // a WSS listener address
  EXPECT_EQ(checkDestination(c, "+88213", "rtcgate.invalid"), V::Allowed);  // no prefix denied by default

  EXPECT_EQ(checkDestination(c, "1000", "evil.example"), V::ForeignDomain);
  EXPECT_EQ(checkDestination(c, "1000", "rtcgate.invalid.evil.example"), V::ForeignDomain);
  EXPECT_EQ(checkDestination(c, "1000", "0.0.0.0"), V::ForeignDomain);  // a wildcard listener names no host
  EXPECT_EQ(checkDestination(c, "1000", ""), V::ForeignDomain);
  EXPECT_EQ(checkDestination(c, "", "rtcgate.invalid"), V::NoUser);
  EXPECT_EQ(checkDestination(c, "", "evil.example"), V::NoUser);  // the first failing check decides
  EXPECT_EQ(checkDestination(c, "50 01", "evil.example"), V::NotDialable);
  EXPECT_EQ(checkDestination(c, "%40evil", "rtcgate.invalid"), V::NotDialable);
}

TEST(DestinationPolicy, IpLiteralsCompareByValueAndOwnDomainOnlyCanBeSwitchedOff) {
  auto c = withUpstream();
  c.security.destinations.ownDomains = {"2001:db8::1", "gw.example.com"};
  EXPECT_EQ(checkDestination(c, "7000", "[2001:db8:0::1]"), V::Allowed);
  EXPECT_EQ(checkDestination(c, "7000", "GW.example.com"), V::Allowed);
  EXPECT_EQ(checkDestination(c, "7000", "rtcgate.invalid"), V::ForeignDomain);  // replaced, not added to
  EXPECT_EQ(checkDestination(c, "7000", "[2001:db8::2]"), V::ForeignDomain);
  c.security.destinations.ownDomainOnly = false;
  EXPECT_EQ(checkDestination(c, "1000", "evil.example"), V::Allowed);
  EXPECT_EQ(checkDestination(c, "", "evil.example"), V::NoUser);
}

TEST(DestinationPolicy, DeniedPrefixesSeeTheNumberWithoutEscapesOrSeparators) {
  auto c = withUpstream();
  c.security.destinations.deniedPrefixes = {"+882", "00882", "+1900", "*7"};
  for (const char* user : {"+88213000000", "%2B88213", "+88-2-13", "+88.213", "0088213", "+1900555", "*72", "%2a72"})
    EXPECT_EQ(checkDestination(c, user, "rtcgate.invalid"), V::DeniedPrefix) << user;
  for (const char* user : {"+4930123", "882", "+88", "0088", "#72", "7000"})
    EXPECT_EQ(checkDestination(c, user, "rtcgate.invalid"), V::Allowed) << user;
  // The host is checked before the prefixes.
  EXPECT_EQ(checkDestination(c, "+88213", "evil.example"), V::ForeignDomain);
}

TEST(DestinationPolicy, AllowedPatternsMustMatchTheWholeNumberAndComeAfterTheDeniedPrefixes) {
  auto c = withUpstream();
  c.security.destinations.allowedPatterns = {regex("[1-9][0-9]{3}"), regex("\\+49[0-9]{6,12}|0[1-9][0-9]{5,11}"),
                                             regex("#[0-9]{2}")};
  c.security.destinations.deniedPrefixes = {"+49900"};
  for (const char* user : {"7000", "+4930123456", "030123456", "%2372"})
    EXPECT_EQ(checkDestination(c, user, "rtcgate.invalid"), V::Allowed) << user;
  // Whole match only: a matching prefix or suffix is not enough, and each alternative is anchored.
  for (const char* user : {"70001", "x7000", "+4930123456x", "0301234569999999", "+88213", "queue.sales", "#7"})
    EXPECT_EQ(checkDestination(c, user, "rtcgate.invalid"), V::NotAllowed) << user;
  EXPECT_EQ(checkDestination(c, "+49900123456", "rtcgate.invalid"), V::DeniedPrefix);
}

TEST(DestinationPolicy, EveryRefusalHasItsOwnReasonPhrase) {
  for (V v : {V::NoUser, V::NotDialable, V::ForeignDomain, V::DeniedPrefix, V::NotAllowed}) {
    EXPECT_NE(refusalPhrase(v), "Forbidden");
    EXPECT_EQ(refusalPhrase(v).find_first_of("\r\n"), std::string_view::npos);
    EXPECT_NE(refusalDescription(v), refusalDescription(V::Allowed));
  }
  EXPECT_EQ(refusalPhrase(V::DeniedPrefix), "Destination Barred");
}

}  // namespace
}  // namespace rtcgate::session
