// The outer shape of the stand-in's JSON documents (seeds, fault rules): an object with one
// field that holds everything.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace standin {

// "" when `doc` is a JSON object whose only field is `field`, holding a `type`; otherwise the
// problem: `shape` (how the document must look), or the unknown field found beside `field`.
inline std::string sole_field_problem(const nlohmann::json& doc, const std::string& field,
                                      nlohmann::json::value_t type, const std::string& shape) {
  if (!doc.is_object() || !doc.contains(field) || doc.at(field).type() != type) return shape;
  for (const auto& [key, value] : doc.items()) {
    if (key != field) return "unknown field \"" + key + "\" beside \"" + field + "\"";
  }
  return {};
}

}  // namespace standin
