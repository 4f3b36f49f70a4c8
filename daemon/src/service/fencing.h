// Fencing: only the leader talks to Cloudflare. Both decorators ask Leadership::leading() at
// the moment it matters, which is judged on the clock (last renewal + renew_deadline):
//  - FencedHttpClient refuses a request that is about to be sent while not leading;
//  - FencedSleeper is "stopped" while not leading, so the budget, the retries, the batches and
//    the zones of a cycle all give up at once, as they do for a shutdown: the cycle is
//    abandoned, never finished by an instance that no longer leads.
#pragma once

#include <algorithm>

#include "core/clock.h"
#include "core/http.h"
#include "service/leadership.h"

namespace orc {

class FencedHttpClient final : public HttpClient {
 public:
  FencedHttpClient(HttpClient& inner, const Leadership& leadership)
      : inner_(inner), leadership_(leadership) {}
  HttpResponse perform(const HttpRequest& request, std::chrono::milliseconds timeout) override {
    if (!leadership_.leading()) {
      HttpResponse refused;
      refused.transport_error = "not sent: this instance is not the leader";
      return refused;
    }
    return inner_.perform(request, timeout);
  }

 private:
  HttpClient& inner_;
  const Leadership& leadership_;
};

class FencedSleeper final : public Sleeper {
 public:
  // Long waits are cut in `slice`s so that a lost lead ends them within one slice.
  FencedSleeper(Sleeper& stop, const Leadership& leadership,
                std::chrono::milliseconds slice = std::chrono::milliseconds(50))
      : stop_(stop), leadership_(leadership), slice_(slice) {}
  bool sleep_for(std::chrono::milliseconds d) override {
    while (d > std::chrono::milliseconds::zero()) {
      if (stop_requested()) return false;
      const auto step = std::min(d, slice_);
      if (!stop_.sleep_for(step)) return false;
      d -= step;
    }
    return !stop_requested();
  }
  bool stop_requested() const override { return stop_.stop_requested() || !leadership_.leading(); }

 private:
  Sleeper& stop_;
  const Leadership& leadership_;
  std::chrono::milliseconds slice_;
};

}  // namespace orc
