#include "core/reviewed_plan.h"

namespace orc {

ApplyResult ReviewedPlanApplier::apply(const std::string& zone_id, const ZonePlan& plan) {
  if (auto why = review_zone(reviewed_, zone_id, plan.changes)) {
    ApplyResult refused;
    ApiError error;
    error.kind = ApiError::Kind::kPermanent;
    error.message = std::string(kNotReviewed) + *why;
    refused.error = std::move(error);
    return refused;
  }
  return inner_.apply(zone_id, plan);
}

}  // namespace orc
