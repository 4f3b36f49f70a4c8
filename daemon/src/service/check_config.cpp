#include "service/check_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <system_error>
#include <vector>

#include "base/duration.h"
#include "base/source_text.h"
#include "config/systemd_unit.h"
#include "model/api_flavor.h"
#include "model/ip.h"

namespace fs = std::filesystem;

namespace orc {

namespace {

// What the unit's LoadCredential= says when no unit is installed: the packaged unit's line.
constexpr const char* kPackagedSource = "/etc/origin-reconciler/cloudflare-api-token";

// A unit file is a few kilobytes; anything far larger is not one.
constexpr std::size_t kMaxUnitBytes = 1u << 20;

const char* no_env(const char*) {
  return nullptr;
}

// What the check found about the credential.
struct Verdict {
  std::vector<std::string> lines;     // "credentials: ..." and notes, for standard output
  std::vector<std::string> warnings;  // errors with --strict
  int status = kCheckOk;

  void refuse(std::string why) {
    lines.push_back("credentials: " + std::move(why) + " (the daemon would refuse to start)");
    status = kCheckNoCredential;
  }
};

// The credential as resolve_credentials finds it with `getenv`.
Verdict resolved(const Config& config, GetEnv getenv) {
  Verdict v;
  try {
    Credentials creds = resolve_credentials(config, getenv);
    v.lines.push_back("credentials: " + creds.source);
    v.warnings = std::move(creds.warnings);
  } catch (const ConfigError& e) {
    v.refuse(e.what());
  }
  return v;
}

// The token file `file`, which systemd reads as root and hands over as the credential; `what`
// says where its name came from.
Verdict check_source(const Config& config, const fs::path& file, const std::string& what) {
  Verdict v;
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    v.refuse(what + ": " + file.string() + " does not exist (systemd fails the start with " +
             "243/CREDENTIALS)");
    return v;
  }
  if (!S_ISREG(st.st_mode)) {
    v.refuse(what + ": " + file.string() + " is not a regular file");
    return v;
  }
  if (::access(file.c_str(), R_OK) == 0) {
    try {
      Credentials creds = read_token_credentials(config, file, what);
      v.lines.push_back("credentials: " + creds.source + ": ok");
      v.warnings = std::move(creds.warnings);
    } catch (const ConfigError& e) {
      v.refuse(e.what());
    }
    return v;
  }
  // Only root (systemd) can read it: what can be seen without reading it.
  if (st.st_size == 0) {
    v.refuse(what + ": " + file.string() + " is empty");
    return v;
  }
  char mode[8];
  std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
  if ((st.st_mode & S_IROTH) != 0) {
    v.warnings.push_back(what + " " + file.string() + ": the token is readable by every other " +
                         "user (mode " + mode + "): chmod go-rwx " + file.string());
  }
  v.lines.push_back("credentials: " + what + " " + file.string() + ": there (" +
                    std::to_string(st.st_size) + " bytes, mode " + mode + "); its content " +
                    "was not read: systemd reads it as root, run --check-config as root to " +
                    "check it too");
  return v;
}

// The unit's files, named for messages: "unit (drop-ins: a, b)".
std::string describe(const std::vector<fs::path>& files) {
  std::string out = files.front().string();
  for (std::size_t i = 1; i < files.size(); ++i) {
    out += (i == 1 ? " (drop-ins: " : ", ") + files[i].string();
  }
  return files.size() > 1 ? out + ")" : out;
}

// The credential as the unit in `files` (the unit, then its drop-ins) hands it over.
Verdict from_unit(const Config& config, const std::vector<fs::path>& files, const fs::path& root) {
  if (config.cloudflare.token_file) {
    Verdict v = resolved(config, &no_env);
    v.lines.push_back(
        "note: cloudflare.token_file comes before the unit's credential; the service runs as a "
        "dynamic user, which reads it only if every user can: leave token_file unset under "
        "systemd");
    return v;
  }
  std::vector<std::string> texts;
  for (const auto& file : files) {
    auto text = read_file(file, kMaxUnitBytes);
    if (!text.ok()) {
      Verdict v;
      v.refuse("cannot read the unit " + file.string() + ": " + text.error().message);
      return v;
    }
    texts.push_back(std::move(text->text));
  }
  const auto written = load_credential(texts, kTokenCredential);
  if (!written) {
    Verdict v;
    v.refuse("the unit " + describe(files) + " has no LoadCredential=" +
             std::string(kTokenCredential) + ", and the daemon gets no other token under it");
    return v;
  }
  const auto candidates = credential_candidates(*written, kTokenCredential, root);
  fs::path source = candidates.front();
  std::error_code ec;
  for (const auto& c : candidates) {
    if (fs::exists(c, ec)) {
      source = c;
      break;
    }
  }
  const std::string line =
      "LoadCredential=" + std::string(kTokenCredential) + (written->empty() ? "" : ":" + *written);
  return check_source(config, source,
                      "systemd credential " + std::string(kTokenCredential) + " (" + line + " in " +
                          describe(files) + ")");
}

Verdict check_credentials(const Config& config, const CheckConfigOptions& o) {
  if (o.credentials_directory) {
    if (config.cloudflare.token_file) return resolved(config, &no_env);
    return check_source(
        config, *o.credentials_directory / kTokenCredential,
        "systemd credential " + std::string(kTokenCredential) + " (--credentials-directory)");
  }
  if (o.unit) {
    std::vector<fs::path> files;
    if (o.unit->empty()) {
      files = unit_files(kUnitName, o.root);
    } else {
      files.push_back(*o.unit);
    }
    if (files.empty()) {
      Verdict v;
      v.lines.push_back("credentials: --unit: no " + std::string(kUnitName) +
                        " in /etc/systemd/system, /run/systemd/system, /lib/systemd/system or "
                        "/usr/lib/systemd/system (name the unit file: --unit PATH)");
      v.status = kCheckInvalid;
      return v;
    }
    return from_unit(config, files, o.root);
  }
  if (credentials_present(config, o.getenv)) return resolved(config, o.getenv);
  // Nothing here: under systemd the token comes from the unit's LoadCredential=.
  Verdict v;
  v.lines.push_back(
      "credentials: none in this environment (cloudflare.token_file, CLOUDFLARE_API_TOKEN, "
      "CLOUDFLARE_EMAIL with CLOUDFLARE_API_KEY, $CREDENTIALS_DIRECTORY); under systemd the "
      "unit hands the token over with LoadCredential=");
  const auto files = unit_files(kUnitName, o.root);
  Verdict unit =
      files.empty()
          ? check_source(config, o.root / fs::path(kPackagedSource).relative_path(),
                         "systemd credential " + std::string(kTokenCredential) +
                             " (LoadCredential=" + std::string(kTokenCredential) + ":" +
                             kPackagedSource + " of the packaged unit, not " + "installed here)")
          : from_unit(config, files, o.root);
  v.lines.insert(v.lines.end(), unit.lines.begin(), unit.lines.end());
  v.warnings = std::move(unit.warnings);
  v.status = unit.status;
  return v;
}

}  // namespace

int check_config(const Config& config, const DesiredState& desired,
                 const CheckConfigOptions& options, std::ostream& out, std::ostream& err) {
  out << "config " << config.path.string() << ": ok (api "
      << to_string(config.cloudflare.api_flavor) << " at " << config.cloudflare.api_base
      << ", interval " << format_duration(config.reconcile.interval) << ", batch_size "
      << config.reconcile.batch_size << ", dry_run "
      << (config.reconcile.dry_run ? "true" : "false") << ")\n";
  if (const auto warning = api_flavor_warning(config); !warning.empty()) {
    out << "warning: " << warning << "\n";
  }
  out << "desired state " << config.reconcile.desired_state.string() << ": ok, "
      << desired.zones.size() << " zones\n";
  for (const auto& z : desired.zones) {
    out << "zone " << zone_label(z) << (z.zone_name ? " (by name, its id looked up at start)" : "")
        << ": " << z.origins.size() << " origins kept, ";
    if (z.manage_cidrs.empty()) {
      out << "every live IP in scope\n";
    } else {
      out << "scope";
      for (const auto& c : z.manage_cidrs) out << " " << to_string(c);
      out << "\n";
    }
  }
  const Verdict v = check_credentials(config, options);
  for (const auto& line : v.lines) out << line << "\n";
  for (const auto& w : v.warnings) {
    if (options.strict) {
      err << "origin-reconciler: " << w << " (an error with --strict)\n";
    } else {
      out << "warning: " << w << "\n";
    }
  }
  if (options.strict && !v.warnings.empty()) return kCheckInvalid;
  return v.status;
}

}  // namespace orc
