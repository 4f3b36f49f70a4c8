// Zones written by name in the desired state (`zone: example.com`): Cloudflare's
// `GET /zones?name=` (the token's Zone:Read permission) gives their ids. Resolved at start and
// on every reload, only for names not yet known; a name that does not resolve, resolves to more
// than one zone, or that the token may not read stops the desired state from being used: it
// never leads to a deletion.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/desired_state.h"
#include "reconcile/zone_api.h"

namespace orc {

struct ZoneRef {
  std::string id;
  std::string name;
  friend bool operator==(const ZoneRef&, const ZoneRef&) = default;
};

class ZoneDirectory {
 public:
  virtual ~ZoneDirectory() = default;
  // Every zone of exactly this name that the token can read (all pages).
  virtual Result<std::vector<ZoneRef>> zones_named(const std::string& name) = 0;
};

// Names resolved so far (name -> id). A name keeps its id for the life of the process.
using ZoneNameCache = std::map<std::string, std::string>;

// Gives every zone of `state` written by name its id: from `cache`, else from `directory`
// (adding it to the cache). Errors name the file and line of the name: no zone of that name
// readable with the token, two or more zones of that name, the lookup refused or failed (with
// the API's error), or a name that is the same zone as another entry of the state. On error
// `state` is unchanged.
Status resolve_zone_names(DesiredState& state, ZoneDirectory& directory, ZoneNameCache& cache);

}  // namespace orc
