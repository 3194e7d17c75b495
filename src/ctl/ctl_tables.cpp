// SPDX-License-Identifier: Apache-2.0
#include "ctl_tables.h"

#include <fmt/format.h>
#include <json-glib/json-glib.h>

#include <memory>
#include <vector>

namespace rtcgate::ctl {
namespace {

struct Unref {
  void operator()(gpointer p) const { g_object_unref(p); }
};

// A member as text: strings as they are (control bytes shown as '?', a terminal must not be steered by them),
// numbers printed short, null and absent as "-".
std::string text(JsonObject* o, const char* name) {
  if (o == nullptr || !json_object_has_member(o, name)) return "-";
  JsonNode* n = json_object_get_member(o, name);
  if (JSON_NODE_HOLDS_NULL(n)) return "-";
  if (!JSON_NODE_HOLDS_VALUE(n)) return "?";
  switch (json_node_get_value_type(n)) {
    case G_TYPE_STRING: {
      std::string s = json_node_get_string(n);
      for (auto& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
      return s.empty() ? "-" : s;
    }
    case G_TYPE_INT64: return std::to_string(json_node_get_int(n));
    case G_TYPE_DOUBLE: return fmt::format("{:g}", json_node_get_double(n));
    case G_TYPE_BOOLEAN: return json_node_get_boolean(n) ? "yes" : "no";
    default: return "?";
  }
}

JsonObject* object(JsonObject* o, const char* name) {
  if (o == nullptr || !json_object_has_member(o, name)) return nullptr;
  JsonNode* n = json_object_get_member(o, name);
  return JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : nullptr;
}

JsonArray* array(JsonObject* o, const char* name) {
  if (o == nullptr || !json_object_has_member(o, name)) return nullptr;
  JsonNode* n = json_object_get_member(o, name);
  return JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : nullptr;
}

// Columns as wide as their widest cell, two spaces apart.
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  std::string out;
  for (auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) line += i + 1 < r.size() ? fmt::format("{:<{}}  ", r[i], width[i]) : r[i];
    out += line + "\n";
  }
  return out;
}

std::string pairText(JsonObject* legs, const char* field) {
  return text(object(legs, "browser"), field) + "/" + text(object(legs, "upstream"), field);
}

std::vector<std::string> callRow(JsonObject* c) {
  JsonObject* legs = object(c, "legs");
  return {text(c, "id"), text(c, "direction"), text(c, "agent"), text(c, "dn"), text(c, "state"),
          pairText(legs, "codec"), text(c, "media_mode"), text(c, "duration_s"), pairText(legs, "loss_percent"),
          pairText(legs, "jitter_ms"), pairText(legs, "mos")};
}

const std::vector<std::string> kCallHeader = {"ID", "DIRECTION", "AGENT", "DN", "STATE", "CODECS(B/G)", "MODE",
                                              "DURATION_S", "LOSS%(B/G)", "JITTER_MS(B/G)", "MOS(B/G)"};

std::string callDetail(JsonObject* c) {
  JsonObject* ice = object(c, "ice");
  JsonObject* dtls = object(c, "dtls");
  JsonObject* legs = object(c, "legs");
  std::vector<std::vector<std::string>> rows = {
      {"id", text(c, "id")},
      {"browser Call-ID", text(c, "browser_call_id")},
      {"upstream Call-ID", text(c, "upstream_call_id")},
      {"agent / DN", text(c, "agent") + " / " + text(c, "dn")},
      {"direction", text(c, "direction")},
      {"target", text(c, "target")},
      {"state", text(c, "state")},
      {"media", text(c, "media_mode")},
      {"ICE pair", text(ice, "local_type") + " " + text(ice, "local_address") + " <-> " + text(ice, "remote_type") +
                       " " + text(ice, "remote_address")},
      {"DTLS", text(dtls, "role") + " " + text(dtls, "srtp_profile")},
      {"duration s", text(c, "duration_s")}};
  std::string out = table(rows);
  std::vector<std::vector<std::string>> leg = {
      {"LEG", "CODEC", "SENT", "RECEIVED", "LOST", "LOSS%", "JITTER_MS", "RTT_MS", "MOS"}};
  for (const char* name : {"browser", "upstream"}) {
    JsonObject* l = object(legs, name);
    leg.push_back({name, text(l, "codec"), text(l, "packets_sent"), text(l, "packets_received"),
                   text(l, "packets_lost"), text(l, "loss_percent"), text(l, "jitter_ms"), text(l, "rtt_ms"),
                   text(l, "mos")});
  }
  return out + "\n" + table(leg);
}

}  // namespace

std::string renderTable(const std::string& command, const std::string& json) {
  std::unique_ptr<JsonParser, Unref> parser(json_parser_new());
  if (!json_parser_load_from_data(parser.get(), json.data(), static_cast<gssize>(json.size()), nullptr)) return "";
  JsonNode* root = json_parser_get_root(parser.get());
  if (root == nullptr || !JSON_NODE_HOLDS_OBJECT(root)) return "";
  JsonObject* o = json_node_get_object(root);
  if (command == "call") return callDetail(o);
  if (command == "calls") {
    JsonArray* calls = array(o, "calls");
    if (calls == nullptr) return "";
    std::vector<std::vector<std::string>> rows = {kCallHeader};
    for (guint i = 0; i < json_array_get_length(calls); ++i)
      rows.push_back(callRow(json_array_get_object_element(calls, i)));
    return table(rows) + fmt::format("{} call(s)\n", json_array_get_length(calls));
  }
  if (command == "agents") {
    JsonArray* agents = array(o, "agents");
    if (agents == nullptr) return "";
    std::vector<std::vector<std::string>> rows = {{"USER", "DN", "WEBSOCKET", "FROM", "REGISTERED", "EXPIRES_IN_S", "CALLS"}};
    for (guint i = 0; i < json_array_get_length(agents); ++i) {
      JsonObject* a = json_array_get_object_element(agents, i);
      JsonArray* conns = array(a, "connections");
      JsonArray* regs = array(a, "registrations");
      std::string from = conns != nullptr && json_array_get_length(conns) > 0
                             ? text(json_array_get_object_element(conns, 0), "address")
                             : "-";
      std::string expires = regs != nullptr && json_array_get_length(regs) > 0
                                ? text(json_array_get_object_element(regs, 0), "expires_in_s")
                                : "-";
      rows.push_back({text(a, "user"), text(a, "dn"), text(a, "websocket_connected"), from, text(a, "registered"),
                      expires, text(a, "calls")});
    }
    return table(rows);
  }
  if (command == "dns") {
    JsonArray* dns = array(o, "dns");
    if (dns == nullptr) return "";
    std::vector<std::vector<std::string>> rows = {
        {"DN", "STATE", "AGENT", "LAST", "LAST_ERROR", "FAILURES", "REGISTERED_FOR_S", "NEXT_ATTEMPT_IN_S"}};
    for (guint i = 0; i < json_array_get_length(dns); ++i) {
      JsonObject* d = json_array_get_object_element(dns, i);
      rows.push_back({text(d, "dn"), text(d, "state"), text(d, "agent_present"),
                      text(d, "last_status") == "-" ? "-" : text(d, "last_status") + " " + text(d, "last_phrase"), text(d, "last_error"),
                      text(d, "failures"), text(d, "registered_for_s"), text(d, "next_attempt_in_s")});
    }
    return table(rows);
  }
  if (command == "upstreams") {
    JsonArray* ups = array(o, "upstreams");
    if (ups == nullptr) return "";
    std::vector<std::vector<std::string>> rows = {
        {"URI", "STATE", "LAST", "LAST_ANSWER_S_AGO", "FAILURES", "FAILURES_TOTAL"}};
    for (guint i = 0; i < json_array_get_length(ups); ++i) {
      JsonObject* u = json_array_get_object_element(ups, i);
      rows.push_back({text(u, "uri"), text(u, "state"),
                      text(u, "last_status") == "-" ? "-" : text(u, "last_status") + " " + text(u, "last_phrase"),
                      text(u, "last_answer_s_ago"), text(u, "failures"), text(u, "failures_total")});
    }
    return table(rows) + (json_array_get_length(ups) == 0 ? "(OPTIONS pings are off)\n" : "");
  }
  if (command == "drain") {
    if (text(o, "draining") != "yes") return "not draining\n";
    if (text(o, "stopping") == "yes") return "drain complete: the daemon is stopping\n";
    return fmt::format("draining: {} call(s) left, {} s to the deadline (deadline {} s, requested by {})\n",
                       text(o, "calls_left"), text(o, "seconds_left"), text(o, "deadline_s"), text(o, "requested_by"));
  }
  if (command == "reload") {
    std::string out = text(o, "applied") == "yes" ? "reloaded\n" : "reload refused: " + text(o, "error") + "\n";
    JsonArray* keys = array(o, "restart_required");
    for (guint i = 0; keys != nullptr && i < json_array_get_length(keys); ++i) {
      std::string k = json_array_get_string_element(keys, i) != nullptr ? json_array_get_string_element(keys, i) : "?";
      out += "needs a restart: " + k + "\n";
    }
    return out;
  }
  if (command == "hangup") return "call " + text(o, "id") + " hung up\n";
  // status: one "key: value" line per member, in the API's order.
  std::string out;
  GList* members = json_object_get_members(o);
  for (GList* m = members; m != nullptr; m = m->next) {
    const char* name = static_cast<const char*>(m->data);
    out += fmt::format("{}: {}\n", name, text(o, name));
  }
  g_list_free(members);
  return out;
}

}  // namespace rtcgate::ctl
