#include "service/cloudflare_session.h"

namespace orc {

CloudflareSession::CloudflareSession(const Config& config, const Credentials& credentials,
                                     RequestExecutor::Deps edges)
    : executor_(std::move(edges), config.reconcile.retry, config.cloudflare.request_timeout),
      zones_(make_zone_api(config.cloudflare.api_flavor, config.cloudflare.api_base, credentials,
                           config.cloudflare.page_size, executor_)),
      directory_(make_zone_directory(config.cloudflare.api_base, credentials, executor_)) {}

bool needs_lookup(const DesiredState& state, const ZoneNameCache& cache) {
  for (const auto& z : state.zones) {
    if (z.zone_name && !cache.contains(*z.zone_name)) return true;
  }
  return false;
}

}  // namespace orc
