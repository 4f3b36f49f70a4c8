#include "reconcile/reviewed_plan.h"

namespace orc {

std::vector<std::string> approved_zones(const PlanDocument& reviewed) {
  std::vector<std::string> out;
  for (const auto& z : reviewed.zones) {
    if (z.status == PlanZoneStatus::kBlocked ||
        (reviewed.identity.force && z.status == PlanZoneStatus::kPlanned)) {
      out.push_back(z.zone_id);
    }
  }
  return out;
}

ApplyResult ReviewedPlanApplier::apply(const std::string& zone_id, const ZonePlan& plan) {
  if (Status verdict = review_zone(reviewed_, zone_id, plan.changes); !verdict.ok()) {
    ApplyResult refused;
    refused.not_reviewed = std::move(verdict).error().message;
    return refused;
  }
  return inner_.apply(zone_id, plan);
}

}  // namespace orc
