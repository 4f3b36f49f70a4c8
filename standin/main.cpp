// cf-standin: the HTTP plumbing around StandIn (service.h). Reads the start-up files, serves
// on loopback with cpp-httplib, and stops cleanly on SIGTERM or SIGINT.
#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <stop_token>
#include <thread>
#include <utility>

#include "base/clock.h"
#include "envelope.h"
#include "options.h"
#include "seed.h"
#include "service.h"

namespace {

using standin::Parsed;

constexpr std::size_t kMaxBodyBytes = 64 << 20;
constexpr std::size_t kWorkerThreads = 32;  // latency faults hold a worker while they wait
// An idle keep-alive connection holds its worker this long, and so delays shutdown as much.
constexpr time_t kKeepAliveSeconds = 1;
constexpr std::size_t kKeepAliveMaxRequests = 1000;

// Start-up problems: printed as "cf-standin: <message>", exit status 2.
struct StartupError {
  std::string message;
};

nlohmann::json read_json_file(const std::filesystem::path& path, const char* what) {
  std::ifstream in(path);
  if (!in) throw StartupError{std::string("cannot read ") + what + " " + path.string()};
  std::stringstream text;
  text << in.rdbuf();
  auto doc = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) throw StartupError{what + (" " + path.string()) + " is not valid JSON"};
  return doc;
}

template <class T>
T value_or_throw(Parsed<T> parsed, const char* what, const std::filesystem::path& path) {
  if (!parsed) throw StartupError{std::string(what) + " " + path.string() + ": " + parsed.error};
  return std::move(*parsed.value);
}

standin::Store load_seed(const std::optional<std::filesystem::path>& path,
                         const orc::Clock& clock) {
  if (!path) return {};
  return value_or_throw(standin::parse_seed(read_json_file(*path, "seed"), clock.wall()), "seed",
                        *path);
}

// {"<zone id>": "example.com", ...}
standin::ZoneNames load_zone_names(const std::optional<std::filesystem::path>& path) {
  if (!path) return {};
  const auto doc = read_json_file(*path, "zone names file");
  standin::ZoneNames names;
  if (!doc.is_object()) throw StartupError{"zone names file " + path->string() + ": not an object"};
  for (const auto& [id, name] : doc.items()) {
    if (!standin::is_valid_zone_id(id) || !name.is_string()) {
      throw StartupError{"zone names file " + path->string() + ": \"" + id +
                         "\" must be a zone id with a name"};
    }
    names.emplace(id, name.get<std::string>());
  }
  return names;
}

standin::FaultPlan load_faults(const std::optional<std::filesystem::path>& path) {
  if (!path) return {};
  return value_or_throw(standin::FaultPlan::parse(read_json_file(*path, "fault file")),
                        "fault file", *path);
}

// Written to PATH.tmp, then renamed, so a reader never sees a partial number.
void write_port_file(const std::filesystem::path& path, int port) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << '\n';
    if (!out.flush()) throw StartupError{"cannot write port file " + tmp.string()};
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw StartupError{"cannot rename " + tmp.string() + ": " + ec.message()};
}

standin::HttpCall to_call(const httplib::Request& req) {
  return {req.method,
          req.target,
          {req.get_header_value("Authorization"), req.get_header_value("X-Auth-Email"),
           req.get_header_value("X-Auth-Key")},
          req.body};
}

// Answers go out uncompressed whatever the client accepts. cpp-httplib compresses a plain body
// for any client that asks (brotli at its slowest level first: 100-190 ms of the stand-in's CPU
// per 100-mapping page, against under 1 ms uncompressed), which made the stand-in, not the
// client, the cost in every benchmark. A body given with its length through a content provider
// is written as it is.
void send(standin::HttpAnswer answer, httplib::Response& res) {
  res.status = answer.status;
  for (const auto& [name, value] : answer.headers) res.set_header(name, value);
  if (answer.body.empty()) {
    res.set_content(answer.body, answer.content_type);
    return;
  }
  auto body = std::make_shared<const std::string>(std::move(answer.body));
  res.set_content_provider(body->size(), answer.content_type,
                           [body](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                             return sink.write(body->data() + offset,
                                               std::min(length, body->size() - offset));
                           });
}

void route_everything(httplib::Server& server, const httplib::Server::Handler& handler) {
  const std::string any = ".*";
  server.Get(any, handler);
  server.Post(any, handler);
  server.Put(any, handler);
  server.Patch(any, handler);
  server.Delete(any, handler);
  server.Options(any, handler);
}

// Serves until SIGTERM or SIGINT; returns the exit status. `stop` cuts the service's waits short.
int serve(standin::StandIn& service, const standin::Options& options, std::stop_source& stop) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  // Blocked here, before any thread starts, so only the sigwait below receives them.
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  server.set_payload_max_length(kMaxBodyBytes);
  server.set_keep_alive_timeout(kKeepAliveSeconds);
  server.set_keep_alive_max_count(kKeepAliveMaxRequests);
  // An answer goes out in two writes (head, body): without TCP_NODELAY the body waits for the
  // client's delayed ACK of the head, 40 ms per request on a kept-alive connection (measured
  // with libcurl), which made every client of the stand-in look latency-bound.
  server.set_tcp_nodelay(true);
  route_everything(server, [&](const httplib::Request& req, httplib::Response& res) {
    standin::HttpAnswer answer;
    try {
      answer = service.handle(to_call(req));
    } catch (const std::exception& e) {
      answer = {500, standin::to_text(standin::error_envelope({500, 1141, e.what()}))};
    }
    send(std::move(answer), res);
  });

  const auto& listen = options.listen;
  const int port = listen.port == 0 ? server.bind_to_any_port(listen.host)
                   : server.bind_to_port(listen.host, listen.port) ? listen.port
                                                                   : -1;
  if (port < 0) {
    std::cerr << "cf-standin: cannot listen on " << listen.to_string(listen.port) << "\n";
    return 1;
  }
  if (options.port_file) write_port_file(*options.port_file, port);
  std::cerr << "cf-standin listening on " << listen.to_string(static_cast<std::uint16_t>(port))
            << " (zones: " << service.zone_count() << ", mappings: " << service.mapping_count()
            << ")" << std::endl;

  std::atomic<bool> stopping{false};
  std::atomic<bool> listener_failed{false};
  std::thread listener([&] {
    server.listen_after_bind();
    if (!stopping) {  // ended on its own: a failure
      listener_failed = true;
      kill(getpid(), SIGTERM);  // wakes the sigwait below
    }
  });
  // stop() only takes effect once the server runs.
  while (!server.is_running() && !listener_failed) std::this_thread::yield();

  int signal = 0;
  sigwait(&stop_signals, &signal);
  stopping = true;
  stop.request_stop();
  server.stop();
  listener.join();
  if (listener_failed) {
    std::cerr << "cf-standin: the server stopped unexpectedly\n";
    return 1;
  }
  std::cerr << "cf-standin: stopped by " << (signal == SIGINT ? "SIGINT" : "SIGTERM") << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto options = standin::parse_options({argv + 1, argv + argc}, std::getenv("CF_STANDIN_TOKEN"));
  if (!options) {
    std::cerr << "cf-standin: " << options.error << " (see --help)\n";
    return 2;
  }
  if (options.value->help) {
    std::cout << standin::usage();
    return 0;
  }
  try {
    orc::SystemClock clock;
    orc::SystemSleeper sleeper;  // latency faults wait on it
    std::stop_source stop;       // shutdown cuts those waits short
    const auto& opts = *options.value;
    std::ofstream log_file;
    if (opts.request_log) {
      log_file.open(*opts.request_log, std::ios::app);
      if (!log_file) throw StartupError{"cannot open request log " + opts.request_log->string()};
    }
    standin::RequestLog log(log_file.is_open() ? &log_file : nullptr);
    standin::StandIn service(load_seed(opts.seed, clock), load_faults(opts.faults),
                             {opts.credentials,
                              opts.rate_limit,
                              {opts.v1_empty_zone_404},
                              std::chrono::seconds(opts.rate_window_seconds),
                              {opts.rate_policy_name, opts.rate_policy_documented},
                              load_zone_names(opts.zone_names),
                              opts.deny_zone_read},
                             clock, sleeper, log, stop.get_token());
    return serve(service, opts, stop);
  } catch (const StartupError& e) {
    std::cerr << "cf-standin: " << e.message << "\n";
    return 2;
  }
}
