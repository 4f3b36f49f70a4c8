#include "core/desired_state.h"

#include "core/source_text.h"
#include "core/yaml_progress.h"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace orc {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxDesiredStateBytes = 256u << 20;

// --- A small YAML tree -----------------------------------------------------------------------
// Built from yaml-cpp's parser events rather than with YAML::Load: the desired state can hold
// a hundred thousand origins, and yaml-cpp's own node graph costs about as much again as the
// parsing itself.

struct Node {
  enum class Kind : std::uint8_t { kNull, kScalar, kSequence, kMap };
  Kind kind = Kind::kNull;
  YAML::Mark mark;
  std::string scalar;
  std::vector<std::uint32_t> children;  // a map holds key, value, key, value, ...

  bool is_null() const { return kind == Kind::kNull; }
  bool is_scalar() const { return kind == Kind::kScalar; }
  bool is_sequence() const { return kind == Kind::kSequence; }
  bool is_map() const { return kind == Kind::kMap; }
};

struct Tree {
  std::vector<Node> nodes;
  std::vector<std::uint32_t> documents;  // the root of each document
};

class TreeBuilder final : public YAML::EventHandler {
 public:
  TreeBuilder(Tree& tree, std::string_view text) : tree_(tree), progress_(text) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    progress_.on_document_start(mark);  // yaml-cpp 0.7 loops forever on a stray ','
    anchors_.clear();
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    add(Node::Kind::kNull, mark, anchor, {});
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      throw YAML::ParserException(mark, "the referenced anchor is not defined");
    }
    attach(it->second);
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string& value) override {
    add(Node::Kind::kScalar, mark, anchor, value);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open_.push_back(add(Node::Kind::kSequence, mark, anchor, {}));
  }
  void OnSequenceEnd() override { open_.pop_back(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open_.push_back(add(Node::Kind::kMap, mark, anchor, {}));
  }
  void OnMapEnd() override { open_.pop_back(); }

 private:
  std::uint32_t add(Node::Kind kind, const YAML::Mark& mark, YAML::anchor_t anchor,
                    const std::string& scalar) {
    const auto index = static_cast<std::uint32_t>(tree_.nodes.size());
    tree_.nodes.push_back(Node{kind, mark, scalar, {}});
    if (anchor != YAML::NullAnchor) anchors_[anchor] = index;
    attach(index);
    return index;
  }
  void attach(std::uint32_t index) {
    if (open_.empty()) {
      tree_.documents.push_back(index);
    } else {
      tree_.nodes[open_.back()].children.push_back(index);
    }
  }

  Tree& tree_;
  YamlProgress progress_;
  std::vector<std::uint32_t> open_;  // the sequences and maps being filled
  std::unordered_map<YAML::anchor_t, std::uint32_t> anchors_;
};

// --- Messages --------------------------------------------------------------------------------

std::string in_quotes(std::string_view value) {
  // Built by appending: GCC 12 warns falsely (-Wrestrict) about "'" + std::string&&.
  std::string out(1, '\'');
  out += shown(value);
  out += '\'';
  return out;
}

// "'value'" for a scalar, "a map" / "a sequence" / "nothing" otherwise.
std::string describe(const Node& node) {
  switch (node.kind) {
    case Node::Kind::kScalar:
      return in_quotes(node.scalar);
    case Node::Kind::kMap:
      return "a map";
    case Node::Kind::kSequence:
      return "a sequence";
    case Node::Kind::kNull:
      break;
  }
  return "nothing";
}

// ", line 7" for a node with a position, "" otherwise.
std::string line_of(const Node& n) {
  if (n.mark.is_null() || n.mark.line < 0) return {};
  return ", line " + std::to_string(n.mark.line + 1);
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

// For "192.0.2.1/24": the network form "192.0.2.0/24" the writer probably meant.
std::optional<std::string> network_form(std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = parse_ip(text.substr(0, slash));
  if (!ip) return std::nullopt;
  const std::string_view len_text = text.substr(slash + 1);
  if (len_text.size() > 1 && len_text[0] == '0') return std::nullopt;
  int len = -1;
  const char* end = len_text.data() + len_text.size();
  const auto [ptr, ec] = std::from_chars(len_text.data(), end, len);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  const int max_len = static_cast<int>(ip->size()) * 8;
  if (len < 0 || len > max_len) return std::nullopt;
  for (int bit = len; bit < max_len; ++bit) {
    ip->bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  std::string network = to_string(*ip) + "/" + std::to_string(len);
  if (!parse_cidr(network)) return std::nullopt;
  return network;
}

// --- The parser ------------------------------------------------------------------------------
// Paths for messages ("zones[2].origins[5].ip") are built only when there is an error: callers
// pass a callable that makes one.

class DesiredStateParser {
 public:
  explicit DesiredStateParser(std::string file) : file_(std::move(file)) {}

  DesiredState parse(std::string_view text) {
    try {
      std::istringstream in{std::string(text)};
      YAML::Parser parser(in);
      TreeBuilder builder(tree_, text);
      while (parser.HandleNextDocument(builder)) {
      }
    } catch (const YAML::Exception& e) {
      std::string msg = where(file_, e.mark);
      if (!e.mark.is_null()) msg += ": column " + std::to_string(e.mark.column + 1);
      throw DesiredStateError(msg + ": invalid YAML: " + shown(e.msg));
    }
    if (tree_.documents.size() > 1) {
      throw DesiredStateError(file_ + ": holds " + std::to_string(tree_.documents.size()) +
                              " YAML documents; expected one");
    }
    if (tree_.documents.empty() || node(tree_.documents.front()).is_null()) {
      throw DesiredStateError(file_ +
                              ": no zones key (the file is empty; write 'zones: []' to manage "
                              "no zones)");
    }
    return top(node(tree_.documents.front()));
  }

 private:
  const Node& node(std::uint32_t index) const { return tree_.nodes[index]; }

  [[noreturn]] void fail(const Node& at, const std::string& path, const std::string& what) const {
    throw DesiredStateError(where(file_, mark_of(at)) + ": " + path + ": " + what);
  }
  [[noreturn]] void fail_value(const Node& value, const std::string& path,
                               const std::string& what) const {
    fail(value, path, what + " (got " + describe(value) + ")");
  }

  // A null value has no position of its own (yaml-cpp marks it with the next token's): messages
  // about a null map value point at its key, those about a null sequence item name no line.
  YAML::Mark mark_of(const Node& n) const { return n.is_null() ? key_mark_ : n.mark; }

  // Calls f(name, key, value) for each entry of a map, rejecting non-string and repeated keys.
  // path() is the map's own path, "" for the top level.
  template <typename PathFn, typename F>
  void for_each_key(const Node& map, PathFn&& path, F&& f) {
    // Every map here has at most three known keys and f rejects any other, so a fourth
    // distinct name never gets this far.
    std::array<const std::string*, 4> seen{};
    std::size_t seen_count = 0;
    key_mark_ = map.mark;
    for (std::size_t i = 0; i + 1 < map.children.size(); i += 2) {
      const Node& key = node(map.children[i]);
      const Node& value = node(map.children[i + 1]);
      if (!key.is_scalar()) {
        const std::string p = path();
        fail_value(key, p.empty() ? "top level" : p, "keys must be strings");
      }
      const std::string& name = key.scalar;
      for (std::size_t s = 0; s < seen_count; ++s) {
        if (*seen[s] == name) {
          const std::string p = path();
          fail(key, p.empty() ? shown(name) : p + "." + shown(name), "appears twice");
        }
      }
      if (seen_count < seen.size()) seen[seen_count++] = &name;
      key_mark_ = key.mark;
      f(name, key, value);
    }
  }

  DesiredState top(const Node& root) {
    if (!root.is_map()) fail_value(root, "top level", "must be a map with the key zones");
    const Node* zones = nullptr;
    for_each_key(
        root, [] { return std::string(); },
        [&](const std::string& name, const Node& key, const Node& value) {
          if (name != "zones") fail(key, shown(name), "unknown key (the only key is zones)");
          zones = &value;
        });
    if (zones == nullptr) fail(root, "top level", "no zones key");
    if (!zones->is_sequence()) fail_value(*zones, "zones", "must be a sequence");

    DesiredState state;
    state.zones.reserve(zones->children.size());
    // zone id -> (index, spelling as written)
    std::unordered_map<std::string, std::pair<std::size_t, const std::string*>> seen;
    seen.reserve(zones->children.size());
    for (std::size_t i = 0; i < zones->children.size(); ++i) {
      key_mark_ = YAML::Mark::null_mark();
      const Node* id_node = nullptr;
      DesiredZone zone = parse_zone(node(zones->children[i]), i, id_node);
      const auto [it, inserted] = seen.try_emplace(zone.zone_id, i, &id_node->scalar);
      if (!inserted) {
        const std::string& written = id_node->scalar;
        const auto& [first, first_written] = it->second;
        const std::string what =
            *first_written == written
                ? in_quotes(written) + " is listed twice (first at " + zone_path(first) + ")"
                : in_quotes(written) + " is the same zone as " + in_quotes(*first_written) +
                      " at " + zone_path(first);
        fail(*id_node, zone_path(i) + ".zone_id", what);
      }
      state.zones.push_back(std::move(zone));
    }
    return state;
  }

  // Sets id_node to the zone_id scalar (for the duplicate-zone message).
  DesiredZone parse_zone(const Node& n, std::size_t i, const Node*& id_node) {
    const auto path = [i] { return zone_path(i); };
    if (!n.is_map()) fail_value(n, path(), "must be a map with zone_id and origins");
    DesiredZone zone;
    bool has_origins = false;
    for_each_key(n, path, [&](const std::string& name, const Node& key, const Node& value) {
      if (name == "zone_id") {
        zone.zone_id = parse_zone_id(value, i);
        id_node = &value;
      } else if (name == "origins") {
        parse_origins(value, i, zone);
        has_origins = true;
      } else if (name == "manage_cidrs") {
        parse_cidrs(value, i, zone);
      } else if (name == "policy") {
        // The zone's own policy (policy.h), over reconcile.policy.
        zone.policy = value.is_scalar() ? parse_policy(value.scalar) : std::nullopt;
        if (!zone.policy) fail_value(value, path() + ".policy", "must be prune or sync");
      } else {
        fail(key, path() + "." + shown(name),
             "unknown key (a zone has zone_id, origins, manage_cidrs and policy)");
      }
    });
    if (id_node == nullptr) fail(n, path(), "missing zone_id");
    if (!has_origins) {
      fail(n, path(),
           "missing origins (write 'origins: []' for a zone that should have no mappings)");
    }
    return zone;
  }

  std::string parse_zone_id(const Node& v, std::size_t i) {
    if (!v.is_scalar()) {
      fail_value(v, zone_path(i) + ".zone_id", "must be a zone id (32 hexadecimal characters)");
    }
    std::string id = v.scalar;
    bool ok = id.size() == 32;
    for (char& c : id) {
      if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) ok = false;
    }
    if (!ok) {
      fail(v, zone_path(i) + ".zone_id",
           in_quotes(v.scalar) + " is not a zone id (32 hexadecimal characters)");
    }
    return id;
  }

  void parse_origins(const Node& list, std::size_t zi, DesiredZone& zone) {
    if (!list.is_sequence()) fail_value(list, zone_path(zi) + ".origins", "must be a sequence");
    zone.origins.reserve(list.children.size());
    // canonical origin ip -> (index, the scalar as written)
    std::unordered_map<std::string, std::pair<std::size_t, const Node*>> seen;
    seen.reserve(list.children.size());
    for (std::size_t j = 0; j < list.children.size(); ++j) {
      key_mark_ = YAML::Mark::null_mark();
      const Node* ip_node = nullptr;
      DesiredOrigin origin = parse_origin(node(list.children[j]), zi, j, ip_node);
      const auto [it, inserted] = seen.try_emplace(origin.ip, j, ip_node);
      if (!inserted) {
        // Both places, by path and line: the first may be far up a long file.
        const std::string& written = ip_node->scalar;
        const auto& [first, first_node] = it->second;
        const std::string first_at = origin_path(zi, first) + line_of(*first_node);
        const std::string what =
            first_node->scalar == written
                ? in_quotes(written) + " is listed twice (first at " + first_at + ")"
                : in_quotes(written) + " is the same address as " + in_quotes(first_node->scalar) +
                      " at " + first_at + " (both are " + origin.ip + ")";
        fail(*ip_node, origin_path(zi, j), what);
      }
      zone.origins.push_back(std::move(origin));
    }
  }

  // Sets ip_node to the scalar holding the address (for the duplicate-origin message).
  DesiredOrigin parse_origin(const Node& item, std::size_t zi, std::size_t oj,
                             const Node*& ip_node) {
    const auto path = [zi, oj] { return origin_path(zi, oj); };
    DesiredOrigin origin;
    if (item.is_scalar()) {
      origin.ip = parse_address(item, path);
      ip_node = &item;
      return origin;
    }
    if (!item.is_map()) {
      fail_value(item, path(), "must be an IP address or a map with ip, vendor and region");
    }
    const Node* region_node = nullptr;
    for_each_key(item, path, [&](const std::string& name, const Node& key, const Node& value) {
      if (name == "ip") {
        origin.ip = parse_address(value, [&] { return path() + ".ip"; });
        ip_node = &value;
      } else if (name == "vendor") {
        if (!value.is_scalar() || !is_vendor(value.scalar)) {
          fail_value(value, path() + ".vendor", "must be aws, azure, gcp or oci");
        }
        origin.vendor = value.scalar;
      } else if (name == "region") {
        if (!value.is_scalar() || value.scalar.empty()) {
          fail_value(value, path() + ".region", "must be a non-empty string");
        }
        origin.region = value.scalar;
        region_node = &value;
      } else {
        fail(key, path() + "." + shown(name), "unknown key (an origin has ip, vendor and region)");
      }
    });
    if (ip_node == nullptr) fail(item, path(), "missing ip");
    if (origin.region && !origin.vendor) {
      fail_value(*region_node, path() + ".region", "needs a vendor as well");
    }
    return origin;
  }

  template <typename PathFn>
  std::string parse_address(const Node& v, PathFn&& path) {
    if (!v.is_scalar()) fail_value(v, path(), "must be an IPv4 or IPv6 address");
    auto ip = canonical_origin_ip(v.scalar);  // ::ffff:192.0.2.1 is 192.0.2.1
    if (!ip) fail(v, path(), in_quotes(v.scalar) + " is not an IPv4 or IPv6 address");
    return std::move(*ip);
  }

  void parse_cidrs(const Node& list, std::size_t zi, DesiredZone& zone) {
    const std::string path = zone_path(zi) + ".manage_cidrs";  // once per zone: cheap
    if (!list.is_sequence()) fail_value(list, path, "must be a sequence of CIDR ranges");
    if (list.children.empty()) {
      // An empty list would mean "every address is in scope", the opposite of what it reads as.
      fail(list, path,
           "must not be empty (leave manage_cidrs out to manage every address of the zone)");
    }
    zone.manage_cidrs.reserve(list.children.size());
    for (std::size_t k = 0; k < list.children.size(); ++k) {
      key_mark_ = YAML::Mark::null_mark();
      const Node& item = node(list.children[k]);
      const std::string item_path = path + "[" + std::to_string(k) + "]";
      if (!item.is_scalar()) fail_value(item, item_path, "must be a CIDR range");
      auto cidr = parse_cidr(item.scalar);
      if (!cidr) {
        if (auto network = network_form(item.scalar)) {
          fail(item, item_path,
               in_quotes(item.scalar) + " has host bits set; write the network form " +
                   in_quotes(*network));
        }
        fail(item, item_path,
             in_quotes(item.scalar) + " is not a CIDR range like 192.0.2.0/24 or 2001:db8::/32");
      }
      zone.manage_cidrs.push_back(unmapped(*cidr));  // ::ffff:10.0.0.0/104 is 10.0.0.0/8
    }
  }

  std::string file_;
  Tree tree_;
  YAML::Mark key_mark_ = YAML::Mark::null_mark();  // the key whose value is being parsed
};

}  // namespace

DesiredState parse_desired_state(std::string_view text, const std::filesystem::path& path) {
  return DesiredStateParser(path.string()).parse(text);
}

DesiredState load_desired_state(const std::filesystem::path& path) {
  std::string text;
  std::string error;
  if (!read_file(path, kMaxDesiredStateBytes, text, error)) {
    throw DesiredStateError(path.string() + ": cannot read: " + error);
  }
  return parse_desired_state(text, path);
}

}  // namespace orc
