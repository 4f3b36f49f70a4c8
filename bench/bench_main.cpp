// Benchmarks of the per-cycle work that grows with zone size. Run: scripts/bench.
//
//   parse/*     the desired-state parser versus yaml-cpp's own tree (YAML::Load), which the
//               parser avoids building: the ratio is the point, not the absolute time
//   plan/*      the diff of a full zone (3,500 live) against its desired state
//   list/*      reading a full zone's generation-1 listing (3,500 mappings, as the API writes
//               them) into its mappings
//   chunk/*     splitting a plan into batch deletes
#include <benchmark/benchmark.h>
#include <yaml-cpp/yaml.h>

#include "cloudflare/api_parse.h"
#include "config/desired_state_parser.h"
#include "desired_fixture.h"
#include "model/plan.h"

namespace {

const std::string& big_file() {
  static const std::string text = orc::fixtures::big_desired_state(35, 3500);
  return text;
}

// Parses the big file with `parse` in every iteration; the report says bytes per second.
template <typename Parse>
void parse_big_file(benchmark::State& state, Parse parse) {
  for (auto _ : state) {
    auto parsed = parse(big_file());
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * big_file().size()));
}

void BM_ParseDesiredState(benchmark::State& state) {
  parse_big_file(state, [](const std::string& text) {
    return orc::parse_desired_state(text, "desired.yaml");
  });
}
BENCHMARK(BM_ParseDesiredState)
    ->Name("parse/origin_reconciler_35x3500")
    ->Unit(benchmark::kMillisecond);

// Baseline: only building yaml-cpp's node tree, with no validation at all.
void BM_YamlCppLoad(benchmark::State& state) {
  parse_big_file(state, [](const std::string& text) { return YAML::Load(text); });
}
BENCHMARK(BM_YamlCppLoad)
    ->Name("parse/yaml_cpp_load_baseline_35x3500")
    ->Unit(benchmark::kMillisecond);

void BM_PlanZone(benchmark::State& state) {
  const auto stale = static_cast<int>(state.range(0));
  std::vector<orc::Mapping> live;
  orc::DesiredZone desired;
  desired.zone_id = "023e105f4ecef8ad9ca31a8372d0c353";
  for (int i = 0; i < 3500; ++i) {
    const std::string ip = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    live.push_back({ip, "aws", "us-east-1"});
    if (i >= stale) desired.origins.push_back({*orc::parse_origin_key(ip), {}, {}});
  }
  for (auto _ : state) {
    auto plan = orc::plan_zone(live, desired, orc::Policy::kPrune);
    benchmark::DoNotOptimize(plan);
  }
}
BENCHMARK(BM_PlanZone)->Name("plan/3500_live")->Arg(0)->Arg(1050)->Unit(benchmark::kMicrosecond);

void BM_ParseListAnswer(benchmark::State& state) {
  std::string body = R"({"errors":[],"messages":[],"result":{"editable":true,)"
                     R"("id":"origin_public_cloud_region","modified_on":"2026-12-07T22:32:11Z",)"
                     R"("value":[)";
  for (int i = 0; i < 3500; ++i) {
    if (i > 0) body += ',';
    body += R"({"modified_on":"2026-12-07T22:32:11Z","origin-ip":"10.0.)" +
            std::to_string(i / 256) + "." + std::to_string(i % 256) +
            R"(","region":"us-east-1","vendor":"aws"})";
  }
  body += R"(]},"success":true})";
  for (auto _ : state) {
    auto answer = orc::parse_list_answer(body, "origin-ip", orc::ListShape::kResultValue);
    if (!answer.usable || answer.mappings.size() != 3500) state.SkipWithError("not read");
    benchmark::DoNotOptimize(answer);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_ParseListAnswer)->Name("list/3500_cache_v1")->Unit(benchmark::kMicrosecond);

void BM_Chunk(benchmark::State& state) {
  std::vector<std::string> ips(3500, "2001:db8::1234");
  for (auto _ : state) {
    auto chunks = orc::chunk(ips, 100);
    benchmark::DoNotOptimize(chunks);
  }
}
BENCHMARK(BM_Chunk)->Name("chunk/3500_by_100")->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
