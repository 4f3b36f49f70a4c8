#include "base/log_fields.h"

#include <cstddef>

namespace orc {

namespace {

thread_local std::array<std::string_view, kLogFieldNames.size()> fields;

std::string_view& slot(LogField field) {
  return fields[static_cast<std::size_t>(field)];
}

}  // namespace

std::string_view log_field(LogField field) {
  return slot(field);
}

ScopedLogField::ScopedLogField(LogField field, std::string_view value)
    : field_(field), previous_(slot(field)) {
  slot(field) = value;
}

ScopedLogField::~ScopedLogField() {
  slot(field_) = previous_;
}

}  // namespace orc
