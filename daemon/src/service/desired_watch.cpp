#include "service/desired_watch.h"

#include <cstdio>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "base/sha256.h"
#include "service/desired_file.h"

namespace orc {

namespace {

// A directory's files as one byte string for its checksum: each file's name, size and bytes.
std::string bundle_of(const FileContents& read) {
  std::string out;
  std::size_t at = 0;
  for (const auto& part : read.parts) {
    out += part.path.filename().string() + '\0' + std::to_string(part.size) + '\0';
    out.append(read.text, at, part.size);
    at += part.size;
  }
  return out;
}

// The version hash of a digest: its first 8 bytes.
std::uint64_t hash_of(const Sha256Digest& digest) {
  std::uint64_t out = 0;
  for (std::size_t i = 0; i < 8; ++i) out = out << 8 | digest[i];
  return out;
}

}  // namespace

std::uint64_t content_hash(std::string_view text) {
  return hash_of(sha256(text));
}

FileVersion version_of(const FileContents& read) {
  FileVersion v;
  v.stamp = read.stamp;
  v.hash = content_hash(read.text);
  // A directory: which file holds which bytes is part of the version too.
  for (const auto& part : read.parts) {
    v.hash = v.hash * 1000003u ^ content_hash(part.path.filename().string()) ^ part.size;
  }
  return v;
}

DesiredState parse_desired_contents(const FileContents& read, const std::filesystem::path& path) {
  if (read.parts.empty()) return parse_desired_state(read.text, path);
  std::vector<DesiredFilePart> files;
  std::size_t at = 0;
  for (const auto& part : read.parts) {
    files.push_back({part.path, std::string_view(read.text).substr(at, part.size)});
    at += part.size;
  }
  return parse_desired_files(files);
}

DesiredFile read_desired_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) {
    // One file: parsed as it streams, its text never held beside the state.
    LoadedDesiredState loaded = load_desired_state(path);
    DesiredFile file;
    file.version = {loaded.stamp, hash_of(loaded.sha256)};  // content_hash of the same bytes
    file.sha256 = "sha256:" + to_hex(loaded.sha256);
    file.state = std::move(loaded.state);
    return file;
  }
  auto read = desired_access(path)->read();
  if (!read.ok()) {
    throw DesiredStateError(path.string() + ": cannot read: " + read.error().message);
  }
  DesiredFile file;
  file.version = version_of(*read);
  // A plan names the bytes it was made from: for a directory, every file's name and bytes.
  file.sha256 = "sha256:" + sha256_hex(bundle_of(*read));
  file.state = parse_desired_contents(*read, path);
  return file;
}

DesiredWatch::DesiredWatch(Millis settle_period, Millis confirm_period, FileVersion in_force)
    : settle_(settle_period), confirm_(confirm_period), in_force_(in_force), last_seen_(in_force) {}

bool DesiredWatch::worth_reading(const FileStamp& stamp, MonoTime now) const {
  if (!last_seen_ || last_seen_->stamp != stamp) return true;
  const auto when = due();
  return when && now >= *when;
}

DesiredWatch::Step DesiredWatch::observe(const FileVersion& seen, MonoTime now) {
  const std::optional<FileVersion> last = last_seen_;
  last_seen_ = seen;

  if (seen.hash == in_force_.hash) {
    // Same content as the state in use (a touch, a change undone, the file back after it was
    // lost): nothing to reload, but whatever was pending is void.
    const bool was_elsewhere =
        !last || last->hash != in_force_.hash || settling_ || held_ || rejected_;
    in_force_ = seen;
    settling_.reset();
    held_.reset();
    rejected_.reset();
    return was_elsewhere ? Step::kBackInForce : Step::kNothing;
  }

  if (held_) {
    if (held_->version == seen) {
      if (now - held_->since >= confirm_) {
        in_force_ = seen;
        held_.reset();
        return Step::kConfirmed;
      }
      return Step::kStillHeld;
    }
    // Edited again while held: the newer version starts over.
    held_.reset();
    settling_ = Pending{seen, now};
    return Step::kHeldReplaced;
  }

  if (settling_ && settling_->version == seen) {
    return now - settling_->since >= settle_ ? Step::kJudge : Step::kSettling;
  }
  if (!settling_ && rejected_ && *rejected_ == seen) return Step::kNothing;  // reported once

  settling_ = Pending{seen, now};
  return Step::kSettling;
}

DesiredWatch::Verdict DesiredWatch::judged(bool valid, bool removes_too_much, MonoTime now) {
  if (!settling_) return Verdict::kReject;  // not asked to judge: take nothing
  const FileVersion version = settling_->version;
  settling_.reset();
  if (!valid) {
    rejected_ = version;
    return Verdict::kReject;
  }
  rejected_.reset();
  if (removes_too_much) {
    held_ = Pending{version, now};
    return Verdict::kHold;
  }
  in_force_ = version;
  return Verdict::kUse;
}

void DesiredWatch::confirmed_by_operator(const FileVersion& seen, bool valid) {
  last_seen_ = seen;
  settling_.reset();
  held_.reset();
  if (valid) {
    in_force_ = seen;
    rejected_.reset();
  } else {
    rejected_ = seen;
  }
}

void DesiredWatch::lost() {
  last_seen_.reset();
  settling_.reset();
  held_.reset();
  rejected_.reset();  // when it comes back, it is judged (and reported) afresh
}

std::optional<MonoTime> DesiredWatch::held_until() const {
  if (!held_) return std::nullopt;
  return held_->since + confirm_;
}

std::optional<MonoTime> DesiredWatch::due() const {
  if (settling_) return settling_->since + settle_;
  return held_until();
}

namespace {

bool covers(const Cidr& outer, const Cidr& inner) {
  return outer.network.family == inner.network.family && inner.prefix_len >= outer.prefix_len &&
         outer.contains(inner.network);
}

// The new scope reaches addresses the old one did not. No manage_cidrs means every address.
bool widens(const std::vector<Cidr>& before, const std::vector<Cidr>& after) {
  if (before.empty()) return false;
  if (after.empty()) return true;
  for (const Cidr& n : after) {
    bool inside = false;
    for (const Cidr& o : before) {
      if (covers(o, n)) {
        inside = true;
        break;
      }
    }
    if (!inside) return true;
  }
  return false;
}

}  // namespace

std::vector<ZoneShrink> removals_beyond(const DesiredState& in_force, const DesiredState& next,
                                        double max_fraction) {
  std::unordered_map<std::string_view, const DesiredZone*> next_zones;
  for (const auto& z : next.zones) next_zones.emplace(z.zone_id, &z);

  std::vector<ZoneShrink> out;
  for (const auto& old_zone : in_force.zones) {
    const auto it = next_zones.find(old_zone.zone_id);
    if (it == next_zones.end()) continue;
    const DesiredZone& new_zone = *it->second;

    std::unordered_set<OriginKey, OriginKeyHash> kept;
    kept.reserve(new_zone.origins.size());
    for (const auto& o : new_zone.origins) kept.insert(o.ip);
    ZoneShrink s;
    s.zone_id = old_zone.zone_id;
    s.zone_name = old_zone.zone_name;
    s.before = old_zone.origins.size();
    for (const auto& o : old_zone.origins) {
      if (!kept.contains(o.ip)) ++s.removed;
    }
    s.removes_too_much =
        s.before > 0 &&
        static_cast<double>(s.removed) / static_cast<double>(s.before) > max_fraction;
    s.scope_widened = widens(old_zone.manage_cidrs, new_zone.manage_cidrs);
    if (s.removes_too_much || s.scope_widened) out.push_back(std::move(s));
  }
  return out;
}

std::string describe(const std::vector<ZoneShrink>& shrinks, std::size_t max_zones) {
  std::string out;
  for (std::size_t i = 0; i < shrinks.size() && i < max_zones; ++i) {
    const ZoneShrink& s = shrinks[i];
    if (!out.empty()) out += "; ";
    out += "zone " + s.zone_id + ": ";
    if (s.removes_too_much) {
      char pct[32];
      std::snprintf(pct, sizeof(pct), "%.1f%%",
                    100.0 * static_cast<double>(s.removed) / static_cast<double>(s.before));
      out += std::to_string(s.removed) + " of " + std::to_string(s.before) +
             " desired origins removed (" + pct + ")";
      if (s.scope_widened) out += ", and ";
    }
    if (s.scope_widened) out += "manage_cidrs widened to addresses it did not cover";
  }
  if (shrinks.size() > max_zones) {
    out += "; and " + std::to_string(shrinks.size() - max_zones) + " more zones";
  }
  return out;
}

}  // namespace orc
