// SPDX-License-Identifier: Apache-2.0
#include "admin_api.h"

#include <cmath>

#include "rtcgate/admin/json_writer.h"
#include "rtcgate/app/version.h"
#include "rtcgate/core/log.h"
#include "rtcgate/session/session_manager.h"
#include "rtcgate/signaling/wss_server.h"
#include "rtcgate/sip/sip_stack.h"

namespace rtcgate::app {
namespace {

using Response = admin::AdminHttp::Response;
using admin::JsonWriter;

constexpr const char* kJson = "application/json";

Response ok(JsonWriter& w) { return {200, kJson, w.str()}; }
Response error(int status, std::string_view message) { return {status, kJson, admin::jsonError(message)}; }
Response notAllowed(const char* allow) {
  Response r = error(405, "method not allowed");
  r.headers.emplace_back("allow", allow);
  return r;
}

// Seconds from now to `t` (negative when past), rounded to 0.1 s, or null.
// Seconds from now until `t`, or since `t` with `ago`; null when there is no `t`.
void secondsUntil(JsonWriter& w, std::string_view name, const std::optional<std::chrono::steady_clock::time_point>& t,
                  bool ago = false) {
  w.key(name);
  if (!t) {
    w.null();
    return;
  }
  double s = std::chrono::duration<double>(*t - std::chrono::steady_clock::now()).count() * (ago ? -1 : 1);
  w.value(std::round(s * 10) / 10);
}

double round2(double v) { return std::round(v * 100) / 100; }

void writeLeg(JsonWriter& w, const session::LegSnapshot& l) {
  w.beginObject();
  w.key("codec");
  if (l.codec.empty()) w.null();
  else w.value(l.codec);
  w.field("packets_sent", l.packetsSent)
      .field("packets_received", l.packetsReceived)
      .field("packets_lost", l.packetsLost)
      .field("loss_percent", round2(l.lossPercent))
      .field("jitter_ms", round2(l.jitterMs))
      .field("rtt_ms", l.rttMs ? std::optional<double>(round2(*l.rttMs)) : std::nullopt)
      .field("mos", round2(l.mos));
  w.endObject();
}

void writeCall(JsonWriter& w, const session::CallSnapshot& c) {
  w.beginObject();
  w.field("id", c.id)
      .field("browser_call_id", c.browserCallId)
      .field("upstream_call_id", c.upstreamCallId)
      .field("agent", c.agent)
      .field("dn", c.dn)
      .field("direction", c.direction)
      .field("state", c.state)
      .field("target", c.target);
  w.key("media_mode");
  if (c.passthrough) w.value(*c.passthrough ? "passthrough" : "transcoding");
  else w.null();
  w.key("ice").beginObject()
      .field("local_type", c.iceLocalType)
      .field("local_address", c.iceLocalAddress)
      .field("remote_type", c.iceRemoteType)
      .field("remote_address", c.iceRemoteAddress)
      .endObject();
  w.key("dtls").beginObject().field("role", c.dtlsRole).field("srtp_profile", c.srtpProfile).endObject();
  w.key("legs").beginObject();
  w.key("browser");
  writeLeg(w, c.browser);
  w.key("upstream");
  writeLeg(w, c.upstream);
  w.endObject();
  w.field("duration_s", std::round(c.durationS * 10) / 10).field("media_sampled", c.mediaSampled);
  w.endObject();
}

const char* upstreamStateName(sip::UpstreamState s) {
  switch (s) {
    case sip::UpstreamState::Up: return "up";
    case sip::UpstreamState::Down: return "down";
    case sip::UpstreamState::Unknown: break;
  }
  return "unknown";
}

}  // namespace

void AdminApi::handle(const admin::AdminHttp::ApiRequest& req, admin::AdminHttp::Reply reply) {
  const std::string& p = req.path;
  const bool get = req.method == "GET";
  if (p == "calls" || p.rfind("calls/", 0) == 0) {
    std::string rest = p == "calls" ? "" : p.substr(6);
    const auto slash = rest.find('/');
    if (slash != std::string::npos) {
      if (rest.substr(slash) != "/hangup") return reply(error(404, "no such resource"));
      if (req.method != "POST") return reply(notAllowed("POST"));
      return reply(hangup(rest.substr(0, slash), req.body));
    }
    if (!get) return reply(notAllowed("GET"));
    if (!d_.sessions) {
      if (!rest.empty()) return reply(error(404, "no such call"));
      JsonWriter w;
      w.beginObject().key("calls").beginArray().endArray().endObject();
      return reply(ok(w));
    }
    const bool one = !rest.empty();
    d_.sessions->snapshot(rest, [reply, one](std::vector<session::CallSnapshot> calls) {
      if (one && calls.empty()) return reply(error(404, "no such call"));
      JsonWriter w;
      if (one) {
        writeCall(w, calls.front());
      } else {
        std::sort(calls.begin(), calls.end(), [](auto& a, auto& b) { return a.durationS > b.durationS; });
        w.beginObject().key("calls").beginArray();
        for (auto& c : calls) writeCall(w, c);
        w.endArray().endObject();
      }
      reply(ok(w));
    });
    return;
  }
  if (p == "status") return reply(get ? status() : notAllowed("GET"));
  if (p == "agents") return reply(get ? agents() : notAllowed("GET"));
  if (p == "dns") return reply(get ? dns() : notAllowed("GET"));
  if (p == "upstreams") return reply(get ? upstreams() : notAllowed("GET"));
  if (p == "reload") return reply(req.method == "POST" ? reload() : notAllowed("POST"));
  if (p == "drain") return reply(get ? drainInfo() : startDrain(req.body));
  reply(error(404, "no such resource"));
}

Response AdminApi::status() const {
  const auto cfg = d_.store.current();
  size_t dnsRegistered = 0, dnsTotal = 0;
  if (d_.sip)
    for (const auto& r : d_.sip->registrations()) {
      ++dnsTotal;
      dnsRegistered += r.state == sip::RegistrationState::Registered ? 1 : 0;
    }
  JsonWriter w;
  w.beginObject()
      .field("version", std::string(kVersion))
      .field("uptime_s", std::round(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count()))
      .field("config", d_.store.path())
      .field("calls", static_cast<uint64_t>(d_.sessions ? d_.sessions->size() : 0))
      .field("agents_configured", static_cast<uint64_t>(cfg->agents.size()))
      .field("agents_registered", static_cast<uint64_t>(d_.wss ? d_.wss->registrar().size() : 0))
      .field("dns_registered", static_cast<uint64_t>(dnsRegistered))
      .field("dns_total", static_cast<uint64_t>(dnsTotal))
      .field("upstream", std::string(upstreamStateName(d_.sip ? d_.sip->upstreamState() : sip::UpstreamState::Unknown)))
      .field("draining", d_.drain.progress().active)
      .endObject();
  return ok(w);
}

Response AdminApi::agents() const {
  const auto cfg = d_.store.current();
  JsonWriter w;
  w.beginObject().key("agents").beginArray();
  for (const auto& a : cfg->agents) {
    w.beginObject().field("user", a.user).field("dn", a.dn);
    bool connected = false;
    w.key("connections").beginArray();
    if (d_.wss)
      for (const auto& [conn, user] : d_.wss->endpoint().agentConnections())
        if (user == a.user) {
          connected = true;
          w.beginObject().field("id", static_cast<uint64_t>(conn)).field("address", d_.wss->connectionAddress(conn));
          w.endObject();
        }
    w.endArray();
    auto regs = d_.wss ? d_.wss->registrar().lookup(a.user) : std::vector<signaling::Registration>{};
    w.field("websocket_connected", connected);
    w.field("registered", !regs.empty());
    w.key("registrations").beginArray();
    for (const auto& r : regs) {
      w.beginObject()
          .field("contact", r.contactUri)
          .field("instance", r.instance)
          .field("address", d_.wss->connectionAddress(r.connection));
      secondsUntil(w, "expires_in_s", r.expiresAt);
      w.endObject();
    }
    w.endArray();
    w.field("calls", static_cast<uint64_t>(d_.sessions ? d_.sessions->callsOfDn(a.dn) : 0));
    w.endObject();
  }
  w.endArray().endObject();
  return ok(w);
}

Response AdminApi::dns() const {
  JsonWriter w;
  w.beginObject().key("dns").beginArray();
  if (d_.sip)
    for (const auto& r : d_.sip->registrations()) {
      w.beginObject()
          .field("dn", r.dn)
          .field("state", std::string(sip::toString(r.state)))
          .field("agent_present", r.agentPresent)
          .field("always_registered", r.alwaysRegistered);
      w.key("last_status");
      if (r.lastStatus != 0) w.value(r.lastStatus);
      else w.null();
      w.field("last_phrase", r.lastPhrase).field("last_error", r.lastError).field("failures", r.failures);
      secondsUntil(w, "registered_for_s", r.registeredUntil);
      secondsUntil(w, "next_attempt_in_s", r.nextAttempt);
      w.endObject();
    }
  w.endArray().endObject();
  return ok(w);
}

Response AdminApi::upstreams() const {
  const auto cfg = d_.store.current();
  JsonWriter w;
  w.beginObject().field("options_ping_interval_ms", static_cast<uint64_t>(cfg->upstream.optionsPingIntervalMs));
  w.key("upstreams").beginArray();
  if (d_.sip)
    for (const auto& u : d_.sip->upstreams()) {
      w.beginObject().field("uri", u.uri).field("state", std::string(upstreamStateName(u.state)));
      w.field("last_status", u.lastStatus != 0 ? std::optional<uint64_t>(static_cast<uint64_t>(u.lastStatus)) : std::nullopt)
          .field("last_phrase", u.lastPhrase);
      secondsUntil(w, "last_answer_s_ago", u.lastAnswer, true);
      w.field("failures", static_cast<uint64_t>(u.consecutiveFailures))
          .field("failures_total", u.failuresTotal)
          .endObject();
    }
  w.endArray().endObject();
  return ok(w);
}

Response AdminApi::reload() {
  auto r = d_.reload();
  JsonWriter w;
  w.beginObject().field("applied", r.applied);
  w.key("error");
  if (r.applied) w.null();
  else w.value(r.error);
  w.key("restart_required").beginArray();
  for (auto& k : r.restartOnly) w.value(k);
  w.endArray().endObject();
  return {r.applied ? 200 : 422, kJson, w.str()};
}

Response AdminApi::drainInfo() const {
  auto p = d_.drain.progress();
  JsonWriter w;
  w.beginObject().field("draining", p.active);
  if (p.active)
    w.field("calls_left", static_cast<uint64_t>(p.callsLeft))
        .field("seconds_left", std::round(p.secondsLeft * 10) / 10)
        .field("deadline_s", p.deadlineS)
        .field("elapsed_s", std::round(p.elapsedS * 10) / 10)
        .field("requested_by", p.requestedBy)
        .field("stopping", p.stopping);
  w.endObject();
  return ok(w);
}

Response AdminApi::startDrain(const std::string& body) {
  admin::JsonBody b(body);
  std::optional<double> deadline;
  if (!b.number("deadline_s", &deadline)) return error(400, b.error());
  if (!b.error().empty()) return error(400, b.error());
  if (deadline && (!std::isfinite(*deadline) || *deadline < 0 ||
                   *deadline > static_cast<double>(Drain::kMaxDeadline.count())))
    return error(400, "deadline_s must be 0.." + std::to_string(Drain::kMaxDeadline.count()));
  const auto ms = deadline ? std::chrono::milliseconds(static_cast<int64_t>(*deadline * 1000))
                           : std::chrono::duration_cast<std::chrono::milliseconds>(Drain::kDefaultDeadline);
  const bool started = d_.drain.start(ms, "admin API");
  Response r = drainInfo();
  r.status = started ? 202 : 409;
  return r;
}

Response AdminApi::hangup(const std::string& id, const std::string& body) {
  admin::JsonBody b(body);
  std::optional<std::string> reason;
  if (!b.string("reason", &reason) || !b.error().empty()) return error(400, b.error());
  if (!d_.sessions || !d_.sessions->hangup(id, log::escaped(reason.value_or("operator request"))))
    return error(404, "no such call");
  JsonWriter w;
  w.beginObject().field("id", id).field("hung_up", true).endObject();
  return {200, kJson, w.str()};
}

}  // namespace rtcgate::app
