// SPDX-License-Identifier: Apache-2.0
#include "yaml_reader.h"

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>

#include <sstream>

#include "rtcgate/config/config_loader.h"
#include "rtcgate/core/address.h"

namespace rtcgate::config::detail {

bool isIpAddress(const std::string& s) { return IpAddress::parse(s).has_value(); }

namespace {

class DepthCounter final : public YAML::EventHandler {
public:
  explicit DepthCounter(const std::string& source) : source_(source) {}
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    open(mark);
  }
  void OnSequenceEnd() override { --depth_; }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    open(mark);
  }
  void OnMapEnd() override { --depth_; }

private:
  void open(const YAML::Mark& mark) {
    if (++depth_ > kMaxNestingDepth)
      throw ConfigError(source_, mark.line + 1, mark.column + 1, "(syntax)",
                        fmt::format("nested deeper than {} levels; refusing it", kMaxNestingDepth));
  }
  const std::string& source_;
  int depth_ = 0;
};

}  // namespace

void checkNestingDepth(const std::string& yamlText, const std::string& sourceName) {
  std::istringstream in(yamlText);
  YAML::Parser parser(in);
  DepthCounter counter(sourceName);
  // The first document only, as YAML::Load reads only that one. Looping over the rest is also unsafe: on some
  // malformed input yaml-cpp 0.7's HandleNextDocument returns true without consuming a token, forever (found by
  // the config_yaml fuzz target; fuzz/regressions/config_yaml/).
  parser.HandleNextDocument(counter);
}

void ErrorList::add(const ConfigError& e) {
  for (auto& one : e.errors()) errors_.push_back(one);
}

void ErrorList::throwIfAny() const {
  if (!errors_.empty()) throw ConfigError::collected(errors_);
}

void Field::fail(const std::string& message) const {
  const auto mark = node_.Mark();
  // yaml-cpp reports a null mark (-1) for nodes it synthesised; the error then has no position.
  int line = mark.line >= 0 ? mark.line + 1 : 0;
  int column = mark.column >= 0 ? mark.column + 1 : 0;
  throw ConfigError(source_, line, column, path_.empty() ? "(top level)" : path_, message);
}

std::string Field::asString() const {
  if (!node_.IsScalar()) fail("must be a string");
  return node_.Scalar();
}

bool Field::asBool() const {
  if (node_.IsScalar()) {
    const auto& s = node_.Scalar();
    if (s == "true") return true;
    if (s == "false") return false;
  }
  fail("must be true or false");
}

uint32_t Field::asUint(uint32_t min, uint32_t max) const {
  if (!node_.IsScalar()) fail("must be a whole number");
  const auto& s = node_.Scalar();
  if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string::npos)
    fail(fmt::format("'{}' is not a whole number", s));
  unsigned long long v = std::stoull(s);
  if (v < min || v > max) fail(fmt::format("{} is out of range {}..{}", s, min, max));
  return static_cast<uint32_t>(v);
}

uint16_t Field::asPort(bool allowZero) const { return static_cast<uint16_t>(asUint(allowZero ? 0 : 1, 65535)); }

std::string Field::asIpAddress() const {
  auto s = asString();
  if (!isIpAddress(s)) fail(fmt::format("'{}' is not an IPv4 or IPv6 address (host names are not accepted)", s));
  return s;
}

std::string Field::asCidr() const {
  auto s = asString();
  if (!isIpAddress(s.substr(0, s.find('/')))) fail(fmt::format("'{}' is not an address or CIDR (like 10.0.0.0/8)", s));
  if (!IpNetwork::parse(s)) fail(fmt::format("'{}' has an invalid prefix length", s));
  return s;
}

std::string Field::asToken() const {
  auto s = asString();
  if (s.empty() || s.size() > 64) fail("must be 1 to 64 characters");
  // RFC 3261 §25.1 "unreserved" minus the marks that need escaping in a user part in practice.
  if (s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()+") != std::string::npos)
    fail(fmt::format("'{}' has characters not allowed in a SIP user part", s));
  return s;
}

std::vector<Field> Field::asSequence() const {
  if (!node_.IsSequence()) fail("must be a list");
  std::vector<Field> out;
  size_t i = 0;
  for (const auto& item : node_) out.emplace_back(item, fmt::format("{}[{}]", path_, i++), source_);
  return out;
}

std::vector<std::pair<Field, Field>> Field::asMap() const {
  if (!node_.IsMap()) fail("must be a mapping of keys to values");
  std::vector<std::pair<Field, Field>> out;
  std::set<std::string> seen;
  for (const auto& kv : node_) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
    auto childPath = path_.empty() ? key : path_ + "." + key;
    Field keyField(kv.first, childPath, source_);
    if (!kv.first.IsScalar()) keyField.fail("keys must be plain strings");
    if (!seen.insert(key).second) keyField.fail("duplicate key");
    out.emplace_back(keyField, Field(kv.second, childPath, source_));
  }
  return out;
}

MapReader::MapReader(const Field& map) : map_(map), entries_(map.asMap()) {}

std::optional<Field> MapReader::optional(const std::string& key) {
  asked_.insert(key);
  for (auto& [k, v] : entries_)
    if (k.node().Scalar() == key) return v;
  return std::nullopt;
}

Field MapReader::required(const std::string& key) {
  if (auto v = optional(key)) return *v;
  map_.fail(fmt::format("missing required key '{}'", key));
}

void MapReader::removed(const std::string& key, const std::string& why) const {
  for (const auto& entry : entries_)
    if (entry.first.node().Scalar() == key) entry.second.fail(why);
}

void MapReader::finish() const {
  ErrorList errors;
  for (auto& entry : entries_) {
    // Not a structured binding: clang 14 cannot capture one in the lambda below.
    const Field& k = entry.first;
    if (asked_.count(k.node().Scalar())) continue;
    std::string known;
    for (auto& a : asked_) known += (known.empty() ? "" : ", ") + a;
    errors.guard([&] { k.fail(fmt::format("unknown key '{}' (known here: {})", k.node().Scalar(), known)); });
  }
  errors.throwIfAny();
}

}  // namespace rtcgate::config::detail
