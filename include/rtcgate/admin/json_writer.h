// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

typedef struct _JsonBuilder JsonBuilder;
typedef struct _JsonNode JsonNode;
struct _JsonParser;

namespace rtcgate::admin {

// JSON text for the admin API, built with json-glib (docs/adr/0009-admin-api-json-and-http-client.md): it escapes
// every string, so names and addresses from the network cannot break the document. Thread: any, one per document.
class JsonWriter {
public:
  JsonWriter();
  ~JsonWriter();
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  JsonWriter& beginObject();
  JsonWriter& endObject();
  JsonWriter& beginArray();
  JsonWriter& endArray();
  JsonWriter& key(std::string_view name);
  JsonWriter& value(std::string_view v);
  JsonWriter& value(const char* v) { return value(std::string_view(v)); }
  JsonWriter& value(const std::string& v) { return value(std::string_view(v)); }
  JsonWriter& value(int64_t v);
  JsonWriter& value(uint64_t v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(int v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(unsigned v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(double v);
  JsonWriter& value(bool v);
  JsonWriter& null();
  template <typename T>
  JsonWriter& field(std::string_view name, const T& v) {
    return key(name).value(v);
  }
  template <typename T>
  JsonWriter& field(std::string_view name, const std::optional<T>& v) {
    key(name);
    return v ? value(*v) : null();
  }
  // The document, pretty-printed, with a final newline.
  std::string str();

private:
  JsonBuilder* builder_;
};

// `{"error": message}` as the admin API answers failures.
std::string jsonError(std::string_view message);

// A request body of the admin API: empty, or a JSON object whose members are read by name. Thread: any.
class JsonBody {
public:
  explicit JsonBody(std::string_view body);
  ~JsonBody();
  JsonBody(const JsonBody&) = delete;
  JsonBody& operator=(const JsonBody&) = delete;
  // "" when the body is empty or a JSON object, else what is wrong with it.
  const std::string& error() const { return error_; }
  // The member `name`: nullopt when absent; false (and error() set) when it has another type.
  bool number(const char* name, std::optional<double>* out);
  bool string(const char* name, std::optional<std::string>* out);

private:
  JsonNode* member(const char* name) const;
  struct _JsonParser* parser_ = nullptr;
  std::string error_;
};

}  // namespace rtcgate::admin
