#include "kube/lease_settings.h"

#include <functional>

#include "base/source_text.h"
#include "base/text.h"

namespace orc {

namespace {

std::string env(GetEnv getenv_fn, const char* name) {
  const char* v = getenv_fn(name);
  return v == nullptr ? std::string() : std::string(trim_space(v));
}

using Fail = std::function<void(const std::string& what)>;

// The pod's namespace, as the service account's namespace file says.
std::string namespace_from_file(const std::filesystem::path& namespace_file, const Fail& fail) {
  const auto read = read_file(namespace_file, 4096);
  if (!read.ok()) {
    fail("the pod's namespace cannot be read from " + namespace_file.string() + ": " +
         read.error().message);
  }
  std::string ns(trim_space(read->text));
  if (const Status checked = check_dns1123_label(ns); !checked.ok()) {
    fail(namespace_file.string() + " " + checked.error().message + " (got '" + shown(ns) + "')");
  }
  return ns;
}

// leader_election.api_server, else https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT.
std::string api_server(const LeaderElectionConfig& le, GetEnv getenv_fn, const Fail& fail) {
  if (!le.api_server.empty()) return le.api_server;
  const std::string host = env(getenv_fn, "KUBERNETES_SERVICE_HOST");
  const std::string port = env(getenv_fn, "KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    fail(
        "not set, and $KUBERNETES_SERVICE_HOST/$KUBERNETES_SERVICE_PORT are not (outside a "
        "pod, set leader_election.api_server)");
  }
  const std::string url =
      "https://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
  auto checked = check_server_url(url);
  if (!checked.ok()) {
    fail(
        "not set, and $KUBERNETES_SERVICE_HOST/$KUBERNETES_SERVICE_PORT give "
        "no usable URL: " +
        checked.error().message + " (got '" + shown(url) + "')");
  }
  return std::move(*checked);
}

}  // namespace

LeaseSettings resolve_lease_settings(const Config& config, GetEnv getenv_fn,
                                     const std::string& host_name,
                                     const std::filesystem::path& namespace_file) {
  const LeaderElectionConfig& le = config.leader_election;
  const std::string file = config.path.string();
  const auto fail = [&](const std::string& key, const std::string& what) {
    throw ConfigError(file + ": leader_election." + key + ": " + what);
  };
  LeaseSettings s;

  s.endpoint.ns = le.ns;
  if (s.endpoint.ns.empty()) {
    s.endpoint.ns = namespace_from_file(namespace_file, [&](const std::string& what) {
      fail("namespace", "not set, and " + what);
    });
  }

  s.elector.identity = le.identity;
  if (s.elector.identity.empty()) {
    const std::string pod = env(getenv_fn, "POD_NAME");
    const std::string from = pod.empty() ? "the host name" : "$POD_NAME";
    s.elector.identity = pod.empty() ? host_name : pod;
    if (const Status checked = check_lease_identity(s.elector.identity); !checked.ok()) {
      fail("identity", "not set, and " + from + " " + checked.error().message + " (got '" +
                           shown(s.elector.identity) + "')");
    }
  }

  s.endpoint.api_server =
      api_server(le, getenv_fn, [&](const std::string& what) { fail("api_server", what); });

  s.endpoint.name = le.lease_name;
  s.endpoint.token_file = le.token_file;
  s.ca_file = le.ca_file;
  s.elector.lease_duration = le.lease_duration;
  s.elector.renew_deadline = le.renew_deadline;
  s.elector.retry_period = le.retry_period;
  return s;
}

EventSettings resolve_event_settings(const Config& config, GetEnv getenv_fn,
                                     const std::string& host_name,
                                     const std::filesystem::path& namespace_file) {
  const LeaderElectionConfig& le = config.leader_election;
  const std::string file = config.path.string();
  // Events are on by events.enabled, or by leader election when that key is not written: the
  // message says which, and how to turn them off.
  const std::string why = config.events.enabled
                              ? "events.enabled is true"
                              : "events are on with leader_election.enabled (set events.enabled: "
                                "false to turn them off)";
  const auto fail = [&](const std::string& what) {
    throw ConfigError(file + ": " + why + ", but " + what);
  };
  EventSettings s;

  s.source.ns = env(getenv_fn, "POD_NAMESPACE");
  if (s.source.ns.empty()) {
    s.source.ns = namespace_from_file(namespace_file, [&](const std::string& what) {
      fail("$POD_NAMESPACE is not set and " + what);
    });
  } else if (const Status checked = check_dns1123_label(s.source.ns); !checked.ok()) {
    fail("$POD_NAMESPACE " + checked.error().message + " (got '" + shown(s.source.ns) + "')");
  }

  const std::string pod = env(getenv_fn, "POD_NAME");
  s.source.pod = pod.empty() ? host_name : pod;
  if (const Status checked = check_dns1123_subdomain(s.source.pod); !checked.ok()) {
    fail(std::string(pod.empty() ? "$POD_NAME is not set and the host name" : "$POD_NAME") +
         ", the Pod's name, " + checked.error().message + " (got '" + shown(s.source.pod) + "')");
  }

  s.source.pod_uid = env(getenv_fn, "POD_UID");
  const bool uid_ok = s.source.pod_uid.size() <= 128 && check_lease_identity(s.source.pod_uid).ok();
  if (!s.source.pod_uid.empty() && !uid_ok) {
    fail("$POD_UID must be the Pod's uid, at most 128 printable characters without spaces (got '" +
         shown(s.source.pod_uid) + "')");
  }

  s.endpoint.api_server = api_server(le, getenv_fn, [&](const std::string& what) {
    throw ConfigError(file + ": leader_election.api_server (where Events are sent): " + what);
  });
  s.endpoint.token_file = le.token_file;
  s.ca_file = le.ca_file;
  return s;
}

}  // namespace orc
