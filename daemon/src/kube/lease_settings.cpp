#include "kube/lease_settings.h"

#include "base/source_text.h"
#include "base/text.h"

namespace orc {

namespace {

std::string env(GetEnv getenv_fn, const char* name) {
  const char* v = getenv_fn(name);
  return v == nullptr ? std::string() : std::string(trim_space(v));
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
    const auto read = read_file(namespace_file, 4096);
    if (!read.ok()) {
      fail("namespace", "not set, and the pod's namespace cannot be read from " +
                            namespace_file.string() + ": " + read.error().message);
    }
    s.endpoint.ns = std::string(trim_space(read->text));
    if (const Status checked = check_dns1123_label(s.endpoint.ns); !checked.ok()) {
      fail("namespace", "not set, and " + namespace_file.string() + " " + checked.error().message +
                            " (got '" + shown(s.endpoint.ns) + "')");
    }
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

  s.endpoint.api_server = le.api_server;
  if (s.endpoint.api_server.empty()) {
    const std::string host = env(getenv_fn, "KUBERNETES_SERVICE_HOST");
    const std::string port = env(getenv_fn, "KUBERNETES_SERVICE_PORT");
    if (host.empty() || port.empty()) {
      fail("api_server",
           "not set, and $KUBERNETES_SERVICE_HOST/$KUBERNETES_SERVICE_PORT are not (outside a "
           "pod, set leader_election.api_server)");
    }
    const std::string url =
        "https://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
    auto checked = check_server_url(url);
    if (!checked.ok()) {
      fail("api_server",
           "not set, and $KUBERNETES_SERVICE_HOST/$KUBERNETES_SERVICE_PORT give "
           "no usable URL: " +
               checked.error().message + " (got '" + shown(url) + "')");
    }
    s.endpoint.api_server = std::move(*checked);
  }

  s.endpoint.name = le.lease_name;
  s.endpoint.token_file = le.token_file;
  s.ca_file = le.ca_file;
  s.elector.lease_duration = le.lease_duration;
  s.elector.renew_deadline = le.renew_deadline;
  s.elector.retry_period = le.retry_period;
  return s;
}

}  // namespace orc
