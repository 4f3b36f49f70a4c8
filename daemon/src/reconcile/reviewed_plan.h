// --apply-plan: only a reviewed plan is carried out. A decorator around whatever applies plans
// (external-dns's policies are transforms of a plan; this one is a gate): for each zone, the
// change set recomputed from a fresh listing goes on to the inner applier only if it is the
// one the plan file holds for that zone (same checksum over the canonical form), or a part of
// it (what a partial application left: every change of it is one the file holds, as it is).
// Otherwise nothing is sent in that zone and the zone fails with the first change the file
// does not hold.
#pragma once

#include <string>
#include <vector>

#include "model/plan_file.h"
#include "reconcile/reconciler.h"

namespace orc {

// The zones whose changes the reviewed plan approves past the safety guards: those it shows
// blocked (a reviewer saw the changes listed as blocked and approved the plan), or every
// planned zone of a plan made with --force.
std::vector<std::string> approved_zones(const PlanDocument& reviewed);

class ReviewedPlanApplier final : public PlanApplier {
 public:
  ReviewedPlanApplier(PlanApplier& inner, const PlanDocument& reviewed)
      : inner_(inner), reviewed_(reviewed) {}
  ApplyResult apply(const std::string& zone_id, const ZonePlan& plan) override;

 private:
  PlanApplier& inner_;
  const PlanDocument& reviewed_;
};

}  // namespace orc
