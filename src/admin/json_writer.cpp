// SPDX-License-Identifier: Apache-2.0
#include "rtcgate/admin/json_writer.h"

#include <json-glib/json-glib.h>

#include <memory>

namespace rtcgate::admin {
namespace {
struct GObjectUnref {
  void operator()(gpointer p) const { g_object_unref(p); }
};
}  // namespace

JsonWriter::JsonWriter() : builder_(json_builder_new()) {}
JsonWriter::~JsonWriter() { g_object_unref(builder_); }

JsonWriter& JsonWriter::beginObject() { json_builder_begin_object(builder_); return *this; }
JsonWriter& JsonWriter::endObject() { json_builder_end_object(builder_); return *this; }
JsonWriter& JsonWriter::beginArray() { json_builder_begin_array(builder_); return *this; }
JsonWriter& JsonWriter::endArray() { json_builder_end_array(builder_); return *this; }
JsonWriter& JsonWriter::key(std::string_view name) {
  json_builder_set_member_name(builder_, std::string(name).c_str());
  return *this;
}
JsonWriter& JsonWriter::value(std::string_view v) {
  // json-glib wants UTF-8; bytes from the network that are not are replaced rather than passed through.
  gchar* valid = g_utf8_make_valid(v.data(), static_cast<gssize>(v.size()));
  json_builder_add_string_value(builder_, valid);
  g_free(valid);
  return *this;
}
JsonWriter& JsonWriter::value(int64_t v) { json_builder_add_int_value(builder_, v); return *this; }
JsonWriter& JsonWriter::value(double v) { json_builder_add_double_value(builder_, v); return *this; }
JsonWriter& JsonWriter::value(bool v) { json_builder_add_boolean_value(builder_, v); return *this; }
JsonWriter& JsonWriter::null() { json_builder_add_null_value(builder_); return *this; }

std::string JsonWriter::str() {
  JsonNode* root = json_builder_get_root(builder_);
  std::unique_ptr<JsonGenerator, GObjectUnref> gen(json_generator_new());
  json_generator_set_pretty(gen.get(), TRUE);
  json_generator_set_root(gen.get(), root);
  gchar* text = json_generator_to_data(gen.get(), nullptr);
  std::string out = text != nullptr ? text : "null";
  g_free(text);
  json_node_unref(root);
  return out + "\n";
}

std::string jsonError(std::string_view message) {
  JsonWriter w;
  w.beginObject().field("error", message).endObject();
  return w.str();
}

JsonBody::JsonBody(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return;
  parser_ = json_parser_new();
  GError* err = nullptr;
  if (!json_parser_load_from_data(parser_, body.data(), static_cast<gssize>(body.size()), &err)) {
    error_ = std::string("body is not JSON: ") + (err != nullptr ? err->message : "?");
    if (err != nullptr) g_error_free(err);
    return;
  }
  JsonNode* root = json_parser_get_root(parser_);
  if (root == nullptr || !JSON_NODE_HOLDS_OBJECT(root)) error_ = "body must be a JSON object";
}

JsonBody::~JsonBody() {
  if (parser_ != nullptr) g_object_unref(parser_);
}

JsonNode* JsonBody::member(const char* name) const {
  if (parser_ == nullptr || !error_.empty()) return nullptr;
  JsonObject* obj = json_node_get_object(json_parser_get_root(parser_));
  return json_object_has_member(obj, name) ? json_object_get_member(obj, name) : nullptr;
}

bool JsonBody::number(const char* name, std::optional<double>* out) {
  JsonNode* v = member(name);
  if (v == nullptr) return error_.empty();
  const GType t = JSON_NODE_HOLDS_VALUE(v) ? json_node_get_value_type(v) : G_TYPE_INVALID;
  if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE) {
    error_ = std::string("'") + name + "' must be a number";
    return false;
  }
  *out = t == G_TYPE_INT64 ? static_cast<double>(json_node_get_int(v)) : json_node_get_double(v);
  return true;
}

bool JsonBody::string(const char* name, std::optional<std::string>* out) {
  JsonNode* v = member(name);
  if (v == nullptr) return error_.empty();
  if (!JSON_NODE_HOLDS_VALUE(v) || json_node_get_value_type(v) != G_TYPE_STRING) {
    error_ = std::string("'") + name + "' must be a string";
    return false;
  }
  *out = json_node_get_string(v);
  return true;
}

}  // namespace rtcgate::admin
