// The Cloudflare client for work outside a reconcile cycle: resolving the desired state's zone
// names (at start and on reloads) and --export. One retrying executor over the given edges,
// under the same request budget (RateLimiter) as everything else.
#pragma once

#include <memory>
#include <stop_token>

#include "cloudflare/cloudflare_api.h"
#include "config/config.h"
#include "reconcile/zone_directory.h"

namespace orc {

class CloudflareSession {
 public:
  // `edges`: the executor's (its `may_send` is not needed here and may stay empty).
  CloudflareSession(const Config& config, const Credentials& credentials,
                    RequestExecutor::Deps edges);
  ZoneApi& zones() { return *zones_; }
  ZoneDirectory& directory() { return *directory_; }

 private:
  RequestExecutor executor_;
  std::unique_ptr<ZoneApi> zones_;
  std::unique_ptr<ZoneDirectory> directory_;
};

// An ApiObserver that counts nothing (one-off commands without metrics).
class NoApiObserver final : public ApiObserver {
 public:
  void on_request(Operation, int, double) override {}
  void on_retry(Operation, RetryReason, Millis) override {}
};

// Whether `state` names a zone whose name `cache` does not know yet (a lookup is needed).
bool needs_lookup(const DesiredState& state, const ZoneNameCache& cache);

}  // namespace orc
