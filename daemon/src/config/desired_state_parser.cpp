#include "config/desired_state_parser.h"

#include "base/rfc3339.h"
#include "base/sha256.h"
#include "base/source_text.h"
#include "config/yaml_reader.h"
#include "model/plan_file.h"

#include <yaml-cpp/mark.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iterator>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace orc {

namespace {

// A suspension's until: an RFC 3339 time, in UTC or with an offset (rfc3339.h); the message
// says what is wrong with any other value.
WallTime until(yaml::Reader& r, const yaml::Value& v) {
  const std::string must = "must be " + std::string(kRfc3339Example);
  if (!v.is_scalar()) r.fail_value(v, must);
  const auto t = parse_rfc3339(v.text);
  if (!t.ok()) r.fail_value(v, must + ": " + t.error().message);
  return *t;
}

// ", line 7" for a position, "" for none.
std::string line_of(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return {};
  return ", line " + std::to_string(mark.line + 1);
}

std::string zone_path(std::size_t zone) {
  return "zones[" + std::to_string(zone) + "]";
}

std::string origin_path(std::size_t zone, std::size_t origin) {
  return zone_path(zone) + ".origins[" + std::to_string(origin) + "]";
}

bool is_vendor(std::string_view v) {
  return v == "aws" || v == "azure" || v == "gcp" || v == "oci";
}

// The origins of one zone, by index into its list: finds a repeated address (in canonical
// form) without a second copy of every address. Open addressing over 4-byte indexes (one
// array, no node per origin), at most half full.
class OriginIndex {
 public:
  explicit OriginIndex(const OriginList& origins) : origins_(origins) {}
  // The index of an earlier origin with the same address as origins[i], or i after adding it.
  std::size_t insert(std::size_t i) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    const OriginKey key = origins_.key(i);
    for (std::size_t s = mask_ & OriginKeyHash{}(key);; s = (s + 1) & mask_) {
      if (slots_[s] == kEmpty) {
        slots_[s] = static_cast<std::uint32_t>(i);
        ++size_;
        return i;
      }
      if (origins_.key(slots_[s]) == key) return slots_[s];
    }
  }
  // Empty, keeping its room for the next zone's list.
  void clear() {
    std::fill(slots_.begin(), slots_.end(), kEmpty);
    size_ = 0;
  }

 private:
  static constexpr std::uint32_t kEmpty = ~std::uint32_t{0};

  void grow() {
    std::vector<std::uint32_t> old = std::move(slots_);
    slots_.assign(std::max<std::size_t>(64, old.size() * 2), kEmpty);
    mask_ = slots_.size() - 1;
    size_ = 0;
    for (const std::uint32_t i : old) {
      if (i == kEmpty) continue;
      std::size_t s = mask_ & OriginKeyHash{}(origins_.key(i));
      while (slots_[s] != kEmpty) s = (s + 1) & mask_;
      slots_[s] = i;
      ++size_;
    }
  }

  const OriginList& origins_;
  std::vector<std::uint32_t> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

// --- The parser ------------------------------------------------------------------------------
// Declared as yaml_reader.h handlers; each value is checked and kept as it is read. Paths for
// messages ("zones[2].origins[5].ip") are built only when there is an error.

class DesiredStateParser {
 public:
  explicit DesiredStateParser(std::string file) : file_(file), reader_(std::move(file)) {
    document();
    zone();
    origins();
    origin();
    manage_cidrs();
    suspend();
  }

  DesiredState parse(std::string_view text) {
    const Status status = reader_.read(text, top_);
    if (!status.ok()) throw DesiredStateError(status.error().message);
    return std::move(state_);
  }

  DesiredState parse(const yaml::Source& source, const std::function<std::string()>& whole_text) {
    const Status status = reader_.read(source, top_, whole_text);
    if (!status.ok()) throw DesiredStateError(status.error().message);
    return std::move(state_);
  }

  // Nothing when the text is not JSON that YAML reads the same way, or it is in error: then a
  // fresh parser reads it as YAML (yaml_reader.h).
  std::optional<DesiredState> parse_json(const yaml::Source& source) {
    if (!reader_.read_json(source, top_)) return std::nullopt;
    return std::move(state_);
  }

 private:
  // The top level: a map with the key zones.
  void document() {
    top_.key("zones", zones_)
        .otherwise([](yaml::Reader& r, const yaml::Value& v) {
          if (v.is_null()) {
            r.fail_file("no zones key (the file is empty; write 'zones: []' to manage no zones)");
          }
          r.fail_value(v, "must be a map with the key zones");
        })
        .on_end([this](yaml::Reader& r) {
          if (!top_.seen("zones")) r.fail(top_.mark(), "", "no zones key");
        });
  }

  // zones[i]: its id, origins, manage_cidrs and policy; checked as a whole at its end.
  void zone() {
    zone_map_.key("zone_id", [this](yaml::Reader& r, const yaml::Value& v) { zone_id(r, v); })
        .key("zone", [this](yaml::Reader& r, const yaml::Value& v) { zone_name(r, v); })
        .key("origins", origins_)
        .key("manage_cidrs", cidrs_)
        .key("policy",
             [this](yaml::Reader& r, const yaml::Value& v) {
               // The zone's own policy (policy.h), over reconcile.policy.
               zone_.policy = v.is_scalar() ? parse_policy(v.text) : std::nullopt;
               if (!zone_.policy) r.fail_value(v, "must be prune or sync");
             })
        .key("max_delete_fraction",
             [this](yaml::Reader& r, const yaml::Value& v) {
               // The zone's own safety guard, over reconcile.max_delete_fraction.
               zone_.max_delete_fraction = fraction(r, v);
             })
        .key("max_update_fraction",
             [this](yaml::Reader& r, const yaml::Value& v) {
               zone_.max_update_fraction = fraction(r, v);
             })
        .key("suspend", suspend_)
        .on_begin([this](yaml::Reader&, const yaml::Value&) {
          zone_ = DesiredZone{};
          id_written_.clear();
        })
        .on_end([this](yaml::Reader& r) { end_zone(r); });
  }

  // zones[i].origins: the duplicate checks start afresh with each zone's list.
  void origins() {
    origins_.on_begin([this](yaml::Reader&, const yaml::Value&) {
      origins_read_.clear();
      index_.clear();
      lines_.clear();
      spellings_.clear();
    });
  }

  // zones[i].origins[j]: an address, or a map with ip, vendor and region.
  void origin() {
    origin_
        .key("ip",
             [this](yaml::Reader& r, const yaml::Value& v) {
               origin_.ip = address(r, v);
               origin_.ip_mark = v.mark;
               origin_.written.assign(v.text);
             })
        .key("vendor",
             [this](yaml::Reader& r, const yaml::Value& v) {
               if (!v.is_scalar() || !is_vendor(v.text)) {
                 r.fail_value(v, "must be aws, azure, gcp or oci");
               }
               origin_.vendor = v.text;
             })
        .key("region",
             [this](yaml::Reader& r, const yaml::Value& v) {
               if (!v.is_scalar() || v.text.empty()) r.fail_value(v, "must be a non-empty string");
               origin_.region = yaml::Kept(v);
             })
        .otherwise([this](yaml::Reader& r, const yaml::Value& v) {
          if (!v.is_scalar()) {
            r.fail_value(v, "must be an IP address or a map with ip, vendor and region");
          }
          origin_.reset();
          origin_.ip = address(r, v);
          origin_.ip_mark = v.mark;
          add_origin(r, v.text);  // the text outlives the call: no copy
        })
        .on_begin([this](yaml::Reader&, const yaml::Value&) { origin_.reset(); })
        .on_end([this](yaml::Reader& r) {
          if (!origin_.seen("ip")) r.fail(origin_.mark(), r.path(), "missing ip");
          if (origin_.region && !origin_.vendor) {
            r.fail_value(origin_.region->value(), r.path() + ".region", "needs a vendor as well");
          }
          add_origin(r, origin_.written);
        });
  }

  // zones[i].suspend: {reason, until}; the reason is required, so that a pause says why.
  void suspend() {
    suspend_
        .key("reason",
             [this](yaml::Reader& r, const yaml::Value& v) {
               if (!v.is_scalar() || v.text.empty()) r.fail_value(v, "must be a non-empty string");
               suspension_.reason.assign(v.text);
             })
        .key("until",
             [this](yaml::Reader& r, const yaml::Value& v) { suspension_.until = until(r, v); })
        .on_begin([this](yaml::Reader&, const yaml::Value&) { suspension_ = Suspension{}; })
        .on_end([this](yaml::Reader& r) {
          if (!suspend_.seen("reason")) {
            r.fail(suspend_.mark(), r.path(),
                   "needs a reason (suspend: {reason: \"...\", until: \"2026-12-24T00:00:00Z\"})");
          }
          zone_.suspend = suspension_;
        });
  }

  void manage_cidrs() {
    cidrs_.on_end([this](yaml::Reader& r) {
      if (cidrs_.size() == 0) {
        // An empty list would mean "every address is in scope", the opposite of what it reads
        // as.
        r.fail(cidrs_.mark(), r.path(),
               "must not be empty (leave manage_cidrs out to manage every address of the zone)");
      }
    });
  }

  // An origin map's keys, and what was read of the origin being read.
  struct OriginMap : yaml::Map {
    OriginMap() : yaml::Map({}, "(an origin has ip, vendor and region)") {}
    void reset() {
      ip = {};
      vendor.reset();
      region.reset();
    }
    OriginKey ip;
    std::string written;  // as written (messages quote it)
    YAML::Mark ip_mark;
    std::optional<std::string> vendor;
    std::optional<yaml::Kept> region;
  };

  void zone_id(yaml::Reader& r, const yaml::Value& v) {
    if (!v.is_scalar()) r.fail_value(v, "must be a zone id (32 hexadecimal characters)");
    std::string id(v.text);
    bool ok = id.size() == 32;
    for (char& c : id) {
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) ok = false;
    }
    if (!ok) {
      r.fail(v.mark, r.path(), in_quotes(v.text) + " is not a zone id (32 hexadecimal characters)");
    }
    zone_.zone_id = std::move(id);
    id_written_.assign(v.text);
    id_mark_ = v.mark;
  }

  // `zone: example.com`: the zone by name, resolved to its id before it is used.
  void zone_name(yaml::Reader& r, const yaml::Value& v) {
    std::string name(v.is_scalar() ? v.text : std::string_view());
    for (char& c : name) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    if (!name.empty() && name.back() == '.') name.pop_back();  // the root label
    if (!v.is_scalar() || !is_zone_name(name)) {
      r.fail_value(v, "must be a zone name like example.com");
    }
    zone_.zone_name = std::move(name);
    zone_.name_at = where(file_, v.mark);
    name_written_.assign(v.text);
    name_mark_ = v.mark;
  }

  void end_zone(yaml::Reader& r) {
    const std::size_t i = state_.zones.size();
    const bool by_name = zone_map_.seen("zone");
    if (by_name && zone_map_.seen("zone_id")) {
      r.fail(name_mark_, r.path() + ".zone",
             "a zone is named by zone_id or by zone, not both (zone_id " + zone_.zone_id + ")");
    }
    if (by_name) {
      const auto [it, inserted] = zone_names_.try_emplace(*zone_.zone_name, i);
      if (!inserted) {
        r.fail(
            name_mark_, r.path() + ".zone",
            in_quotes(name_written_) + " is listed twice (first at " + zone_path(it->second) + ")");
      }
    } else if (!zone_map_.seen("zone_id")) {
      r.fail(zone_map_.mark(), r.path(), "missing zone_id");
    }
    if (!zone_map_.seen("origins")) {
      r.fail(zone_map_.mark(), r.path(),
             "missing origins (write 'origins: []' for a zone that should have no mappings)");
    }
    const auto [it, inserted] = by_name ? std::pair(zone_ids_.end(), true)
                                        : zone_ids_.try_emplace(zone_.zone_id, i, id_written_);
    if (!inserted) {
      const auto& [first, first_written] = it->second;
      const std::string what =
          first_written == id_written_
              ? in_quotes(id_written_) + " is listed twice (first at " + zone_path(first) + ")"
              : in_quotes(id_written_) + " is the same zone as " + in_quotes(first_written) +
                    " at " + zone_path(first);
      r.fail(id_mark_, r.path() + ".zone_id", what);
    }
    // One allocation of the exact size per zone; the list it was read into keeps its capacity
    // for the next zone (growing a vector per zone would leave the heap fragmented).
    zone_.origins = origins_read_;
    origins_read_.clear();
    state_.zones.push_back(std::move(zone_));
  }

  static double fraction(yaml::Reader& r, const yaml::Value& v) {
    constexpr const char* kRange = "must be a number between 0 and 1";
    if (!v.is_scalar()) r.fail_value(v, kRange);
    const std::string_view s = v.text;
    double d = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (s.empty() || ptr != s.data() + s.size() || ec != std::errc() || !std::isfinite(d) ||
        !(d >= 0 && d <= 1)) {
      r.fail_value(v, kRange);
    }
    return d;
  }

  OriginKey address(yaml::Reader& r, const yaml::Value& v) {
    if (!v.is_scalar()) r.fail_value(v, "must be an IPv4 or IPv6 address");
    auto key = parse_origin_key(v.text);  // ::ffff:192.0.2.1 is 192.0.2.1
    if (!key) r.fail(v.mark, r.path(), in_quotes(v.text) + " is not an IPv4 or IPv6 address");
    return *key;
  }

  // Keeps the origin just read (`written`: its address as written), unless its address is
  // already in the zone.
  void add_origin(yaml::Reader& r, std::string_view written) {
    auto& origins = origins_read_;
    const std::size_t j = origins.size();
    origins.push_back(
        DesiredOrigin{origin_.ip, Label(origin_.vendor),
                      origin_.region ? Label(origin_.region->value().text) : Label()});
    const std::size_t first = index_.insert(j);
    if (first == j) {
      lines_.push_back(origin_.ip_mark.is_null() ? -1 : origin_.ip_mark.line);
      // An IPv4 address is taken only as written canonically (ip.h): only IPv6 is compared.
      const bool canonical =
          written.find(':') == std::string_view::npos || written == to_string(origin_.ip);
      if (!canonical) spellings_.emplace(j, std::string(written));
      return;
    }
    // Both places, by path and line: the first may be far up a long file.
    const std::string canonical = to_string(origin_.ip);
    origins.pop_back();
    const auto spelled = spellings_.find(first);
    const std::string first_written =
        spelled == spellings_.end() ? to_string(origins[first].ip) : spelled->second;
    YAML::Mark first_mark = YAML::Mark::null_mark();
    if (lines_[first] >= 0) {
      first_mark = YAML::Mark();
      first_mark.line = lines_[first];
    }
    const std::string first_at = origin_path(state_.zones.size(), first) + line_of(first_mark);
    const std::string what =
        first_written == written
            ? in_quotes(written) + " is listed twice (first at " + first_at + ")"
            : in_quotes(written) + " is the same address as " + in_quotes(first_written) + " at " +
                  first_at + " (both are " + canonical + ")";
    r.fail(origin_.ip_mark, r.path(), what);
  }

  void cidr(yaml::Reader& r, const yaml::Value& v) {
    if (!v.is_scalar()) r.fail_value(v, "must be a CIDR range");
    const auto prefix = parse_prefix(v.text);
    if (!prefix || !is_network(*prefix)) {
      if (prefix) {
        r.fail(v.mark, r.path(),
               in_quotes(v.text) + " has host bits set; write the network form " +
                   in_quotes(to_string(network_of(*prefix))));
      }
      r.fail(v.mark, r.path(),
             in_quotes(v.text) + " is not a CIDR range like 192.0.2.0/24 or 2001:db8::/32");
    }
    zone_.manage_cidrs.push_back(unmapped(*prefix));  // ::ffff:10.0.0.0/104 is 10.0.0.0/8
  }

  std::string file_;
  yaml::Reader reader_;
  DesiredState state_;

  // The handlers, from the top down.
  yaml::Map top_{{}, "(the only key is zones)"};  // the non-maps: otherwise()
  yaml::Map zone_map_{"must be a map with zone_id and origins",
                      "(a zone has zone_id or zone, origins, manage_cidrs, policy, "
                      "max_delete_fraction, max_update_fraction and suspend)"};
  yaml::Seq zones_{"must be a sequence", zone_map_};
  OriginMap origin_;
  yaml::Seq origins_{"must be a sequence", origin_};
  yaml::Scalar cidr_{[this](yaml::Reader& r, const yaml::Value& v) { cidr(r, v); }};
  yaml::Seq cidrs_{"must be a sequence of CIDR ranges", cidr_};
  yaml::Map suspend_{"must be a map with reason and until", "(suspend has reason and until)"};
  Suspension suspension_;  // the zone's suspend: being read

  // The zone being read.
  DesiredZone zone_;
  std::string id_written_;  // its zone_id as written
  YAML::Mark id_mark_;
  std::string name_written_;  // its zone (name) as written
  YAML::Mark name_mark_;
  std::unordered_map<std::string, std::size_t> zone_names_;  // name -> index
  OriginList origins_read_;                                  // its origins so far
  OriginIndex index_{origins_read_};
  std::vector<int> lines_;                                  // of each origin's address
  std::unordered_map<std::size_t, std::string> spellings_;  // addresses not written canonically
  // zone id -> (index, spelling as written)
  std::unordered_map<std::string, std::pair<std::size_t, std::string>> zone_ids_;
};

}  // namespace

std::optional<DesiredState> parse_desired_json(const yaml::Source& source,
                                               const std::filesystem::path& path) {
  return DesiredStateParser(path.string()).parse_json(source);
}

DesiredState parse_desired_state(std::string_view text, const std::filesystem::path& path) {
  if (auto json = parse_desired_json(yaml::text_source(text), path)) return std::move(*json);
  return DesiredStateParser(path.string()).parse(text);
}

bool is_desired_file_name(std::string_view name) {
  return name.size() > 5 && name.ends_with(".yaml") && name.front() != '.';
}

DesiredState parse_desired_files(const std::vector<DesiredFilePart>& files) {
  DesiredState all;
  struct Place {
    std::size_t file;
    std::size_t zone;
  };
  std::unordered_map<std::string, Place> ids;
  std::unordered_map<std::string, Place> names;
  for (std::size_t f = 0; f < files.size(); ++f) {
    DesiredState one = parse_desired_state(files[f].text, files[f].path);
    for (std::size_t i = 0; i < one.zones.size(); ++i) {
      DesiredZone& z = one.zones[i];
      auto& index = z.zone_name ? names : ids;
      const std::string& key = z.zone_name ? *z.zone_name : z.zone_id;
      const auto [it, inserted] = index.try_emplace(key, Place{f, i});
      if (!inserted) {
        const Place first = it->second;
        throw DesiredStateError(files[f].path.string() + ": " + zone_path(i) + ": zone " + key +
                                " is also in " + files[first.file].path.string() + " (" +
                                zone_path(first.zone) + "); a zone belongs to one file");
      }
      all.zones.push_back(std::move(z));
    }
  }
  return all;
}

DesiredState parse_desired_stream(const yaml::Source& source, const std::filesystem::path& path,
                                  const std::function<std::string()>& whole_text) {
  return DesiredStateParser(path.string()).parse(source, whole_text);
}

namespace {

// One reading of a desired-state file: `parse` takes its text a piece at a time, hashed as it
// goes; nothing when it gives nothing.
template <class Parse>
std::optional<LoadedDesiredState> load_with(const std::filesystem::path& path, Parse&& parse) {
  auto cannot_read = [&](const Error& e) {
    return DesiredStateError(path.string() + ": cannot read: " + e.message);
  };
  auto opened = FileStream::open(path, kMaxDesiredStateBytes);
  if (!opened.ok()) throw cannot_read(opened.error());
  FileStream& file = **opened;
  Sha256 sha256;
  const yaml::Source source = [&](char* buf, std::size_t size) {
    file.stream().read(buf, static_cast<std::streamsize>(size));
    const auto n = static_cast<std::size_t>(file.stream().gcount());
    sha256.update({buf, n});
    return n;
  };
  std::optional<LoadedDesiredState> out;
  try {
    std::optional<DesiredState> state = parse(source);
    if (state) out.emplace().state = std::move(*state);
  } catch (const DesiredStateError&) {
    // A read that failed part way ends the text early: that is the error, not what the
    // parser made of the part it saw.
    if (file.error()) throw cannot_read(*file.error());
    throw;
  }
  if (file.error()) throw cannot_read(*file.error());
  if (out) {
    out->stamp = file.stamp();
    out->sha256 = sha256.finish();
  }
  return out;
}

}  // namespace

LoadedDesiredState load_desired_state(const std::filesystem::path& path) {
  // A file written as JSON, on RapidJSON; any other, or one in error, read again as YAML.
  auto json =
      load_with(path, [&](const yaml::Source& source) { return parse_desired_json(source, path); });
  if (json) return std::move(*json);
  // Read again only to quote a syntax error.
  const std::function<std::string()> whole_text = [&] {
    auto again = read_file(path, kMaxDesiredStateBytes);
    return again.ok() ? std::move(again->text) : std::string();
  };
  return std::move(*load_with(path, [&](const yaml::Source& source) {
    return std::optional(parse_desired_stream(source, path, whole_text));
  }));
}

}  // namespace orc
