// The names metrics labels, logs, /healthz, plan files and configuration values use: each
// table's names, byte for byte, and that each reads back.
#include <gtest/gtest.h>

#include "base/cancellation.h"
#include "base/log_fields.h"
#include "config/config.h"
#include "enum_names_check.h"
#include "kube/event.h"
#include "model/api_flavor.h"
#include "model/plan_file.h"
#include "model/policy.h"
#include "reconcile/reconciler.h"
#include "reconcile/zone_api.h"
#include "service/desired_condition.h"

namespace orc {
namespace {

using testing::expect_enum_names;

TEST(EnumNames, Operation) {
  expect_enum_names(
      kOperationNames,
      {"list", "batch_delete", "get", "batch_upsert", "supported_regions", "zone_lookup"},
      [](Operation v) { return to_string(v); });
}

TEST(EnumNames, RetryReason) {
  expect_enum_names(kRetryReasonNames, {"rate_limited", "server_error", "transport"},
                    [](RetryReason v) { return to_string(v); });
}

TEST(EnumNames, ApiFlavor) {
  expect_enum_names(kApiFlavorNames, {"cache-v1", "origin-v2"},
                    [](ApiFlavor v) { return to_string(v); });
  EXPECT_EQ(parse_api_flavor("origin-v2"), ApiFlavor::kOriginV2);
  EXPECT_EQ(parse_api_flavor("origin_v2"), std::nullopt);
}

TEST(EnumNames, Policy) {
  expect_enum_names(kPolicyNames, {"prune", "sync"}, [](Policy v) { return to_string(v); });
  EXPECT_EQ(parse_policy("sync"), Policy::kSync);
  EXPECT_EQ(parse_policy("Sync"), std::nullopt);
}

TEST(EnumNames, StopReason) {
  expect_enum_names(kStopReasonNames, {"shutting down", "this instance is no longer the leader"},
                    [](StopReason v) { return describe(v); });
}

TEST(EnumNames, ZoneOutcome) {
  expect_enum_names(kZoneOutcomeNames,
                    {"success", "failure", "blocked", "dry_run", "interrupted", "suspended"},
                    [](ZoneOutcome v) { return to_string(v); });
}

TEST(EnumNames, PlanZoneStatus) {
  expect_enum_names(kPlanZoneStatusNames, {"planned", "blocked", "failed"},
                    [](PlanZoneStatus v) { return to_string(v); });
}

TEST(EnumNames, LogFormat) {
  expect_enum_names(kLogFormatNames, {"auto", "text", "json", "journal"},
                    [](LogFormat v) { return enum_name(kLogFormatNames, v); });
}

TEST(EnumNames, LogField) {
  expect_enum_names(kLogFieldNames, {"ZONE", "OPERATION"},
                    [](LogField v) { return enum_name(kLogFieldNames, v); });
}

TEST(EnumNames, ZoneSeriesMode) {
  expect_enum_names(kZoneSeriesModeNames, {"all", "failing", "none"},
                    [](ZoneSeriesMode v) { return to_string(v); });
}

TEST(EnumNames, EventType) {
  expect_enum_names(kEventTypeNames, {"Normal", "Warning"},
                    [](EventType v) { return to_string(v); });
}

TEST(EnumNames, DesiredCondition) {
  expect_enum_names(kDesiredConditionNames, {"valid", "held", "invalid", "unreadable"},
                    [](DesiredCondition v) { return to_string(v); });
}

}  // namespace
}  // namespace orc
