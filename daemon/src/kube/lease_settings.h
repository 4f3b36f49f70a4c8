// Leader election's settings as the daemon runs them: the configuration's empty values filled
// in from the pod (start-up only).
#pragma once

#include <filesystem>
#include <string>

#include "config/config.h"
#include "kube/elector.h"
#include "kube/event.h"
#include "kube/event_client.h"
#include "kube/lease_client.h"

namespace orc {

inline constexpr const char* kPodNamespaceFile =
    "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

struct LeaseSettings {
  LeaseEndpoint endpoint;
  ElectorSettings elector;
  std::filesystem::path ca_file;
};

// namespace: leader_election.namespace, else the contents of `namespace_file`; identity:
// leader_election.identity, else $POD_NAME, else `host_name`; api_server:
// leader_election.api_server, else https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT.
// Every value taken from the pod is checked like the configuration's. Throws ConfigError
// naming the key and where the value was looked for.
LeaseSettings resolve_lease_settings(
    const Config& config, GetEnv getenv_fn, const std::string& host_name,
    const std::filesystem::path& namespace_file = kPodNamespaceFile);

// Kubernetes Events (events.enabled, or leader election): where they go and the Pod they are
// about.
struct EventSettings {
  EventEndpoint endpoint;
  std::filesystem::path ca_file;
  EventSource source;
};

// The Pod from the downward API: its namespace $POD_NAMESPACE, else the contents of
// `namespace_file` (not leader_election.namespace: the Lease may live elsewhere, Events live
// with their Pod); its name $POD_NAME, else `host_name` (a pod's host name is its name); its uid
// $POD_UID (optional: kubectl describe pod shows only Events that carry it). The API server,
// token and CA are leader election's (leader_election.api_server, else
// https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT; token_file; ca_file). Throws
// ConfigError saying what is missing and where it was looked for.
EventSettings resolve_event_settings(
    const Config& config, GetEnv getenv_fn, const std::string& host_name,
    const std::filesystem::path& namespace_file = kPodNamespaceFile);

}  // namespace orc
