// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

namespace rtcgate::ctl {

// The human form of an admin API answer (docs/admin-api.md): `command` names the resource ("status", "calls",
// "call", "agents", "dns", "upstreams", "reload", "drain", "hangup"). `json` is the API's body. Returns "" when
// the body is not the JSON the command expects (the caller prints it as it came).
std::string renderTable(const std::string& command, const std::string& json);

}  // namespace rtcgate::ctl
