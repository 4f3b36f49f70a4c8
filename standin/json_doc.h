// The outer shape of the stand-in's JSON documents (seeds, fault rules): an object with one
// field that holds everything.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "types.h"

namespace standin {

// The value of `field` when `doc` is a JSON object whose only field it is, holding a `type`;
// otherwise the problem: `shape` (how the document must look), or the field found beside it.
inline Parsed<const nlohmann::json*> sole_field(const nlohmann::json& doc, const std::string& field,
                                                nlohmann::json::value_t type,
                                                const std::string& shape) {
  using Result = Parsed<const nlohmann::json*>;
  if (!doc.is_object() || !doc.contains(field) || doc.at(field).type() != type) {
    return Result::fail(shape);
  }
  for (const auto& [key, value] : doc.items()) {
    if (key != field) return Result::fail("unknown field \"" + key + "\" beside \"" + field + "\"");
  }
  return Result::ok(&doc.at(field));
}

}  // namespace standin
