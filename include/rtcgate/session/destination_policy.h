// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string_view>

#include "rtcgate/config/config.h"

namespace rtcgate::session {

// Why the destination policy refused (or not) what an agent asked Genesys to reach.
enum class DestinationVerdict {
  Allowed,
  NoUser,         // the URI has no user part (sip:host)
  NotDialable,    // the user part is not 1..64 dial characters (isDialableTarget)
  ForeignDomain,  // security.destinations.own_domain_only, and the host is not rtcgate's
  DeniedPrefix,   // the number starts with one of security.destinations.denied_prefixes
  NotAllowed,     // security.destinations.allowed_patterns is set and none matches
};

// The destination policy (security.destinations) for an agent's INVITE Request-URI or REFER Refer-To, given its
// user part as received (still %-escaped) and its host (sofia-sip's url_host: brackets kept around IPv6). Checked
// in this order: user part present, dial characters, host, denied prefixes, allowed patterns. The first failing
// check decides. Only the user part is ever sent upstream (in upstream.domain). Thread: any (pure).
DestinationVerdict checkDestination(const config::Config& cfg, std::string_view user, std::string_view host);

// The 403 reason phrase for a refusal ("Forbidden" for Allowed, which is never sent), and a log description.
std::string_view refusalPhrase(DestinationVerdict verdict);
std::string_view refusalDescription(DestinationVerdict verdict);

}  // namespace rtcgate::session
