#include "service/cycle_factory.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <utility>

#include "reconcile/reviewed_plan.h"

namespace orc {

CycleFactory::CycleFactory(const Config& config, const Credentials& credentials, bool dry_run,
                           const OnceOutput& output, std::vector<std::string> force_zones,
                           bool force, CycleEdges edges)
    : config_(config),
      credentials_(credentials),
      output_(output),
      edges_(edges),
      mode_(dry_run           ? CycleMode::kDryRun
            : output.reviewed ? CycleMode::kReviewed
                              : CycleMode::kApply),
      settings_{.max_delete_fraction = config.reconcile.max_delete_fraction,
                .force = force,
                .concurrency = config.reconcile.concurrency,
                .policy = config.reconcile.policy,
                .max_update_fraction = config.reconcile.max_update_fraction,
                .force_zones = std::move(force_zones),
                .approved_zones =
                    output.reviewed ? approved_zones(*output.reviewed) : std::vector<std::string>{},
                .freeze = config.reconcile.suspend,
                // Only a plan document (--output json|markdown, --plan-out) or a review
                // (--apply-plan) lists an applied zone's deletes; the daemon and --once's text
                // keep their number.
                .keep_sent_deletes = output.format != OutputFormat::kText ||
                                     !output.plan_out.empty() || output.reviewed != nullptr} {}

CycleReport CycleFactory::run(Cancellation& cycle, ZoneQueue& queue) const {
  const StopView stop(cycle);  // its reason goes into the errors made where it is seen
  auto leading_or_abandon = [this, &cycle] {
    if (edges_.leadership.leading()) return true;
    if (cycle.request_stop(StopReason::kNotLeader)) {
      spdlog::warn("no longer the leader: abandoning this cycle; no further request is sent");
    }
    return false;
  };
  RequestExecutor executor({edges_.http, edges_.limiter, edges_.sleeper, edges_.random,
                            edges_.clock, edges_.api_observer, stop, leading_or_abandon},
                           config_.reconcile.retry, config_.cloudflare.request_timeout);
  const auto api = make_zone_api(config_.cloudflare.api_flavor, config_.cloudflare.api_base,
                                 credentials_, config_.cloudflare.page_size, executor);
  ChangeSetApplier change_applier(*api, static_cast<std::size_t>(config_.reconcile.batch_size),
                                  stop);
  DryRunApplier dry_run_applier;
  std::optional<ReviewedPlanApplier> reviewed_applier;
  PlanApplier* applier = &change_applier;
  switch (mode_) {
    case CycleMode::kApply:
      break;
    case CycleMode::kDryRun:
      applier = &dry_run_applier;
      break;
    case CycleMode::kReviewed:
      applier = &reviewed_applier.emplace(change_applier, *output_.reviewed);
      break;
  }
  Reconciler reconciler(*api, *applier, edges_.clock, stop, edges_.observer);
  reconciler.remember_listings(edges_.listings);
  return reconciler.run_cycle(queue, settings_);
}

}  // namespace orc
